"""What the benchmark needs from a server under test: start/stop, and the shape of its HTTP API."""

from __future__ import annotations

import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import httpx

from bench.postgres import Cluster
from bench.procs import group_pids


@dataclass
class Account:
    email: str
    password: str
    token: str = ""
    user_id: str = ""
    record_ids: list[str] = field(default_factory=list)
    # Each person calls from their own address: the rendered backend rate-limits sign-ups and
    # logins per IP (behind a proxy, from X-Forwarded-For), as it should in production.
    ip: str = "127.0.0.1"


@dataclass(frozen=True)
class Raw:
    """One HTTP request as wrk replays it."""

    method: str
    path: str
    headers: dict[str, str]
    body: str = ""


@dataclass(frozen=True)
class Row:
    """A listed record, reduced to what the correctness checks compare."""

    id: str
    owner: str
    created: str


class Target(ABC):
    name: str  # "parse" or "shipyard"
    label: str  # for the report
    table: str  # SQL table holding the records
    created_column: str  # its creation timestamp column
    database: str
    cluster: Cluster

    base_url: str = ""

    @abstractmethod
    def prepare(self) -> None:
        """Install, render and migrate: everything done once, before any server starts."""

    @abstractmethod
    def start(self, processes: int) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    proc: subprocess.Popen[bytes] | None = None

    def versions(self) -> dict[str, str]:
        return {}

    def pids(self) -> list[int]:
        """The server's processes (it runs in its own process group)."""
        return group_pids(self.proc.pid) if self.proc is not None else []

    # -- the HTTP API ------------------------------------------------------------------
    @abstractmethod
    async def signup(self, client: httpx.AsyncClient, account: Account) -> None:
        """Create the account and fill in its token and user id."""

    @abstractmethod
    async def create(self, client: httpx.AsyncClient, account: Account, n: int) -> str:
        """Create the account's `n`th record and return its id."""

    @abstractmethod
    async def get(
        self, client: httpx.AsyncClient, account: Account, record_id: str
    ) -> httpx.Response: ...

    @abstractmethod
    async def list_own(self, client: httpx.AsyncClient, account: Account) -> tuple[int, list[Row]]:
        """The first page (20) of the account's own records, newest first: (status, rows)."""

    @abstractmethod
    async def list_anonymous(self, client: httpx.AsyncClient) -> int:
        """Status of a list without a token (must be refused)."""

    @abstractmethod
    def raw(self, kind: str, account: Account, record_id: str = "", n: int = 0) -> Raw:
        """The wrk request for `kind` in create | get | list | login."""
