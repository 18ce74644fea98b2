"""A local stand-in for GitHub: the few REST endpoints publishing uses, backed by bare repos.

It records every request so tests can assert exactly what Shipyard sent. Repositories
it creates are real bare git repositories on disk; their clone_url is the bare
repository's path, or (with ``git_over_http=True``) a smart-HTTP URL served by
``git http-backend`` that demands the token as GitHub does, so tests can prove the
push authenticates without the token ever being stored.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import git


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any = None


@dataclass
class FakeRepo:
    owner: str
    name: str
    private: bool
    path: Path


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeGitHub:
    """Run with ``with FakeGitHub(tmp_path) as fake:``; point GITHUB_API_URL at ``fake.api_url``."""

    def __init__(
        self,
        root: Path,
        *,
        tokens: dict[str, str] | None = None,
        orgs: dict[str, set[str]] | None = None,
        scopes: dict[str, str] | None = None,
        git_over_http: bool = False,
        prefix: str = "",
    ) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.tokens = dict(tokens or {"ghp_fake_token_for_tests_0123456789abcd": "octo"})
        self.orgs = {k.lower(): v for k, v in (orgs or {"acme": {"octo"}}).items()}
        self.scopes = dict(scopes or {})  # token -> X-OAuth-Scopes; default "repo"
        self.git_over_http = git_over_http
        self.prefix = prefix.rstrip("/")  # "/api/v3" serves the API as GitHub Enterprise does
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[Recorded] = []
        self.git_requests: list[Recorded] = []
        self.failures: dict[tuple[str, str], Failure] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> FakeGitHub:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + self.prefix

    # --- state helpers for tests -------------------------------------------------------

    def add_repository(self, owner: str, name: str, *, private: bool = True) -> FakeRepo:
        """An existing (empty) repository, as if created on github.com earlier."""
        path = self.root / owner / f"{name}.git"
        git.Repo.init(path, bare=True, initial_branch="main")
        repo = FakeRepo(owner, name, private, path)
        self.repos[f"{owner}/{name}".lower()] = repo
        return repo

    def repository(self, owner: str, name: str) -> FakeRepo:
        return self.repos[f"{owner}/{name}".lower()]

    def fail(self, method: str, path: str, status: int, message: str, **headers: str) -> None:
        """Answer the next ``method path`` with an error, as GitHub would."""
        self.failures[(method, path)] = Failure(status, {"message": message}, headers)

    def clone_url(self, repo: FakeRepo) -> str:
        if self.git_over_http:
            return f"{self.base_url}/git/{repo.owner}/{repo.name}.git"
        return str(repo.path)

    def api_requests(self, method: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if method is None or r.method == method]

    # --- the REST API ------------------------------------------------------------------

    def handle_api(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple:
        failure = self.failures.pop((method, path), None)
        if failure is not None:
            return failure.status, failure.body, failure.headers
        token = _bearer(headers.get("Authorization", ""))
        login = self.tokens.get(token or "")
        if login is None:
            return 401, _message("Bad credentials"), {}
        scopes = self.scopes.get(token or "", "repo")
        scope_headers = {"X-OAuth-Scopes": scopes}
        parts = [p for p in path.split("/") if p]

        if method == "GET" and parts == ["user"]:
            return 200, {"login": login, "id": 1, "type": "User"}, scope_headers
        if method == "POST" and (parts == ["user", "repos"] or parts[:1] == ["orgs"]):
            owner = login if parts[0] == "user" else parts[1]
            if parts[0] == "orgs" and (len(parts) != 3 or parts[2] != "repos"):
                return 404, _message("Not Found"), {}
            if parts[0] == "orgs" and owner.lower() not in self.orgs:
                return 404, _message("Not Found"), {}
            if parts[0] == "orgs" and login not in self.orgs[owner.lower()]:
                return 403, _message("You need admin access to create repositories"), {}
            if not isinstance(body, dict) or not body.get("name"):
                return 422, _message("Validation Failed"), {}
            private = bool(body.get("private", False))
            needed = "repo" if private else "public_repo"
            granted = [s.strip() for s in scopes.split(",")]
            if "repo" not in granted and needed not in granted:
                return (
                    403,
                    _message("Resource not accessible by personal access token"),
                    {**scope_headers, "X-Accepted-OAuth-Scopes": needed},
                )
            name = str(body["name"])
            if f"{owner}/{name}".lower() in self.repos:
                return (
                    422,
                    {
                        "message": "Repository creation failed.",
                        "errors": [
                            {
                                "resource": "Repository",
                                "code": "custom",
                                "field": "name",
                                "message": "name already exists on this account",
                            }
                        ],
                    },
                    scope_headers,
                )
            repo = self.add_repository(owner, name, private=private)
            return 201, self._repo_json(repo, login), scope_headers
        if method == "GET" and len(parts) == 3 and parts[0] == "repos":
            found = self.repos.get(f"{parts[1]}/{parts[2]}".lower())
            if found is None or (found.private and not self._may_push(found, login)):
                return 404, _message("Not Found"), {}
            return 200, self._repo_json(found, login), scope_headers
        return 404, _message("Not Found"), {}

    def _may_push(self, repo: FakeRepo, login: str) -> bool:
        return repo.owner == login or login in self.orgs.get(repo.owner.lower(), set())

    def _repo_json(self, repo: FakeRepo, login: str) -> dict[str, Any]:
        may = self._may_push(repo, login)
        return {
            "name": repo.name,
            "full_name": f"{repo.owner}/{repo.name}",
            "owner": {"login": repo.owner},
            "private": repo.private,
            "html_url": f"{self.base_url}/{repo.owner}/{repo.name}",
            "clone_url": self.clone_url(repo),
            "permissions": {"admin": may, "push": may, "pull": True},
        }

    # --- git smart HTTP ----------------------------------------------------------------

    def handle_git(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        login = self._basic_login(headers.get("Authorization", ""))
        if login is None:
            return 401, {"WWW-Authenticate": 'Basic realm="GitHub"'}, b"Bad credentials\n"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path.removeprefix("/git"),
            "REQUEST_METHOD": method,
            "QUERY_STRING": query,
            "CONTENT_TYPE": headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": login,
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.root),
        }
        if "Content-Encoding" in headers:
            env["HTTP_CONTENT_ENCODING"] = headers["Content-Encoding"]
        if "Git-Protocol" in headers:
            env["GIT_PROTOCOL"] = headers["Git-Protocol"]
        done = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60
        )
        raw = done.stdout
        split = raw.find(b"\r\n\r\n")
        head, rest = (raw[:split], raw[split + 4 :]) if split >= 0 else raw.split(b"\n\n", 1)
        status = 200
        out_headers: dict[str, str] = {}
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            elif key:
                out_headers[key.strip()] = value.strip()
        return status, out_headers, rest

    def _basic_login(self, header: str) -> str | None:
        if not header.startswith("Basic "):
            return None
        try:
            user_pass = base64.b64decode(header.removeprefix("Basic ")).decode()
        except ValueError:
            return None
        _, _, token = user_pass.partition(":")
        return self.tokens.get(token)


def _bearer(header: str) -> str | None:
    for scheme in ("Bearer ", "token "):
        if header.startswith(scheme):
            return header.removeprefix(scheme).strip()
    return None


def _message(text: str) -> dict[str, str]:
    return {"message": text, "documentation_url": "https://docs.github.com/rest"}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        headers = {k: v for k, v in self.headers.items()}
        raw = self._body()
        if parts.path.startswith("/git/"):
            with self.fake._lock:
                self.fake.git_requests.append(Recorded(self.command, parts.path, headers))
            status, out_headers, payload = self.fake.handle_git(
                self.command, parts.path, parts.query, headers, raw
            )
            self._send(status, out_headers, payload)
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        path = parts.path
        if self.fake.prefix and not path.startswith(self.fake.prefix + "/"):
            self._send(404, {}, b'{"message": "Not Found"}')
            return
        path = path.removeprefix(self.fake.prefix)
        with self.fake._lock:
            self.fake.requests.append(Recorded(self.command, path, headers, body))
            status, data, extra = self.fake.handle_api(self.command, path, headers, body)
        payload = json.dumps(data).encode()
        self._send(status, {"Content-Type": "application/json; charset=utf-8", **extra}, payload)

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("content-length", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _dispatch
