"""A session against a running API that serves Shipyard's contract: test personas and their tokens.

The personas are the actors of wizard/spec/matrix.py: ``anonymous``, ``owner``, ``other``,
``parent_owner``, one holder of each founder role, and ``admin``. Role grants need admin
credentials (SHIPYARD_ADMIN_EMAIL / SHIPYARD_ADMIN_PASSWORD, or an admin Shipyard makes on
the project's staging); without them the cells that need a role are skipped with the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from wizard.checklist.context import CheckContext
from wizard.checklist.results import CouldNotRun, Skip
from wizard.spec import LaunchSpec

EMAIL_DOMAIN = "example.com"
STATE_FILE = "check-personas.json"
_TOKEN = re.compile(r"token=([A-Za-z0-9_\-\.~%]+)")
_CODE = re.compile(r"\b(\d{6})\b")
# What POST /auth/signup may answer when it takes a sign-up (the fastapi blueprint says 202).
SIGNUP_ACCEPTED = (200, 201, 202)


@dataclass
class Persona:
    """One signed-in test account (or the anonymous caller, with no token)."""

    name: str
    email: str = ""
    password: str = ""
    phone: str = ""
    token: str | None = None
    refresh_token: str | None = None
    user_id: int | None = None
    roles: list[str] = field(default_factory=list)


class Api:
    """A thin HTTP client: JSON in and out, bearer tokens, every failure a plain sentence."""

    def __init__(
        self,
        url: str,
        timeout: float = 10.0,
        url_given: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.url_given = url_given
        self.client = httpx.Client(
            base_url=self.url, timeout=timeout, follow_redirects=False, headers=headers
        )
        self.requests = 0

    def close(self) -> None:
        self.client.close()

    def call(
        self,
        method: str,
        path: str,
        who: Persona | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if who is not None and who.token:
            sent["Authorization"] = f"Bearer {who.token}"
        self.requests += 1
        for attempt in range(2):
            try:
                return self.client.request(method, path, json=body, headers=sent, params=params)
            except httpx.TimeoutException:
                if attempt:
                    raise CouldNotRun(f"{method} {self.url}{path} did not answer in time") from None
            except httpx.TransportError as exc:
                # A dropped connection is retried once; a refused one means nothing listens.
                if attempt or isinstance(exc, httpx.ConnectError):
                    raise CouldNotRun(f"could not reach {self.url}{path}: {exc}") from None
                time.sleep(0.5)
            except httpx.HTTPError as exc:
                raise CouldNotRun(f"could not reach {self.url}{path}: {exc}") from None
        raise AssertionError("unreachable")


CHECK_HEADER = "X-Shipyard-Check"


def api_for(ctx: CheckContext, url: str) -> Api:
    """A client for the run. On the project's own staging its requests say they are the launch
    check (signed with the app's SECRET_KEY from .env): the app then counts them per run against
    its per-address limits, so checking often never uses up the limits the founder's own tries
    from this machine meet, and each run still meets every limit."""
    headers = {}
    if ctx.project is not None and not ctx.url_given:
        from wizard import envfile

        key = envfile.read_env(ctx.project).get("SECRET_KEY", "")
        if key:
            run = secrets.token_hex(8)
            message = f"shipyard-check:{run}".encode()
            signature = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
            headers[CHECK_HEADER] = f"{run}.{signature}"
    return Api(url, ctx.timeout, ctx.url_given, headers)


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class Session:
    """One live check run: the API, the personas, and what the probes created (for cleanup)."""

    def __init__(self, ctx: CheckContext, spec: LaunchSpec, api: Api) -> None:
        self.ctx = ctx
        self.spec = spec
        self.api = api
        self.run_id = secrets.token_hex(4)
        self.personas: dict[str, Persona] = {"anonymous": Persona("anonymous")}
        self.unavailable: dict[str, str] = {}
        self.created: list[tuple[str, int]] = []  # (API path of the object, id), oldest first
        self.notes: list[str] = []
        self.admin_problem = ""
        self._phones = secrets.randbelow(1000)  # consecutive numbers: no two personas share one

    # --- personas -------------------------------------------------------------------------

    def new_phone(self) -> str:
        self._phones += 1
        return drama_phone(self._phones)

    def persona(self, name: str) -> Persona:
        """The signed-in persona, or Skip with the reason it could not be made."""
        if name in self.personas:
            return self.personas[name]
        raise Skip(self.unavailable.get(name, f"the {name} test account could not be made"))

    def make_persona(self, name: str) -> Persona:
        """A new test account for this run only (signed in; not stored, so never reused)."""
        return self._sign_in_persona(name, None)

    def setup(self) -> None:
        """Sign in the admin and every persona the matrix needs; grant each role."""
        self._sign_in_admin()
        stored = self._stored_personas()
        names = ["owner", "other", "parent_owner", *[f"role:{r}" for r in self.spec.roles]]
        for name in names:
            try:
                persona = self._sign_in_persona(name, stored.get(name))
            except Skip as exc:
                self.unavailable[name] = exc.reason
                continue
            self.personas[name] = persona
        self._store_personas()
        for name in names:
            if name in self.personas:
                wanted = [name.split(":", 1)[1]] if name.startswith("role:") else []
                problem = self.set_roles(self.personas[name], wanted)
                if problem:
                    self.unavailable[name] = problem
                    if wanted:
                        del self.personas[name]

    def set_roles(self, persona: Persona, roles: list[str]) -> str | None:
        """Give the persona exactly these roles (needs admin); the problem, or None."""
        if persona.roles == roles and not roles:
            return None
        admin = self.personas.get("admin")
        if admin is None:
            return f"giving a role needs admin credentials: {self.admin_problem}"
        response = self.api.call(
            "PUT", f"/admin/users/{persona.user_id}/roles", admin, {"roles": roles}
        )
        if response.status_code != 200:
            return (
                f"the admin could not give {persona.email} the roles {roles or '[]'}: "
                f"PUT /admin/users/{{id}}/roles answered {response.status_code} {_detail(response)}"
            )
        persona.roles = list(roles)
        self._renew_token(persona)
        return None

    def _renew_token(self, persona: Persona) -> None:
        """A new access token after a role change. An API may trust a token it checked a
        moment ago for a few seconds (the rendered backend does, per worker, for
        SESSION_CACHE_SECONDS), so on another worker the old token could still carry the old
        roles; a token nobody has seen yet is checked afresh."""
        if not persona.refresh_token:
            return
        response = self.api.call(
            "POST", "/auth/refresh", body={"refresh_token": persona.refresh_token}
        )
        data = json_of(response) if response.status_code == 200 else None
        if isinstance(data, dict) and data.get("access_token"):
            persona.token = data["access_token"]
            persona.refresh_token = data.get("refresh_token") or persona.refresh_token

    def _sign_in_admin(self) -> None:
        if self.ctx.admin is None and self.spec.login.methods == ["phone_otp"]:
            self._phone_admin()
            return
        for attempt in range(2):
            credentials = self.ctx.admin or self._staging_admin()
            if credentials is None:
                self.unavailable["admin"] = self.admin_problem
                return
            admin = Persona("admin", email=credentials[0], password=credentials[1])
            try:
                self._admin_login(admin)
            except Skip as exc:
                if self.ctx.admin is None and self.ctx.project is not None and attempt == 0:
                    from wizard.checklist import admin as staging_admin

                    staging_admin.forget(self.ctx.project)  # made on a database since reset
                    continue
                self.admin_problem = (
                    f"the admin credentials from {self.ctx.admin_source} did not work: {exc.reason}"
                )
                self.unavailable["admin"] = self.admin_problem
                return
            if "admin" not in admin.roles:
                self.admin_problem = f"{admin.email} ({self.ctx.admin_source}) is not an admin"
                self.unavailable["admin"] = self.admin_problem
                return
            self.personas["admin"] = admin
            return

    def _phone_admin(self) -> None:
        """Phone-only apps: a phone account made admin inside the project's own staging."""
        target = self.ctx.cache.get("staging_target")
        if self.ctx.project is None or self.api.url_given or not target:
            self.admin_problem = (
                "an app with phone login only needs its staging to make a test admin"
            )
            self.unavailable["admin"] = self.admin_problem
            return
        from wizard.checklist import admin as staging_admin

        admin = Persona("admin", phone=self.new_phone())
        try:
            self._phone_login(admin)
            staging_admin.promote(self.ctx.project, str(target), admin.user_id or 0)
            self._renew_token(admin)
            self._refresh_roles(admin)
        except Skip as exc:
            self.admin_problem = f"no test admin could be made: {exc.reason}"
            self.unavailable["admin"] = self.admin_problem
            return
        self.ctx.admin_source = f"a phone account made admin in the {target} staging"
        self.personas["admin"] = admin

    def _refresh_roles(self, persona: Persona) -> None:
        me = self.api.call("GET", "/auth/me", persona)
        info = json_of(me) if me.status_code == 200 else None
        if isinstance(info, dict):
            persona.roles = sorted(str(r) for r in info.get("roles") or [])

    def _admin_login(self, admin: Persona) -> None:
        methods = self.spec.login.methods
        if "email_password" in methods:
            self._password_login(admin)
        elif "magic_link" in methods:
            self._magic_link_login(admin)
        else:
            raise Skip("an app with phone login only has no way for an admin account to sign in")

    def _staging_admin(self) -> tuple[str, str] | None:
        """An admin made on the project's staging, when the check probes that staging."""
        target = self.ctx.cache.get("staging_target")
        if self.ctx.project is None or self.api.url_given or not target:
            self.admin_problem = (
                "no admin credentials: set SHIPYARD_ADMIN_EMAIL and SHIPYARD_ADMIN_PASSWORD"
            )
            return None
        from wizard.checklist import admin as staging_admin

        try:
            credentials = staging_admin.staging_admin(self.ctx.project, str(target))
        except Skip as exc:
            self.admin_problem = exc.reason
            return None
        self.ctx.admin_source = f"the {target} staging (python -m app create-admin)"
        return credentials

    def _sign_in_persona(self, name: str, stored: dict[str, str] | None) -> Persona:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        persona = Persona(
            name,
            email=(stored or {}).get("email")
            or f"shipyard-check-{self.run_id}-{slug}@{EMAIL_DOMAIN}",
            password=(stored or {}).get("password") or secrets.token_urlsafe(18),
            phone=(stored or {}).get("phone") or self.new_phone(),
        )
        methods = self.spec.login.methods
        if "email_password" in methods:
            if stored is None or not self._try_login(persona):
                self._signup(persona)
                self._password_login(persona)
        elif "magic_link" in methods:
            self._magic_link_login(persona)
        elif "phone_otp" in methods:
            self._phone_login(persona)
        else:
            raise Skip("the spec has no login method the check knows")
        return persona

    def _signup(self, persona: Persona) -> None:
        """Sign the persona up. The answer cannot say whether an account was made (a sound
        API answers a taken address the same): the login that follows tells."""
        response = self.api.call(
            "POST", "/auth/signup", body={"email": persona.email, "password": persona.password}
        )
        if response.status_code not in SIGNUP_ACCEPTED:
            raise Skip(f"POST /auth/signup answered {response.status_code} {_detail(response)}")

    def _try_login(self, persona: Persona) -> bool:
        try:
            self._password_login(persona)
        except Skip:
            return False
        return True

    def _password_login(self, persona: Persona) -> None:
        body = {"email": persona.email, "password": persona.password}
        response = self.api.call("POST", "/auth/login", body=body)
        if response.status_code == 403 and self._verify_email(persona):
            response = self.api.call("POST", "/auth/login", body=body)
        if response.status_code == 429:
            raise Skip(
                "POST /auth/login is rate limited right now (429); run the check again later"
            )
        if response.status_code != 200:
            raise Skip(f"POST /auth/login answered {response.status_code} {_detail(response)}")
        self._take_tokens(persona, response)

    def _verify_email(self, persona: Persona) -> bool:
        token = self.read_outbox(persona.email, _TOKEN)
        if token is None:
            return False
        response = self.api.call("POST", "/auth/verify-email", body={"token": token})
        return response.status_code in (200, 204)

    def _magic_link_login(self, persona: Persona) -> None:
        self.api.call("POST", "/auth/magic-link/request", body={"email": persona.email})
        token = self.read_outbox(persona.email, _TOKEN)
        if token is None:
            raise Skip(
                f"signing in by magic link needs the outbox, and it could not be read: {self.admin_problem}"
            )
        response = self.api.call("POST", "/auth/magic-link/verify", body={"token": token})
        if response.status_code != 200:
            raise Skip(
                f"POST /auth/magic-link/verify answered {response.status_code} {_detail(response)}"
            )
        self._take_tokens(persona, response)

    def _phone_login(self, persona: Persona) -> None:
        self.api.call("POST", "/auth/phone/request", body={"phone": persona.phone})
        code = self.read_outbox(persona.phone, _CODE)
        if code is None:
            raise Skip(
                f"signing in by phone needs the outbox, and it could not be read: {self.admin_problem}"
            )
        response = self.api.call(
            "POST", "/auth/phone/verify", body={"phone": persona.phone, "code": code}
        )
        if response.status_code != 200:
            raise Skip(
                f"POST /auth/phone/verify answered {response.status_code} {_detail(response)}"
            )
        self._take_tokens(persona, response)

    def read_outbox(self, recipient: str, pattern: re.Pattern[str]) -> str | None:
        """The token or code in the newest outbox message to `recipient` (admins only)."""
        admin = self.personas.get("admin")
        if admin is not None:
            response = self.api.call("GET", "/dev/outbox", admin)
            messages = json_of(response) if response.status_code == 200 else None
        else:
            messages = self._staging_outbox()
        for message in messages if isinstance(messages, list) else []:
            if (
                isinstance(message, dict)
                and str(message.get("to", "")).lower() == recipient.lower()
            ):
                match = pattern.search(str(message.get("body", "")))
                if match:
                    return match.group(1)
        return None

    def _staging_outbox(self) -> list[dict[str, str]] | None:
        """Without an admin, the outbox of the project's own staging, read inside it."""
        target = self.ctx.cache.get("staging_target")
        if self.ctx.project is None or self.api.url_given or not target:
            return None
        from wizard.checklist import admin as staging_admin

        try:
            return staging_admin.staging_outbox(self.ctx.project, str(target))
        except Skip:
            return None

    def _take_tokens(self, persona: Persona, response: httpx.Response) -> None:
        data = json_of(response) or {}
        persona.token = data.get("access_token")
        persona.refresh_token = data.get("refresh_token")
        me = self.api.call("GET", "/auth/me", persona)
        info = json_of(me) if me.status_code == 200 else None
        if not persona.token or not isinstance(info, dict) or "id" not in info:
            raise Skip(f"GET /auth/me did not answer with the signed-in user ({me.status_code})")
        persona.user_id = int(info["id"])
        persona.roles = sorted(str(r) for r in info.get("roles") or [])

    # --- remembered personas (a project's git-ignored .shipyard/ folder) ------------------

    def _state_path(self) -> Path | None:
        """Where this API's test accounts are remembered, so reruns make no new ones.

        A project's staging keeps them in its git-ignored .shipyard/ folder; any other API
        (--url) in the user's cache folder, one file per URL.
        """
        if self.ctx.project is not None and not self.api.url_given:
            return self.ctx.project / ".shipyard" / STATE_FILE
        cache = self.ctx.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        digest = hashlib.sha256(self.api.url.encode()).hexdigest()[:16]
        return Path(cache) / "shipyard" / "check" / f"personas-{digest}.json"

    def _stored_personas(self) -> dict[str, dict[str, str]]:
        path = self._state_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path else {}
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("url") == self.api.url else {}

    def _store_personas(self) -> None:
        path = self._state_path()
        if path is None:
            return
        if path.parent.name == ".shipyard":
            from wizard.staging import state_dir

            state_dir(path.parent.parent)  # made with its own .gitignore
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {"url": self.api.url}
        for name, persona in self.personas.items():
            if (persona.email or persona.phone) and name != "admin":
                data[name] = {
                    "email": persona.email,
                    "password": persona.password,
                    "phone": persona.phone,
                }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=2) + "\n")

    # --- records the probes made ----------------------------------------------------------

    def remember(self, path: str, record_id: int) -> None:
        self.created.append((path, record_id))

    def forget(self, path: str, record_id: int) -> None:
        if (path, record_id) in self.created:
            self.created.remove((path, record_id))

    def _delete(
        self, path: str, record_id: int, admin: Persona | None, others: list[Persona]
    ) -> bool:
        try:
            return self._try_delete(path, record_id, admin, others)
        except CouldNotRun:
            return False

    def _try_delete(
        self, path: str, record_id: int, admin: Persona | None, others: list[Persona]
    ) -> bool:
        if admin is not None:
            status = self.api.call("DELETE", f"{path}/{record_id}", admin).status_code
            if status in (204, 404):
                return True
        for persona in others:
            if self.api.call("DELETE", f"{path}/{record_id}", persona).status_code == 204:
                return True
        return False

    def cleanup(self) -> None:
        """Delete what the probes created, newest first (children before their parents)."""
        admin = self.personas.get("admin")
        others = [p for n, p in self.personas.items() if p.token and n != "admin"]
        left: list[tuple[str, int]] = []
        for path, record_id in reversed(self.created):
            if not self._delete(path, record_id, admin, others):
                left.append((path, record_id))
        self.created = []
        accounts = [p.email for n, p in self.personas.items() if p.email and n != "admin"]
        if left:
            shown = ", ".join(f"{path}/{rid}" for path, rid in left[:10])
            self.notes.append(f"the check could not delete {len(left)} test records: {shown}")
        if accounts and self.api.url_given:
            self.notes.append(
                f"the {len(accounts)} test accounts stay ({', '.join(accounts[:3])}...): the API "
                "has no way to delete accounts; later checks of this URL reuse them"
            )
        self.api.close()


def drama_phone(number: int) -> str:
    """A number in the UK's range reserved for drama (+44 7700 900000-900999): never a real phone."""
    return f"+447700900{number % 1000:03d}"


def _detail(response: httpx.Response) -> str:
    data = json_of(response)
    if isinstance(data, dict) and "detail" in data:
        return f"({str(data['detail'])[:200]})"
    return f"({response.text[:120]})" if response.text else ""


def session(ctx: CheckContext) -> Session:
    """The run's live session, made (and every persona signed in) the first time a check needs it."""
    cached = ctx.cache.get("live_session")
    if isinstance(cached, Exception):
        raise cached
    if cached is not None:
        return cached
    spec = ctx.need_spec()
    url = ctx.need_url()
    api = api_for(ctx, url)
    started = time.monotonic()
    try:
        health = api.call("GET", "/health")
    except CouldNotRun as exc:
        problem: Exception = (
            exc if ctx.url_given else Skip(f"the staging API did not answer: {exc.reason}")
        )
        ctx.cache["live_session"] = problem
        raise problem from None
    del health  # live.health reports on it; the personas are tried whatever it said
    live = Session(ctx, spec, api)
    live.setup()
    ctx.cache["live_session"] = live
    previous = ctx.cache.get("cleanup")

    def cleanup() -> None:
        live.cleanup()
        ctx.cache.setdefault("notes", []).extend(live.notes)
        if callable(previous):
            previous()

    ctx.cache["cleanup"] = cleanup
    ctx.cache.setdefault("timings", {})["setup"] = round(time.monotonic() - started, 2)
    return live
