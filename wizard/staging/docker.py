"""`--target docker`: PostgreSQL and the API as labelled containers, through the Docker SDK.

The module is named after its target (see wizard/staging/__init__.py); the SDK itself is only
ever imported inside functions and through wizard.staging.engine, never shadowed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard.errors import BadInput, Cancelled, ShipyardError
from wizard.events import Event, EventSink, ignore
from wizard.staging import Staging, backups, build, engine, services, state_dir
from wizard.staging.plan import (
    API_PORT,
    DB_PORT,
    DEFAULT_API_PORT,
    DEFAULT_DB_PORT,
    LABEL_PROJECT,
    Plan,
    load_plan,
)
from wizard.staging.services import Created, NotHealthy

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

TARGET = "docker"
LOOPBACK = "127.0.0.1"
SERVICES = ("api", "db")
PORTS_FILE = "docker.json"  # in the project's git-ignored .shipyard/

# Bounds on every wait, in seconds.
DB_TIMEOUT = 120.0
MIGRATE_TIMEOUT = 300.0
API_TIMEOUT = 180.0

# Free space (bytes) below which `up` refuses to build, and below which it warns.
DISK_REFUSE = 1 << 30
DISK_WARN = 3 << 30

_SECOND = 1_000_000_000  # the Docker API counts healthcheck times in nanoseconds
API_HEALTHCHECK = {
    "test": [
        "CMD",
        "python",
        "-c",
        "import sys, urllib.request; "
        f"sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:{API_PORT}/health', "
        "timeout=4).status == 200 else 1)",
    ],
    "interval": 3 * _SECOND,
    "timeout": 5 * _SECOND,
    "retries": 5,
    "start_period": 30 * _SECOND,
}
DB_HEALTHCHECK = {
    # Over TCP: during first-time setup the server listens on its socket only, and is not ready.
    "test": ["CMD-SHELL", 'pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'],
    "interval": 2 * _SECOND,
    "timeout": 5 * _SECOND,
    "retries": 5,
    "start_period": 90 * _SECOND,
}
RESTART_POLICY = {"Name": "unless-stopped"}
DB_MEMORY = "1g"


def up(
    project: Path,
    on_event: EventSink | None = None,
    *,
    public: bool = False,
    port: int | None = None,
) -> Staging:
    """Bring the project's staging up (or leave it as it is when nothing changed) and wait until healthy."""
    emit = on_event or ignore
    plan = load_plan(project)
    emit(Event("preflight", "Checking the Docker engine, free ports and disk space"))
    client = engine.connect()
    created = Created()
    try:
        ports = _preflight(client, plan, public=public, port=port, emit=emit)
        build.ensure_image(client, plan.postgres_image, emit, "postgres")
        image_id = build.build_api_image(client, plan, emit)
        emit(Event("network", f"Preparing the network {plan.network} and the volume {plan.volume}"))
        services.ensure_network(client, plan, created)
        services.ensure_volume(client, plan, created)
        db_fresh = _start_database(client, plan, ports["db"], created, emit)
        config, workers = _api_config(client, plan, image_id, ports["api"], public, emit)
        if db_fresh or not services.is_current(client, plan, "api", config):
            _migrate(client, plan, image_id, emit)
        else:
            # Same image and database as last time, so the same migrations already ran.
            emit(Event("migrate", "The database schema is up to date (nothing changed)"))
        api, changed = _start_api(client, plan, config, workers, public, created, emit)
    except BaseException as exc:
        services.undo(client, plan, created)
        if isinstance(exc, KeyboardInterrupt):
            raise Cancelled(
                "Cancelled: `shipyard up` stopped; the containers it had started were removed "
                "(staging data in the volume is untouched).",
            ) from None
        raise
    if changed:
        _remove_previous_images(client, plan, image_id)
    ports["api"] = services.host_port(api, API_PORT) or ports["api"]
    _write_ports(plan, ports)
    url = f"http://{LOOPBACK}:{ports['api']}"
    emit(Event("ready", f"Staging is up: the API answers at {url}"))
    return _staging(client, plan, api)


def down(project: Path, on_event: EventSink | None = None, *, volumes: bool = False) -> bool:
    """Stop and remove the containers and network; the data volume too only when `volumes`.

    Returns False when nothing of the app existed. Asking the founder before deleting data
    is the caller's job (the CLI asks, or takes --yes).
    """
    emit = on_event or ignore
    plan = load_plan(project)
    client = engine.connect()
    found = False
    for container in services.app_containers(client, plan):
        if (container.labels or {}).get(LABEL_PROJECT) not in (None, str(plan.project)):
            continue
        found = True
        emit(Event("down", f"Stopping and removing {container.name}"))
        with engine.translate(f"remove the container {container.name}"):
            services.remove_container(container)
    with engine.translate(f"remove the network {plan.network}"):
        for network in client.networks.list(names=[plan.network]):
            if network.name == plan.network:
                found = True
                emit(Event("down", f"Removing the network {plan.network}"))
                network.remove()
    if volumes:
        from docker.errors import NotFound

        with (
            engine.translate(f"delete the database volume {plan.volume}"),
            contextlib.suppress(NotFound),
        ):
            volume = client.volumes.get(plan.volume)
            found = True
            emit(Event("down", f"Deleting the database volume {plan.volume} and its data"))
            volume.remove(force=True)
    elif found:
        emit(
            Event("down", f"The database volume {plan.volume} keeps the staging data for next time")
        )
    if not found:
        emit(Event("down", "Nothing was running"))
    return found


def status(project: Path) -> Staging:
    """Which containers run, their health, and the URLs."""
    plan = load_plan(project)
    client = engine.connect()
    api = services.find_container(client, plan, "api")
    return _staging(client, plan, api)


def logs(
    project: Path, service: str = "api", *, follow: bool = False, tail: int = 200
) -> Iterator[str]:
    """The service's log lines (`follow` keeps reading until the container stops or Ctrl-C)."""
    if service not in SERVICES:
        raise BadInput(f"Unknown service {service!r}.", hint="Use api or db.")
    plan = load_plan(project)
    client = engine.connect()
    container = services.find_container(client, plan, service)
    if container is None:
        raise ShipyardError(
            f"There is no {service} container: staging is not up.",
            hint="Start it with `shipyard up`.",
        )
    with engine.translate(f"read the {service} logs"):
        if not follow:
            text = container.logs(tail=tail).decode("utf-8", errors="replace")
            yield from text.splitlines()
            return
        pending = ""
        for chunk in container.logs(stream=True, follow=True, tail=tail):
            pending += chunk.decode("utf-8", errors="replace")
            *lines, pending = pending.split("\n")
            yield from lines
        if pending:
            yield pending


# --- the steps of `up` --------------------------------------------------------------------------


def _preflight(
    client: DockerClient, plan: Plan, *, public: bool, port: int | None, emit: EventSink
) -> dict[str, int]:
    """Fail early, before anything is built or created: stale names, disk space, ports."""
    with engine.translate("ask the Docker engine about itself"):
        info = client.info()
    root = info.get("DockerRootDir")
    if root and Path(root).is_dir():
        free = shutil.disk_usage(root).free
        if free < DISK_REFUSE:
            raise ShipyardError(
                f"Only {free / 2**30:.1f} GB of disk space is left where Docker keeps images ({root}).",
                hint="Free some space (`docker system prune` removes unused images and containers), "
                "then run `shipyard up` again.",
            )
        if free < DISK_WARN:
            emit(
                Event(
                    "warning",
                    f"Disk space is low ({free / 2**30:.1f} GB free); the build may fail.",
                )
            )
    if port is not None and not 1 <= port <= 65535:
        raise BadInput(
            f"Port {port} is not a valid port number.", hint="Use a number from 1024 to 65535."
        )
    api = services.find_container(client, plan, "api")
    db = services.find_container(client, plan, "db")
    notes: list[str] = []
    # Ports stay what they were last time when they can, so the frontend's API URL keeps working.
    last = _read_ports(plan)
    api_held = services.host_port(api, API_PORT)
    api_port = services.choose_port(
        port or api_held or last.get("api") or DEFAULT_API_PORT,
        "0.0.0.0" if public else LOOPBACK,
        held=api_held,
        explicit=port is not None,
        what="API",
        notes=notes,
    )
    db_held = services.host_port(db, DB_PORT)
    db_port = services.choose_port(
        db_held or last.get("db") or DEFAULT_DB_PORT,
        LOOPBACK,
        held=db_held,
        explicit=False,
        what="database",
        notes=notes,
        skip={api_port},
    )
    if public:
        notes.append(
            f"--public: other machines on your network can reach the API on port {api_port} "
            "(the database stays private to this machine)."
        )
    for note in notes:
        emit(Event("warning", note))
    return {"api": api_port, "db": db_port}


def _ports_file(plan: Plan) -> Path:
    return state_dir(plan.project) / PORTS_FILE


def _read_ports(plan: Plan) -> dict[str, int]:
    try:
        data = json.loads(_ports_file(plan).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, int) and 0 < v < 65536}


def _write_ports(plan: Plan, ports: dict[str, int]) -> None:
    _ports_file(plan).write_text(json.dumps(ports, indent=2) + "\n", encoding="utf-8")


def _start_database(
    client: DockerClient, plan: Plan, port: int, created: Created, emit: EventSink
) -> bool:
    """Start (or reuse) PostgreSQL and wait until it answers; True when freshly created."""
    mountpoint = services.volume_mountpoint(client, plan.postgres_image)
    with engine.translate(f"inspect the database image {plan.postgres_image}"):
        image_id = client.images.get(plan.postgres_image).id
    config: dict[str, Any] = {
        "image": image_id,
        "environment": plan.db_environment(),
        "volumes": {plan.volume: {"bind": mountpoint, "mode": "rw"}},
        "network": plan.network,
        "ports": {f"{DB_PORT}/tcp": (LOOPBACK, port)},
        "healthcheck": DB_HEALTHCHECK,
        "restart_policy": RESTART_POLICY,
        "mem_limit": DB_MEMORY,
        "shm_size": "256m",
    }
    db, fresh = services.ensure_container(client, plan, "db", config, created)
    emit(Event("db", f"{'Starting' if fresh else 'Reusing'} PostgreSQL ({plan.postgres_image})"))
    try:
        services.wait_healthy(
            db,
            "database",
            DB_TIMEOUT,
            hint="Check the lines above; `shipyard logs db` shows more. If the volume was made by "
            "another PostgreSQL version, set staging.images.postgres back to it.",
        )
    except NotHealthy as exc:
        if "incompatible with server" in exc.message:
            raise ShipyardError(
                f"The staging database volume {plan.volume} was made by another major version of "
                f"PostgreSQL than {plan.postgres_image}, which cannot open it.\n{exc.message}",
                hint="Set staging.images.postgres in shipyard.yaml back to the version that made it, "
                "or start over with `shipyard down --volumes` (this deletes the staging data).",
            ) from None
        raise
    _check_credentials(db, plan)
    return fresh


def _check_credentials(db: Container, plan: Plan) -> None:
    """Log in over TCP with .env's password: a volume made with other credentials is caught here."""
    with engine.translate("check the database password"):
        result = db.exec_run(
            ["psql", "-h", "127.0.0.1", "-U", plan.db_user, "-d", plan.db_name, "-tAc", "select 1"],
            environment={"PGPASSWORD": plan.db_password, "PGCONNECT_TIMEOUT": "10"},
        )
    if result.exit_code == 0:
        return
    raw = result.output if isinstance(result.output, bytes) else b""
    output = raw.decode("utf-8", errors="replace")
    if "authentication failed" in output or "does not exist" in output:
        raise services.stale_credentials(plan)
    raise ShipyardError(
        f"The staging database refused a test login: {output.strip()}",
        hint="`shipyard logs db` shows what PostgreSQL says.",
    )


def _migrate(client: DockerClient, plan: Plan, image_id: str, emit: EventSink) -> None:
    """Run `alembic upgrade head` in a one-off container that is always removed afterwards."""
    emit(Event("migrate", "Applying database migrations (alembic upgrade head)"))
    stale = services.find_container(client, plan, "migrate")
    if stale is not None:
        services.remove_container(stale)
    with engine.translate("create the migration container"):
        container = client.containers.create(
            image_id,
            command=["alembic", "upgrade", "head"],
            name=plan.container("migrate"),
            labels=plan.labels("migrate"),
            environment=plan.api_environment(workers=1),
            network=plan.network,
            mem_limit=_api_memory(1),
            detach=True,
        )
    try:
        with engine.translate("run the database migrations"):
            container.start()
            deadline = time.monotonic() + MIGRATE_TIMEOUT
            while True:
                container.reload()
                if container.status in ("exited", "dead"):
                    break
                if time.monotonic() > deadline:
                    raise ShipyardError(
                        f"The database migrations did not finish within {int(MIGRATE_TIMEOUT)} "
                        f"seconds. Their last log lines:\n{services.last_logs(container)}",
                        hint="A migration may be waiting on a lock; check `shipyard logs db`.",
                    )
                time.sleep(0.5)
        code = (container.attrs.get("State") or {}).get("ExitCode")
        if code != 0:
            raise ShipyardError(
                f"The database migrations failed (exit code {code}). Their last log lines:\n"
                f"{services.last_logs(container)}",
                hint="Fix what the lines above say, then run `shipyard up` again. To reproduce it "
                "outside Docker, run `alembic upgrade head` in the project with DATABASE_URL set.",
            )
    finally:
        services.remove_container(container)


def _api_config(
    client: DockerClient, plan: Plan, image_id: str, port: int, public: bool, emit: EventSink
) -> tuple[dict[str, Any], int]:
    """The API container's settings, and how many workers (one per engine core) it runs."""
    with engine.translate("ask the Docker engine how many cores it has"):
        workers = max(1, int(client.info().get("NCPU") or 1))
    config: dict[str, Any] = {
        "image": image_id,
        "environment": plan.api_environment(workers),
        "network": plan.network,
        "ports": {f"{API_PORT}/tcp": ("0.0.0.0" if public else LOOPBACK, port)},
        "healthcheck": API_HEALTHCHECK,
        "restart_policy": RESTART_POLICY,
        "mem_limit": _api_memory(workers),
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
    }
    with engine.translate("inspect the API image"):
        user = str((client.images.get(image_id).attrs.get("Config") or {}).get("User") or "")
    if user.split(":")[0] in ("", "0", "root"):
        emit(Event("warning", "The Dockerfile does not pick a user; the API runs as uid 10001."))
        config["user"] = "10001:10001"
    return config, workers


def _start_api(
    client: DockerClient,
    plan: Plan,
    config: dict[str, Any],
    workers: int,
    public: bool,
    created: Created,
    emit: EventSink,
) -> tuple[Container, bool]:
    port = int(config["ports"][f"{API_PORT}/tcp"][1])
    for attempt in range(3):
        try:
            api, fresh = services.ensure_container(client, plan, "api", config, created)
            break
        except ShipyardError as exc:
            # Another program took the port between the check and the start: take the next one.
            if attempt == 2 or not engine.is_port_conflict(exc):
                raise
            notes: list[str] = []
            port = services.choose_port(
                port + 1,
                "0.0.0.0" if public else LOOPBACK,
                held=None,
                explicit=False,
                what="API",
                notes=notes,
            )
            emit(Event("warning", f"Port taken meanwhile; the API uses port {port} instead."))
            config["ports"] = {f"{API_PORT}/tcp": ("0.0.0.0" if public else LOOPBACK, port)}
    emit(Event("api", f"{'Starting' if fresh else 'Reusing'} the API ({workers} workers)"))
    services.wait_healthy(
        api,
        "API",
        API_TIMEOUT,
        hint="Check the lines above (`shipyard logs api` shows more), fix the code or .env, "
        "then run `shipyard up` again.",
    )
    return api, fresh


def _api_memory(workers: int) -> str:
    return f"{max(512, 192 * workers + 256)}m"


def _remove_previous_images(client: DockerClient, plan: Plan, image_id: str) -> None:
    """Drop earlier builds of the API image that nothing uses any more (they only take disk)."""
    from docker.errors import DockerException

    with contextlib.suppress(DockerException):
        labels = [f"{k}={v}" for k, v in plan.labels("api").items()]
        for image in client.images.list(filters={"label": labels, "dangling": True}):
            if image.id and image.id != image_id:
                with contextlib.suppress(DockerException):
                    client.images.remove(image.id)


def _staging(client: DockerClient, plan: Plan, api: Container | None) -> Staging:
    db = services.find_container(client, plan, "db")
    api_state, db_state = services.describe(api), services.describe(db)
    running = api_state == "running, healthy"
    port = services.host_port(api, API_PORT)
    db_port = services.host_port(db, DB_PORT)
    details = {
        "app": plan.app,
        "api": api_state,
        "db": db_state,
        "api_container": plan.container("api"),
        "db_container": plan.container("db"),
        "network": plan.network,
        "volume": plan.volume,
    }
    if db_port:
        details["database_url"] = (
            f"postgresql://{plan.db_user}@{LOOPBACK}:{db_port}/{plan.db_name} "
            "(password: POSTGRES_PASSWORD in .env)"
        )
    return Staging(TARGET, running, f"http://{LOOPBACK}:{port}" if port else None, details)


def backup(project: Path, on_event: EventSink | None = None) -> Path:
    """A timestamped dump of the staging database in the project's git-ignored backups/."""
    plan = load_plan(project)
    return backups.backup(engine.connect(), plan, on_event or ignore)


def restore(project: Path, dump: Path, on_event: EventSink | None = None) -> Path:
    """Replace the staging data with `dump`; returns the backup taken of the data it replaced.

    Asking the founder first is the caller's job (the CLI asks, or takes --yes).
    """
    plan = load_plan(project)
    client = engine.connect()
    emit = on_event or ignore
    return backups.restore(
        client, plan, Path(dump), emit, migrate=lambda image: _migrate(client, plan, image, emit)
    )
