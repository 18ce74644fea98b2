"""A throwaway PostgreSQL cluster in a temporary folder, on a free loopback port."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.procs import BenchError, child_pids, free_port, run


def _bindir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise BenchError(
        "PostgreSQL's initdb was not found; bench/run installs it from Debian's packages."
    )


class Cluster:
    """initdb + pg_ctl as the `postgres` user when we are root (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.port = free_port()
        # Under the system temp folder: the postgres user may not traverse the checkout's path.
        self.dir = Path(tempfile.mkdtemp(prefix="shipyard-bench-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self._user = "postgres" if os.geteuid() == 0 else None
        self.started = False

    @property
    def version(self) -> str:
        out = subprocess.run(
            [str(self.bindir / "postgres"), "--version"], capture_output=True, text=True
        )
        return out.stdout.strip()

    def _as_owner(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self._user, "--", *argv] if self._user else argv

    def start(self) -> None:
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        run(
            self._as_owner(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            ),
            timeout=120,
        )
        settings = [
            f"port={self.port}",
            "listen_addresses='127.0.0.1'",
            f"unix_socket_directories='{self.dir}'",
            "max_connections=300",
            "shared_buffers=256MB",
            # Both servers see the same database; these keep the disk out of the comparison
            # without changing what either server asks of PostgreSQL.
            "synchronous_commit=off",
            "log_min_messages=warning",
        ]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# bench\n" + "\n".join(settings) + "\n")
        run(
            self._as_owner(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            timeout=90,
        )
        self.started = True

    def url(self, database: str, driver: str = "postgresql") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str) -> str:
        out = run(
            [
                str(self.bindir / "psql"),
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
            timeout=120,
        )
        return out.stdout.strip()

    def create_database(self, name: str) -> None:
        self.psql("postgres", f'CREATE DATABASE "{name}"')

    def pids(self) -> list[int]:
        """The postmaster and its backends, for CPU accounting."""
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return child_pids(postmaster)

    def stop(self) -> None:
        if self.started:
            subprocess.run(
                self._as_owner(
                    [
                        str(self.bindir / "pg_ctl"),
                        "-D",
                        str(self.data),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        "30",
                        "stop",
                    ]
                ),
                capture_output=True,
                timeout=60,
            )
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)
