"""`--target docker`: PostgreSQL and the API as labelled containers, through the Docker SDK.

The module is named after its target (see wizard/staging/__init__.py); the SDK itself is only
ever imported inside functions and through wizard.staging.engine, never shadowed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from wizard.errors import BadInput, Cancelled, ShipyardError
from wizard.events import Event, EventSink, ignore
from wizard.staging import Staging, backups, build, containers, engine, services, state_dir
from wizard.staging.plan import (
    API_PORT,
    DB_PORT,
    DEFAULT_API_PORT,
    DEFAULT_DB_PORT,
    LOOPBACK,
    Plan,
    load_plan,
)
from wizard.staging.services import Created

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

TARGET = "docker"
SERVICES = ("api", "db")
PORTS_FILE = "docker.json"  # in the project's git-ignored .shipyard/

# Free space (bytes) below which `up` refuses to build, and below which it warns.
DISK_REFUSE = 1 << 30
DISK_WARN = 3 << 30


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
        db_fresh = containers.start_database(client, plan, ports["db"], created, emit)
        config, workers = containers.api_config(client, plan, image_id, ports["api"], public, emit)
        if db_fresh or not services.is_current(client, plan, "api", config):
            containers.migrate(client, plan, image_id, emit)
        else:
            # Same image and database as last time, so the same migrations already ran.
            emit(Event("migrate", "The database schema is up to date (nothing changed)"))
        api, changed = containers.start_api(client, plan, config, workers, public, created, emit)
    except BaseException as exc:
        services.undo(client, plan, created)
        if isinstance(exc, KeyboardInterrupt):
            raise Cancelled(
                "Cancelled: `shipyard up` stopped; the containers it had started were removed "
                "(staging data in the volume is untouched).",
            ) from None
        raise
    if changed:
        containers.remove_previous_images(client, plan, image_id)
    # The ports actually bound (a lost race at start moves them on).
    ports["api"] = services.host_port(api, API_PORT) or ports["api"]
    db = services.find_container(client, plan, "db")
    ports["db"] = services.host_port(db, DB_PORT) or ports["db"]
    _write_ports(plan, ports)
    url = f"http://{LOOPBACK}:{ports['api']}"
    emit(Event("ready", f"Staging is up: the API answers at {url}"))
    return _staging(client, plan, api)


def apply_update(project: Path, on_event: EventSink | None = None) -> Staging:
    """Put the running staging on the code as it is now: build the new image, run the
    migrations once in a one-off container, replace the API and wait until it is healthy.

    The API keeps listening where it did (a `--public` staging stays public). When the
    migration fails the previous API keeps running (PostgreSQL rolled the migration back);
    when the new API does not get healthy it is removed and the error says so."""
    plan = load_plan(project)
    client = engine.connect()
    api = services.find_container(client, plan, "api")
    bindings = ((api.attrs.get("HostConfig") or {}).get("PortBindings") or {}) if api else {}
    public = any(
        (binding or {}).get("HostIp") == "0.0.0.0"
        for binding in bindings.get(f"{API_PORT}/tcp") or []
    )
    return up(project, on_event, public=public)


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
        if services.foreign_owner(container.labels, plan) is not None:
            continue
        found = True
        emit(Event("down", f"Stopping and removing {container.name}"))
        with engine.translate(f"remove the container {container.name}"):
            services.remove_container(container)
    with engine.translate(f"remove the network {plan.network}"):
        for network in client.networks.list(names=[plan.network]):
            owner = services.foreign_owner(network.attrs.get("Labels"), plan)
            if network.name == plan.network and owner is None:
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
            owner = services.foreign_owner(volume.attrs.get("Labels"), plan)
            if owner is not None:
                raise ShipyardError(
                    f"The database volume {plan.volume} belongs to another project with the same "
                    f"app name, at {owner}; Shipyard left it alone.",
                    hint=f"Run `shipyard down --volumes -C {owner}` to delete that project's data.",
                )
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
    built: list[str] = []

    def migrate(running_image: str) -> None:
        # The dump's schema is brought to the code as it is now, which after a `git revert`
        # of an update is older than the running API's: migrating with the running image
        # would apply the reverted migration again.
        image = build.build_api_image(client, plan, emit)
        containers.migrate(client, plan, image, emit)
        if image != running_image:
            built.append(image)

    saved = backups.restore(client, plan, Path(dump), emit, migrate=migrate)
    if built:
        emit(Event("restore", "The code changed since staging started: starting it on this code"))
        apply_update(project, emit)
    return saved
