"""People and roles on a running backend, through the admin routes of Shipyard's API contract.

`GET /admin/users` lists accounts and `PUT /admin/users/{id}/roles` sets roles; an admin's
token comes from `POST /auth/login` (or, on the project's own staging, a magic link read
from its outbox). The project's staging admin is made once with the app's own command,
`python -m app create-admin`, and its credentials are kept in the git-ignored .shipyard/.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from wizard.errors import BadInput, ShipyardError

ADMIN_FILE = "admin-{target}.json"  # in the project's .shipyard/, one per staging target
STAGING_ADMIN_EMAIL = "admin@example.com"
ENV_EMAIL = "SHIPYARD_ADMIN_EMAIL"
ENV_PASSWORD = "SHIPYARD_ADMIN_PASSWORD"
ENV_TOKEN = "SHIPYARD_ADMIN_TOKEN"  # an admin's access token, for apps without password login
_TOKEN = re.compile(r"token=([A-Za-z0-9_\-\.~%]+)")


@dataclass(frozen=True)
class Admin:
    """Who signs in to change roles, and where that came from (said when it fails)."""

    email: str
    password: str
    source: str


# --- the project's staging admin -------------------------------------------------------------


def admin_file(project: Path, target: str) -> Path:
    return project / ".shipyard" / ADMIN_FILE.format(target=target)


def stored_admin(project: Path, target: str) -> Admin | None:
    path = admin_file(project, target)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Admin(str(data["email"]), str(data["password"]), str(path))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget_admin(project: Path, target: str) -> None:
    """The staging data is gone, and the admin with it."""
    admin_file(project, target).unlink(missing_ok=True)


def create_admin(
    project: Path, target: str, email: str | None = None, password: str | None = None
) -> tuple[Admin, str]:
    """Make an admin on the project's running staging with `python -m app create-admin`;
    (the admin, what the app said). Without an email, it is the staging admin, whose
    generated password is kept in .shipyard/admin-<target>.json (readable only by you)."""
    from wizard.checklist import admin as app_commands
    from wizard.checklist.results import Skip
    from wizard.staging import state_dir

    staging_admin = email is None
    email = email or STAGING_ADMIN_EMAIL
    password = password or secrets.token_urlsafe(18)
    # "--password=...": a generated password may start with "-", which argparse would
    # take for an option.
    argv = ["python", "-m", "app", "create-admin", f"--email={email}", f"--password={password}"]
    try:
        said = app_commands.run_app_command(project, target, argv)
    except Skip as exc:
        raise ShipyardError(
            f"Could not make the admin on the {target} staging: {exc.reason}.",
            hint="Start staging with `shipyard up`, then run `shipyard admin create` again.",
        ) from None
    if not staging_admin:
        return Admin(email, password, "the options given"), said.strip()
    path = state_dir(project) / ADMIN_FILE.format(target=target)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"email": email, "password": password}, handle)
    return Admin(email, password, str(path)), said.strip()


# --- the admin API ----------------------------------------------------------------------------


class People:
    """A signed-in admin's view of one backend's accounts."""

    def __init__(self, url: str, admin: Admin, timeout: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self.admin = admin
        self.client = httpx.Client(base_url=self.url, timeout=timeout, follow_redirects=False)
        self.token: str | None = None

    def __enter__(self) -> People:
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    def sign_in(self, token: str | None = None) -> None:
        """Sign the admin in with their password (or take a token got another way)."""
        if token is not None:
            self.token = token
            return
        response = self._call(
            "POST", "/auth/login", {"email": self.admin.email, "password": self.admin.password}
        )
        if response.status_code == 404:
            raise SignInFailed(
                f"{self.url} has no password login (POST /auth/login answered 404).", "no-login"
            )
        if response.status_code == 429:
            raise ShipyardError(
                f"{self.url} refused the admin's sign-in for now (429: too many tries).",
                hint="Wait a few minutes, then run the command again.",
            )
        if response.status_code != 200:
            raise SignInFailed(
                f"The admin {self.admin.email} (from {self.admin.source}) could not sign in to "
                f"{self.url}: {response.status_code} {_detail(response)}.",
                "refused",
            )
        self.token = str(response.json()["access_token"])

    def users(self, email: str | None = None) -> list[dict[str, Any]]:
        """Every account (or the one with `email`), newest first."""
        found: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"limit": 100, "offset": len(found)}
            if email is not None:
                params["email"] = email
            data = self._admin_json("GET", "/admin/users", params=params)
            items = [item for item in data.get("items") or [] if isinstance(item, dict)]
            found += items
            if not items or len(found) >= int(data.get("total") or 0):
                return found

    def person(self, email: str) -> dict[str, Any]:
        """The account with this email, or with this phone number (+44..., for apps where
        people sign in by phone)."""
        if is_phone(email):
            wanted = phone_digits(email)
            matches = [u for u in self.users() if phone_digits(str(u.get("phone") or "")) == wanted]
        else:
            matches = [
                u for u in self.users(email) if str(u.get("email") or "").lower() == email.lower()
            ]
        if not matches:
            what = "phone number" if is_phone(email) else "email"
            raise BadInput(
                f"There is no account with the {what} {email} on {self.url}.",
                hint="They sign up in your app first (or check the spelling); "
                "`shipyard users` lists everyone.",
            )
        return matches[0]

    def set_roles(self, user: dict[str, Any], roles: list[str]) -> dict[str, Any]:
        return self._admin_json("PUT", f"/admin/users/{int(user['id'])}/roles", {"roles": roles})

    def _admin_json(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = self._call(method, path, body, params)
        if response.status_code == 401:
            raise SignInFailed(f"{self.url} did not take the admin's sign-in.", "refused")
        if response.status_code == 403:
            raise ShipyardError(
                f"{self.admin.email} (from {self.admin.source}) is not an admin on {self.url}.",
                hint="Use an admin's credentials, or make one with `shipyard admin create`.",
            )
        if response.status_code == 404 and path == "/admin/users":
            raise ShipyardError(
                f"{self.url} has no GET /admin/users, so Shipyard cannot list its people.",
                hint="Re-render the project with a newer Shipyard (`shipyard update`).",
            )
        if response.status_code == 422:
            raise BadInput(f"{self.url} refused it: {_detail(response)}.")
        if response.status_code >= 400:
            raise ShipyardError(
                f"{method} {self.url}{path} answered {response.status_code} {_detail(response)}."
            )
        data = response.json()
        return data if isinstance(data, dict) else {}

    def _call(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            return self.client.request(method, path, json=body, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise ShipyardError(
                f"Could not reach {self.url}: {exc}.",
                hint="Check that the backend runs (`shipyard status`), or the --url.",
            ) from None


class SignInFailed(ShipyardError):
    """The admin could not sign in: `why` is "no-login" (no password login) or "refused"."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(
            message,
            hint="Check the admin's credentials, or make a new admin with `shipyard admin create`.",
        )
        self.why = why


def staging_session_token(project: Path, target: str, who: str) -> str | None:
    """An access token for the admin `who` (email or +phone), from the app's own
    `python -m app admin-session` inside the project's staging: how an admin signs in where
    the app has no password login (phone only, or magic link only), with no code or link
    to read and none of the app's sign-in limits used up. None when this render of the app
    has no such command (older than it)."""
    from wizard.checklist import admin as app_commands
    from wizard.checklist.results import Skip

    argv = ["python", "-m", "app", "admin-session", f"--who={who}"]
    try:
        said = app_commands.run_app_command(project, target, argv)
    except Skip as exc:
        if "invalid choice" in exc.reason:
            return None
        raise ShipyardError(
            f"Could not sign the admin {who} in on the {target} staging: {exc.reason}.",
            hint="Make sure the staging admin exists: `shipyard admin create`.",
        ) from None
    for line in reversed(said.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("access_token"):
            return str(data["access_token"])
    raise ShipyardError(f"`python -m app admin-session` on the {target} staging gave no token.")


def magic_link_token(project: Path, target: str, url: str, email: str) -> str:
    """Sign in without a password on the project's own staging: ask for a magic link, then
    read it from the staging outbox inside staging (an admin has no other way in yet)."""
    from wizard.checklist import admin as app_commands
    from wizard.checklist.results import Skip

    with httpx.Client(base_url=url, timeout=15.0) as client:
        client.post("/auth/magic-link/request", json={"email": email})
        try:
            messages = app_commands.staging_outbox(project, target)
        except Skip as exc:
            raise ShipyardError(f"Could not read the staging outbox: {exc.reason}.") from None
        for message in messages:
            if str(message.get("to", "")).lower() == email.lower():
                match = _TOKEN.search(str(message.get("body", "")))
                if match:
                    response = client.post("/auth/magic-link/verify", json={"token": match[1]})
                    if response.status_code == 200:
                        return str(response.json()["access_token"])
    raise ShipyardError(f"The admin {email} could not sign in by magic link on {url}.")


def is_phone(text: str) -> bool:
    """Whether a person was named by phone number (+ and digits, spaces allowed)."""
    return text.strip().startswith("+")


def phone_digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def with_role(user: dict[str, Any], role: str, present: bool) -> list[str]:
    roles = {str(r) for r in user.get("roles") or []}
    roles = roles | {role} if present else roles - {role}
    return sorted(roles)


def check_role(role: str, known: list[str] | None) -> None:
    """Refuse a role the spec does not define before asking the server (which refuses it too)."""
    if known is not None and role not in known:
        raise BadInput(
            f"'{role}' is not a role of this app.",
            hint=f"Use one of: {', '.join(known)} (roles: in shipyard.yaml lists them).",
        )


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return f"({detail})" if isinstance(detail, str) else ""
