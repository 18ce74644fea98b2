"""GitHub's REST API: the only module that talks to it, turning its failures into ShipyardErrors."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from wizard.errors import BadInput, ShipyardError

DEFAULT_API_URL = "https://api.github.com"
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
GH_SOURCE = "`gh auth token`"
TIMEOUT_SECONDS = 30.0
_NETWORK_HINT = "Check your internet connection (and GITHUB_API_URL if you set it), then try again."
NEW_TOKEN_HINT = (
    "Create a token at https://github.com/settings/tokens (classic: the 'repo' scope; "
    "fine-grained: 'Administration' and 'Contents' read and write), "
    "then run: export GITHUB_TOKEN=<the token>."
)


@dataclass(frozen=True)
class Token:
    """A GitHub token and where it came from; its repr never shows the value."""

    value: str = field(repr=False)
    source: str  # "GITHUB_TOKEN", "GH_TOKEN" or "`gh auth token`"

    @property
    def described(self) -> str:
        """How messages name the token: 'the token in GITHUB_TOKEN'."""
        if self.source == GH_SOURCE:
            return f"the token from {GH_SOURCE}"
        return f"the token in {self.source}"


@dataclass(frozen=True)
class Repository:
    """The parts of GitHub's repository object Shipyard uses."""

    full_name: str
    clone_url: str
    html_url: str
    private: bool
    can_push: bool


def api_url(env: Mapping[str, str] | None = None) -> str:
    """GITHUB_API_URL (GitHub Enterprise Server, tests) or github.com's API."""
    env = os.environ if env is None else env
    return (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")


def web_host(api: str) -> str:
    """The host git pushes to for this API: api.github.com -> github.com, GHES -> itself."""
    host = urlsplit(api).netloc
    return "github.com" if host == "api.github.com" else host


def find_token(env: Mapping[str, str] | None = None, api: str | None = None) -> Token:
    """GITHUB_TOKEN, else GH_TOKEN, else `gh auth token`; BadInput naming all three when none."""
    env = os.environ if env is None else env
    for name in TOKEN_VARIABLES:
        value = (env.get(name) or "").strip()
        if value:
            return Token(value, name)
    from_gh = _token_from_gh(web_host(api or api_url(env)))
    if from_gh:
        return Token(from_gh, GH_SOURCE)
    raise BadInput(
        "No GitHub token found: GITHUB_TOKEN and GH_TOKEN are not set"
        + (" and `gh auth token` gave none." if shutil.which("gh") else "."),
        hint=NEW_TOKEN_HINT + "\nOr sign in with the GitHub CLI: gh auth login.",
    )


def _token_from_gh(host: str) -> str | None:
    gh = shutil.which("gh")
    if gh is None:
        return None
    try:
        done = subprocess.run(
            [gh, "auth", "token", "--hostname", host],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    token = done.stdout.strip()
    return token if done.returncode == 0 and token else None


def basic_auth_header(token: Token) -> str:
    """The HTTP Authorization header git sends to GitHub for this token."""
    pair = base64.b64encode(f"x-access-token:{token.value}".encode()).decode("ascii")
    return f"Authorization: Basic {pair}"


class GitHub:
    """A small client for the few endpoints publishing needs."""

    def __init__(self, token: Token, api: str | None = None, timeout: float = TIMEOUT_SECONDS):
        self.token = token
        self.api = (api or api_url()).rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        # Explicit auth, so requests never swaps in credentials from ~/.netrc.
        self._session.auth = _BearerAuth(token)
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "shipyard",
            }
        )

    def login(self) -> str:
        """The login of the account the token belongs to."""
        return str(self._request("GET", "/user", purpose="check your GitHub token")["login"])

    def create_repository(
        self, owner: str, name: str, *, private: bool, is_user: bool
    ) -> Repository:
        """Create OWNER/NAME; raises NameTaken when it already exists."""
        path = "/user/repos" if is_user else f"/orgs/{owner}/repos"
        body = {"name": name, "private": private, "auto_init": False}
        data = self._request(
            "POST", path, json=body, purpose=f"create the repository {owner}/{name}", owner=owner
        )
        return _repository(data)

    def get_repository(self, owner: str, name: str) -> Repository:
        data = self._request("GET", f"/repos/{owner}/{name}", purpose=f"look up {owner}/{name}")
        return _repository(data)

    def _request(
        self, method: str, path: str, *, purpose: str, owner: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        url = self.api + path
        try:
            response = self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise ShipyardError(
                f"GitHub at {self.api} did not answer within {self.timeout:.0f} seconds.",
                hint=_NETWORK_HINT,
            ) from exc
        except requests.RequestException as exc:
            raise ShipyardError(
                f"Could not reach GitHub at {self.api} to {purpose}.",
                hint=_NETWORK_HINT,
            ) from exc
        if response.status_code >= 400:
            raise self._error(response, purpose, owner)
        try:
            data = response.json()
        except ValueError as exc:
            raise ShipyardError(
                f"GitHub at {self.api} sent an answer Shipyard cannot read (to {purpose}).",
                hint="Check GITHUB_API_URL: it should be the API address, e.g. https://api.github.com.",
            ) from exc
        if not isinstance(data, dict):
            raise ShipyardError(f"GitHub sent an unexpected answer to {purpose}.")
        return data

    def _error(self, response: requests.Response, purpose: str, owner: str | None) -> ShipyardError:
        status = response.status_code
        said = _github_message(response)
        token = self.token.described
        if status == 401:
            return BadInput(
                f"GitHub refused {token} (401 {said or 'Bad credentials'}): "
                "it is wrong, expired or revoked.",
                hint=NEW_TOKEN_HINT,
            )
        if status == 403 and response.headers.get("X-RateLimit-Remaining") == "0":
            return ShipyardError(
                f"GitHub's rate limit for {token} is used up, so Shipyard could not {purpose}.",
                hint="Wait an hour (or until the limit resets), then run the command again.",
            )
        if status == 403:
            needed = response.headers.get("X-Accepted-OAuth-Scopes", "")
            has = response.headers.get("X-OAuth-Scopes")
            scope = f" It needs the '{needed or 'repo'}' scope" + (
                f"; it has: {has or 'none'}." if has is not None else "."
            )
            return BadInput(
                f"GitHub did not allow {token} to {purpose} (403 {said or 'Forbidden'}).{scope}",
                hint=NEW_TOKEN_HINT
                + (
                    f"\nIf {owner} is an organisation, its owners must also let you create "
                    "repositories in it."
                    if owner
                    else ""
                ),
            )
        if status == 404 and owner is not None:
            return BadInput(
                f"Could not {purpose}: {owner} is neither your account nor an organisation "
                f"{token} can create repositories in (404).",
                hint="Check the spelling of the owner in --github OWNER/NAME, and that the token "
                "was granted access to that organisation.",
            )
        if status == 404:
            return BadInput(
                f"Could not {purpose}: it does not exist, or {token} cannot see it (404).",
                hint="Check the spelling in --github OWNER/NAME.",
            )
        if status == 422 and _name_taken(response):
            return NameTaken(f"Could not {purpose}: the name is already taken on GitHub (422).")
        if status == 422:
            return BadInput(
                f"GitHub would not {purpose} (422 {said or 'Unprocessable'}).",
                hint="Repository names may use letters, digits, '-', '_' and '.'; "
                "pick another with --github OWNER/NAME.",
            )
        return ShipyardError(
            f"GitHub failed to {purpose} ({status} {said or response.reason}).",
            hint="GitHub may be having trouble; check https://www.githubstatus.com and try again.",
        )


class _BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: Token) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token.value}"
        return request


class NameTaken(BadInput):
    """The repository exists already; publishing then decides whether it may be used."""


def _repository(data: Mapping[str, Any]) -> Repository:
    try:
        permissions = data.get("permissions") or {}
        return Repository(
            full_name=str(data["full_name"]),
            clone_url=str(data["clone_url"]),
            html_url=str(data.get("html_url") or data["clone_url"]),
            private=bool(data.get("private", True)),
            can_push=bool(permissions.get("push", True)),
        )
    except KeyError as exc:
        raise ShipyardError(
            f"GitHub's answer about a repository lacks '{exc.args[0]}'.",
            hint="Check GITHUB_API_URL: it should be the API address, e.g. https://api.github.com.",
        ) from exc


def _github_message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    return str(data.get("message", "")) if isinstance(data, dict) else ""


def _name_taken(response: requests.Response) -> bool:
    try:
        data = response.json()
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    for error in data.get("errors") or []:
        if isinstance(error, dict) and "already exists" in str(error.get("message", "")):
            return True
        if (
            isinstance(error, dict)
            and error.get("field") == "name"
            and error.get("code") == "custom"
        ):
            return True
    return "already exists" in str(data.get("message", ""))
