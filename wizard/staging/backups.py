"""Dumps of the staging database into the project's backups/ folder, and restoring one."""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import tarfile
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from wizard.errors import BadInput, ShipyardError
from wizard.events import Event, EventSink
from wizard.staging import engine, services
from wizard.staging.plan import Plan, backups_dir

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

CUSTOM_FORMAT_MAGIC = b"PGDMP"  # how pg_dump's custom format starts; anything else is plain SQL
RESTORE_PATH = "/tmp/shipyard-restore"
API_TIMEOUT = 180.0


def running_database(client: DockerClient, plan: Plan) -> Container:
    db = services.find_container(client, plan, "db")
    if db is None or db.status != "running":
        raise ShipyardError(
            "The staging database is not running, so there is nothing to back up or restore into.",
            hint="Start staging with `shipyard up`, then run the command again.",
        )
    return db


def backup(client: DockerClient, plan: Plan, emit: EventSink, *, suffix: str = "") -> Path:
    """A pg_dump (custom format) of the staging database, written to backups/ atomically."""
    db = running_database(client, plan)
    folder = backups_dir(plan.project)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    dest = folder / f"{plan.app}-{stamp}{suffix}.dump"
    counter = 1
    while dest.exists():
        counter += 1
        dest = folder / f"{plan.app}-{stamp}{suffix}-{counter}.dump"
    emit(Event("backup", f"Dumping the staging database to {dest}"))
    command = ["pg_dump", "--format=custom", *_connection(plan)]
    fd, partial = tempfile.mkstemp(prefix=".partial-", suffix=".dump", dir=folder)
    errors = b""
    try:
        with os.fdopen(fd, "wb") as out:
            code, errors = _exec(client, db, command, plan, out)
        if code != 0:
            raise ShipyardError(
                f"pg_dump failed (exit code {code}): {errors.decode(errors='replace').strip()}",
                hint="`shipyard logs db` shows what PostgreSQL says.",
            )
        os.chmod(partial, 0o600)  # every user's data is in there
        os.replace(partial, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
    return dest


def restore(
    client: DockerClient,
    plan: Plan,
    dump: Path,
    emit: EventSink,
    migrate: Callable[[str], None] | None = None,
) -> Path:
    """Replace the staging database's contents with `dump`, in one transaction.

    Saves the current contents first (returned), stops the API meanwhile so that nothing
    writes half-way, brings an older dump's schema up to date with `migrate(api_image_id)`,
    and starts the API again afterwards.
    """
    dump = Path(dump).resolve()
    if not dump.is_file():
        raise BadInput(f"{dump} does not exist.", hint="Pass a file from the backups/ folder.")
    with dump.open("rb") as handle:
        custom = handle.read(len(CUSTOM_FORMAT_MAGIC)) == CUSTOM_FORMAT_MAGIC
    db = running_database(client, plan)
    safety = backup(client, plan, emit, suffix="-before-restore")
    api = services.find_container(client, plan, "api")
    if api is not None and api.status == "running":
        emit(Event("restore", "Stopping the API while the data is replaced"))
        with engine.translate("stop the API"):
            api.stop(timeout=services.STOP_TIMEOUT)
    try:
        emit(Event("restore", f"Restoring {dump.name} into the staging database"))
        _copy_in(db, dump)
        # Drop everything, then load the dump, all in one transaction: any error rolls back
        # to the data as it was.
        reader = (
            f"pg_restore --no-owner --no-privileges -f - {RESTORE_PATH}"
            if custom
            else f"cat {RESTORE_PATH}"
        )
        psql = shlex.join(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", *_connection(plan)]
        )
        script = (
            "set -e; { echo 'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;'; "
            f"{reader}; }} | {psql}"
        )
        sink = io.BytesIO()
        code, errors = _exec(client, db, ["sh", "-c", script], plan, sink)
        with engine.translate("remove the copied dump"):
            db.exec_run(["rm", "-f", RESTORE_PATH], user="root")
        if code == 0 and migrate is not None and api is not None:
            migrate(str(api.attrs["Image"]))
        if code != 0:
            raise ShipyardError(
                f"The restore failed and was rolled back; the data is as it was. PostgreSQL said:\n"
                f"  {errors.decode(errors='replace').strip()}",
                hint="Check that the file is a dump of this app's database (made by "
                "`shipyard backup` or pg_dump).",
            )
    finally:
        if api is not None:
            emit(Event("restore", "Starting the API again"))
            with engine.translate("start the API again"):
                api.start()
            services.wait_healthy(
                api,
                "API",
                API_TIMEOUT,
                hint="The data was restored; `shipyard logs api` shows why the API does not start.",
            )
    return safety


def _connection(plan: Plan) -> list[str]:
    # Over TCP with the password, which works whatever the image's local-socket rules are.
    return ["-h", "127.0.0.1", "-U", plan.db_user, "-d", plan.db_name]


def _exec(
    client: DockerClient, container: Container, command: list[str], plan: Plan, out: IO[bytes]
) -> tuple[int, bytes]:
    """Run `command` in the container, streaming its stdout into `out`; returns (exit code, stderr)."""
    errors = bytearray()
    with engine.translate(f"run {command[0]} in the database container"):
        exec_id = client.api.exec_create(
            container.id,
            command,
            environment={"PGPASSWORD": plan.db_password},
            stdout=True,
            stderr=True,
        )["Id"]
        for stdout, stderr in client.api.exec_start(exec_id, stream=True, demux=True):
            if stdout:
                out.write(stdout)
            if stderr and len(errors) < 64_000:
                errors.extend(stderr)
        code = client.api.exec_inspect(exec_id).get("ExitCode")
    return (int(code) if code is not None else 1), bytes(errors)


def _copy_in(container: Container, dump: Path) -> None:
    """Put the dump into the container as a world-readable file (the server user reads it)."""
    with tempfile.TemporaryFile() as archive:
        with tarfile.open(fileobj=archive, mode="w") as tar:
            info = tar.gettarinfo(str(dump), arcname=Path(RESTORE_PATH).name)
            info.mode, info.uid, info.gid, info.uname, info.gname = 0o644, 0, 0, "root", "root"
            with dump.open("rb") as handle:
                tar.addfile(info, handle)
        archive.seek(0)
        with engine.translate("copy the dump into the database container"):
            if not container.put_archive(str(Path(RESTORE_PATH).parent), archive):
                raise ShipyardError("Docker refused to copy the dump into the database container.")
