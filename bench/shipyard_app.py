"""The backend Shipyard renders from bench/booking.yaml, run the way its Dockerfile runs it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import sys
import time
import tomllib
from pathlib import Path

import httpx

from bench.postgres import Cluster
from bench.procs import BenchError, free_port, run, spawn, stop, wait_http
from bench.targets import Account, Raw, Row, Target

HERE = Path(__file__).resolve().parent
SPEC = HERE / "booking.yaml"
VENV = HERE / ".venv"


def render(dest: Path) -> None:
    """Render the fixed spec with the same code `shipyard new` uses."""
    from wizard import blueprints
    from wizard.spec import load_spec

    blueprints.render(load_spec(SPEC), dest)


def ensure_venv(project: Path) -> Path:
    """A virtualenv with the rendered project's runtime dependencies, as its Dockerfile installs them."""
    deps = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    stamp = hashlib.sha256(json.dumps(sorted(deps)).encode()).hexdigest()
    python = VENV / "bin" / "python"
    marker = VENV / ".deps-sha256"
    if python.exists() and marker.exists() and marker.read_text() == stamp:
        return python
    if not python.exists():
        run([sys.executable, "-m", "venv", str(VENV)], timeout=300)
    run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *deps],
        timeout=900,
    )
    marker.write_text(stamp)
    return python


def dockerfile_command(project: Path) -> list[str]:
    """The API container's CMD, e.g. ["sh", "-c", "exec uvicorn app.main:app ..."]."""
    for line in (project / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            command = json.loads(line[4:])
            if isinstance(command, list) and all(isinstance(part, str) for part in command):
                return command
    raise BenchError("the rendered Dockerfile has no CMD in JSON form")


class ShipyardBackend(Target):
    name = "shipyard"
    table = "bookings"
    created_column = "created_at"
    database = "shipyard"

    def __init__(self, cluster: Cluster, workdir: Path, project: Path | None = None) -> None:
        """`project`: an already rendered (perhaps hand-edited) project to measure instead."""
        self.cluster = cluster
        self.source = project
        if project is not None:
            self.name = f"shipyard-{project.name}"
            self.database = self.name.replace("-", "_")
        self.workdir = workdir / self.name
        self.project = self.workdir / "app"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.python = VENV / "bin" / "python"
        self.label = (
            f"Shipyard fastapi blueprint ({project})" if project else "Shipyard fastapi blueprint"
        )
        self._env: dict[str, str] = {}

    def versions(self) -> dict[str, str]:
        code = (
            "import importlib.metadata as m, platform; "
            "print(platform.python_version()); "
            "[print(n, m.version(n)) for n in ('fastapi', 'sqlalchemy', 'asyncpg', 'pydantic', 'uvicorn')]"
        )
        lines = run([str(self.python), "-c", code]).stdout.splitlines()
        found = {"app python": lines[0]}
        found.update(dict(line.split(" ", 1) for line in lines[1:]))
        return found

    def prepare(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.source is None:
            render(self.project)
        else:
            ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.db", ".env")
            shutil.copytree(self.source, self.project, ignore=ignore)
        self.python = ensure_venv(self.project)
        self.cluster.create_database(self.database)
        self._env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
            "PATH": f"{self.python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(self.project),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            # Staging, not production: production refuses sign-ups without a mail server
            # (SMTP_HOST). The two differ only in keeping a copy of each email and in serving
            # /docs and /dev/outbox, none of which the measured requests touch.
            "ENVIRONMENT": "staging",
            "SECRET_KEY": os.urandom(32).hex(),
            "DATABASE_URL": self.cluster.url(self.database),
            # The API's own role, as in Docker staging and production: it owns nothing and
            # row-level security applies to it (migrations create it and grant it the rows).
            "API_DATABASE_URL": self.cluster.url(self.database).replace(
                "postgres@", f"{self.database}_api:bench-api-password@", 1
            ),
            "CORS_ORIGINS": "http://localhost:5173",
            # Tokens must outlast the whole run; Parse's sessions last a year.
            "ACCESS_TOKEN_MINUTES": "120",
            "PORT": str(self.port),
            # The Dockerfile's ENV: the workers share this folder for metrics.
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "prometheus"),
            # Each bench user calls from its own address (X-Forwarded-For), so the per-address
            # sign-up and login limits stay on without refusing the bench; the app believes
            # the header only from a trusted proxy, here the bench itself.
            "TRUSTED_PROXIES": "127.0.0.1",
        }
        run(
            [str(self.python), "-m", "alembic", "upgrade", "head"],
            env=self._env,
            cwd=self.project,
            timeout=120,
        )

    def start(self, processes: int) -> None:
        command = [
            part.replace("0.0.0.0", "127.0.0.1") for part in dockerfile_command(self.project)
        ]
        env = {**self._env, "WEB_CONCURRENCY": str(processes)}
        log = self.workdir / "server.log"
        self.proc = spawn(command, log=log, env=env, cwd=self.project)
        wait_http(f"{self.base_url}/health", self.proc, log, timeout=90)
        if processes > 1:
            # uvicorn's supervisor answers once one worker is up; let the others start too.
            self._wait_workers(log, processes)

    def _wait_workers(self, log: Path, processes: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            started = len(
                re.findall(r"Application startup complete", log.read_text(errors="replace"))
            )
            if started >= processes:
                return
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    # -- HTTP --------------------------------------------------------------------------
    @staticmethod
    def _headers(account: Account | None = None, signed_in: bool = True) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if account is not None:
            headers["X-Forwarded-For"] = account.ip
            if signed_in and account.token:
                headers["Authorization"] = f"Bearer {account.token}"
        return headers

    @staticmethod
    def _body(n: int) -> dict[str, object]:
        day = 1 + n % 28
        return {
            "title": f"Booking {n}",
            "starts_at": f"2027-03-{day:02d}T10:00:00Z",
            "seats": 1 + n % 4,
        }

    async def signup(self, client: httpx.AsyncClient, account: Account) -> None:
        credentials = {"email": account.email, "password": account.password}
        response = await client.post(
            "/auth/signup", json=credentials, headers=self._headers(account)
        )
        # Sign-up answers the same for new and known addresses (no account probing): the
        # user's id comes from /auth/me once signed in.
        if response.status_code not in (201, 202):
            raise BenchError(f"signup failed: {response.status_code} {response.text}")
        # Only confirmed addresses sign in with a password; the bench confirms its own
        # accounts in the database instead of following each confirmation email.
        await asyncio.to_thread(
            self.cluster.psql,
            self.database,
            f"UPDATE users SET email_verified = true WHERE email = '{account.email}'",
        )
        response = await client.post(
            "/auth/login", json=credentials, headers=self._headers(account)
        )
        if response.status_code != 200:
            raise BenchError(f"login failed: {response.status_code} {response.text}")
        account.token = response.json()["access_token"]
        response = await client.get("/auth/me", headers=self._headers(account))
        if response.status_code != 200:
            raise BenchError(f"/auth/me failed: {response.status_code} {response.text}")
        account.user_id = str(response.json()["id"])

    async def create(self, client: httpx.AsyncClient, account: Account, n: int) -> str:
        response = await client.post(
            "/api/bookings", json=self._body(n), headers=self._headers(account)
        )
        if response.status_code != 201:
            raise BenchError(f"create failed: {response.status_code} {response.text}")
        return str(response.json()["id"])

    async def get(
        self, client: httpx.AsyncClient, account: Account, record_id: str
    ) -> httpx.Response:
        return await client.get(f"/api/bookings/{record_id}", headers=self._headers(account))

    async def list_own(self, client: httpx.AsyncClient, account: Account) -> tuple[int, list[Row]]:
        response = await client.get("/api/bookings?limit=20", headers=self._headers(account))
        if response.status_code != 200:
            return response.status_code, []
        rows = [
            Row(str(item["id"]), str(item["owner_id"]), item["created_at"])
            for item in response.json()["items"]
        ]
        return 200, rows

    async def list_anonymous(self, client: httpx.AsyncClient) -> int:
        return (await client.get("/api/bookings?limit=20")).status_code

    def raw(self, kind: str, account: Account, record_id: str = "", n: int = 0) -> Raw:
        if kind == "create":
            body = json.dumps(self._body(n), separators=(",", ":"))
            return Raw("POST", "/api/bookings", self._headers(account), body)
        if kind == "get":
            return Raw("GET", f"/api/bookings/{record_id}", self._headers(account))
        if kind == "list":
            return Raw("GET", "/api/bookings?limit=20", self._headers(account))
        if kind == "login":
            body = json.dumps(
                {"email": account.email, "password": account.password}, separators=(",", ":")
            )
            return Raw("POST", "/auth/login", self._headers(account, signed_in=False), body)
        raise ValueError(kind)
