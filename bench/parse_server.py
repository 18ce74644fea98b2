"""Parse Server on the same PostgreSQL: a Booking class with owner-only CLP and per-object ACL."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.parse
from pathlib import Path

import httpx

from bench.postgres import Cluster
from bench.procs import BenchError, free_port, group_pids, run, spawn, stop, wait_http
from bench.targets import Account, Raw, Row, Target

HERE = Path(__file__).resolve().parent
INSTALL = HERE / ".parse"
APP_ID = "bench"
MOUNT = "/parse"

# Every operation needs a session; ACLs written by cloud.js keep each row to its owner.
SIGNED_IN = {"requiresAuthentication": True}
CLASS_LEVEL_PERMISSIONS = {
    "find": SIGNED_IN,
    "count": SIGNED_IN,
    "get": SIGNED_IN,
    "create": SIGNED_IN,
    "update": SIGNED_IN,
    "delete": SIGNED_IN,
    "addField": {},
    "protectedFields": {},
}
FIELDS = {
    "title": {"type": "String", "required": True},
    "startsAt": {"type": "Date", "required": True},
    "seats": {"type": "Number", "defaultValue": 1},
    "owner": {"type": "Pointer", "targetClass": "_User"},
}


def install() -> None:
    """npm ci parse-server (pinned by bench/parse/package-lock.json) into bench/.parse."""
    if (INSTALL / "node_modules" / "parse-server" / "package.json").exists():
        return
    if not shutil.which("npm"):
        raise BenchError("npm was not found; bench/run installs Node.js from Debian's packages.")
    INSTALL.mkdir(exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(HERE / "parse" / name, INSTALL / name)
    run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=INSTALL, timeout=600)


class ParseServer(Target):
    name = "parse"
    table = "Booking"
    created_column = "createdAt"
    database = "parse"

    def __init__(self, cluster: Cluster, workdir: Path) -> None:
        self.cluster = cluster
        self.workdir = workdir / "parse"
        self.master_key = os.urandom(16).hex()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.label = f"Parse Server {self.version}"

    @property
    def version(self) -> str:
        try:
            return json.loads((INSTALL / "node_modules/parse-server/package.json").read_text())[
                "version"
            ]
        except OSError:
            return "?"

    def versions(self) -> dict[str, str]:
        node = run(["node", "--version"]).stdout.strip()
        return {"parse-server": self.version, "node": node}

    def _config(self, processes: int) -> Path:
        config = {
            "appId": APP_ID,
            "masterKey": self.master_key,
            "maintenanceKey": os.urandom(16).hex(),
            "databaseURI": self.cluster.url(self.database, "postgres"),
            "cloud": str(HERE / "parse" / "cloud.js"),
            "port": self.port,
            "host": "127.0.0.1",
            "mountPath": MOUNT,
            "serverURL": f"{self.base_url}{MOUNT}",
            "allowClientClassCreation": False,
            "enableAnonymousUsers": False,
            "logsFolder": str(self.workdir / "logs"),
            # Parse logs every trigger run at info level by default; that is not a server's work.
            "logLevels": {
                "triggerAfter": "silent",
                "triggerBeforeSuccess": "silent",
                "triggerBeforeError": "silent",
                "cloudFunctionSuccess": "silent",
                "cloudFunctionError": "silent",
            },
        }
        if processes > 1:
            config["cluster"] = processes
        path = self.workdir / "config.json"
        path.write_text(json.dumps(config, indent=2))
        return path

    def prepare(self) -> None:
        install()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cluster.create_database(self.database)
        self.start(1)
        try:
            headers = {"X-Parse-Application-Id": APP_ID, "X-Parse-Master-Key": self.master_key}
            schema = {
                "className": "Booking",
                "fields": FIELDS,
                "classLevelPermissions": CLASS_LEVEL_PERMISSIONS,
            }
            response = httpx.post(
                f"{self.base_url}{MOUNT}/schemas/Booking", json=schema, headers=headers, timeout=30
            )
            if response.status_code not in (200, 201):
                raise BenchError(
                    f"Parse refused the Booking schema: {response.status_code} {response.text}"
                )
        finally:
            self.stop()
        # Lists are filtered by owner and sorted newest first.
        self.cluster.psql(
            self.database,
            'CREATE INDEX booking_owner_created ON "Booking" ("owner", "createdAt" DESC)',
        )

    def start(self, processes: int) -> None:
        config = self._config(processes)
        log = self.workdir / "server.log"
        main = INSTALL / "node_modules" / "parse-server" / "bin" / "parse-server"
        env = {**os.environ, "NODE_ENV": "production"}
        self.proc = spawn(["node", str(main), str(config)], log=log, env=env, cwd=self.workdir)
        wait_http(f"{self.base_url}{MOUNT}/health", self.proc, log, timeout=90)
        if processes > 1:
            # Each cluster worker binds on its own; give them a moment to come up too.
            self._wait_workers(processes)

    def _wait_workers(self, processes: int) -> None:

        for _ in range(50):
            if self.proc is None or len(group_pids(self.proc.pid)) >= processes + 1:
                break
            time.sleep(0.2)
        time.sleep(2)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    # -- HTTP --------------------------------------------------------------------------
    @staticmethod
    def _headers(account: Account | None = None, signed_in: bool = True) -> dict[str, str]:
        headers = {"X-Parse-Application-Id": APP_ID, "Content-Type": "application/json"}
        if account is not None:
            headers["X-Forwarded-For"] = account.ip
            if signed_in and account.token:
                headers["X-Parse-Session-Token"] = account.token
        return headers

    @staticmethod
    def _body(n: int) -> dict[str, object]:
        day = 1 + n % 28
        return {
            "title": f"Booking {n}",
            "startsAt": {"__type": "Date", "iso": f"2027-03-{day:02d}T10:00:00.000Z"},
            "seats": 1 + n % 4,
        }

    def _list_path(self, account: Account) -> str:
        where = {"owner": {"__type": "Pointer", "className": "_User", "objectId": account.user_id}}
        query = urllib.parse.urlencode(
            {
                "where": json.dumps(where, separators=(",", ":")),
                "order": "-createdAt",
                "limit": "20",
            }
        )
        return f"{MOUNT}/classes/Booking?{query}"

    async def signup(self, client: httpx.AsyncClient, account: Account) -> None:
        body = {"username": account.email, "email": account.email, "password": account.password}
        response = await client.post(f"{MOUNT}/users", json=body, headers=self._headers(account))
        if response.status_code != 201:
            raise BenchError(f"Parse signup failed: {response.status_code} {response.text}")
        data = response.json()
        account.token, account.user_id = data["sessionToken"], data["objectId"]

    async def create(self, client: httpx.AsyncClient, account: Account, n: int) -> str:
        response = await client.post(
            f"{MOUNT}/classes/Booking", json=self._body(n), headers=self._headers(account)
        )
        if response.status_code != 201:
            raise BenchError(f"Parse create failed: {response.status_code} {response.text}")
        return str(response.json()["objectId"])

    async def get(
        self, client: httpx.AsyncClient, account: Account, record_id: str
    ) -> httpx.Response:
        return await client.get(
            f"{MOUNT}/classes/Booking/{record_id}", headers=self._headers(account)
        )

    async def list_own(self, client: httpx.AsyncClient, account: Account) -> tuple[int, list[Row]]:
        response = await client.get(self._list_path(account), headers=self._headers(account))
        if response.status_code != 200:
            return response.status_code, []
        rows = [
            Row(item["objectId"], item.get("owner", {}).get("objectId", ""), item["createdAt"])
            for item in response.json()["results"]
        ]
        return 200, rows

    async def list_anonymous(self, client: httpx.AsyncClient) -> int:
        response = await client.get(f"{MOUNT}/classes/Booking?limit=20", headers=self._headers())
        return response.status_code

    def raw(self, kind: str, account: Account, record_id: str = "", n: int = 0) -> Raw:
        if kind == "create":
            body = json.dumps(self._body(n), separators=(",", ":"))
            return Raw("POST", f"{MOUNT}/classes/Booking", self._headers(account), body)
        if kind == "get":
            return Raw("GET", f"{MOUNT}/classes/Booking/{record_id}", self._headers(account))
        if kind == "list":
            return Raw("GET", self._list_path(account), self._headers(account))
        if kind == "login":
            body = json.dumps(
                {"username": account.email, "password": account.password}, separators=(",", ":")
            )
            return Raw("POST", f"{MOUNT}/login", self._headers(account, signed_in=False), body)
        raise ValueError(kind)
