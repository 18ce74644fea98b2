"""A throwaway PostgreSQL server for tests, from the local server binaries (initdb, pg_ctl).

From Python::

    with PostgresServer.start() as server:      # or PostgresServer.start() ... server.stop()
        url = server.create_database("studio_booking")   # postgresql://postgres@127.0.0.1:PORT/NAME

From a shell (what scripts/pg-for-tests runs)::

    python tests/throwaway_postgres.py start [--dir DIR]   # prints DATABASE_URL=... and PGDATA=...
    python tests/throwaway_postgres.py createdb DIR NAME    # prints the new database's URL
    python tests/throwaway_postgres.py stop DIR

The server listens on 127.0.0.1 on a free port with trust authentication (tests only),
keeps its socket and data in DIR, and runs as the `postgres` user when started by root
(PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"


def find_bin(program: str) -> str | None:
    """A PostgreSQL server program from PATH or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(program)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{program}"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    return candidates[-1] if candidates else None


def available() -> bool:
    return all(find_bin(p) for p in ("initdb", "pg_ctl", "createdb"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SUPERUSER, "--", *command]


def _run(command: list[str], timeout: float = 120) -> str:
    result = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass
class PostgresServer:
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @classmethod
    def start(cls, directory: Path | None = None) -> PostgresServer:
        if not available():
            raise RuntimeError("PostgreSQL server programs (initdb, pg_ctl) are not installed")
        directory = Path(directory or tempfile.mkdtemp(prefix="pg-for-tests-"))
        directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(directory, SUPERUSER)
        directory.chmod(0o755)
        server = cls(directory, _free_port())
        _run(
            [
                find_bin("initdb") or "initdb",
                "-D",
                str(server.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ]
        )
        options = (
            f"-p {server.port} -k {directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run(
            [
                find_bin("pg_ctl") or "pg_ctl",
                "-D",
                str(server.data),
                "-o",
                options,
                "-l",
                str(directory / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        (directory / "port").write_text(str(server.port))
        return server

    @classmethod
    def existing(cls, directory: Path) -> PostgresServer:
        return cls(Path(directory), int((Path(directory) / "port").read_text()))

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        _run(
            [
                find_bin("createdb") or "createdb",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                name,
            ]
        )
        return self.url(name)

    def stop(self) -> None:
        try:
            _run([find_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"])
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pg-for-tests", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start a server; prints DATABASE_URL= and PGDATA=")
    start.add_argument("--dir", type=Path, default=None)
    create = commands.add_parser("createdb", help="create a database; prints its URL")
    create.add_argument("dir", type=Path)
    create.add_argument("name")
    stop = commands.add_parser("stop", help="stop the server and delete its folder")
    stop.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "start":
        server = PostgresServer.start(args.dir)
        server.create_database("tests")
        print(f"DATABASE_URL={server.url('tests')}")
        print(f"PGDATA={server.directory}")
    elif args.command == "createdb":
        print(PostgresServer.existing(args.dir).create_database(args.name))
    else:
        PostgresServer.existing(args.dir).stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
