"""The containers of Docker staging: PostgreSQL, the one-off migration run and the API."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from wizard.errors import ShipyardError
from wizard.events import Event, EventSink
from wizard.staging import engine, services
from wizard.staging.plan import API_PORT, DB_PORT, LOOPBACK, Plan
from wizard.staging.services import Created, NotHealthy

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

# Bounds on every wait, in seconds.
DB_TIMEOUT = 120.0
MIGRATE_TIMEOUT = 300.0
API_TIMEOUT = 180.0

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


def start_database(
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
    db, fresh = _ensure_on_free_port(client, plan, "db", config, DB_PORT, LOOPBACK, emit, created)
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
    check_credentials(db, plan)
    return fresh


def check_credentials(db: Container, plan: Plan) -> None:
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


def migrate(client: DockerClient, plan: Plan, image_id: str, emit: EventSink) -> None:
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
            mem_limit=api_memory(1),
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


def api_config(
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
        "mem_limit": api_memory(workers),
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
    }
    with engine.translate("inspect the API image"):
        user = str((client.images.get(image_id).attrs.get("Config") or {}).get("User") or "")
    if user.split(":")[0] in ("", "0", "root"):
        emit(Event("warning", "The Dockerfile does not pick a user; the API runs as uid 10001."))
        config["user"] = "10001:10001"
    return config, workers


def start_api(
    client: DockerClient,
    plan: Plan,
    config: dict[str, Any],
    workers: int,
    public: bool,
    created: Created,
    emit: EventSink,
) -> tuple[Container, bool]:
    address = "0.0.0.0" if public else LOOPBACK
    api, fresh = _ensure_on_free_port(client, plan, "api", config, API_PORT, address, emit, created)
    emit(Event("api", f"{'Starting' if fresh else 'Reusing'} the API ({workers} workers)"))
    services.wait_healthy(
        api,
        "API",
        API_TIMEOUT,
        hint="Check the lines above (`shipyard logs api` shows more), fix the code or .env, "
        "then run `shipyard up` again.",
    )
    return api, fresh


def _ensure_on_free_port(
    client: DockerClient,
    plan: Plan,
    service: str,
    config: dict[str, Any],
    inside: int,
    address: str,
    emit: EventSink,
    created: Created,
) -> tuple[Container, bool]:
    """ensure_container, moving to the next free port if another program took it meanwhile."""
    port = int(config["ports"][f"{inside}/tcp"][1])
    for attempt in range(3):
        try:
            return services.ensure_container(client, plan, service, dict(config), created)
        except ShipyardError as exc:
            # The port was free at the preflight check, but a race was lost since.
            if attempt == 2 or not engine.is_port_conflict(exc):
                raise
            what = "API" if service == "api" else "database"
            port = services.choose_port(
                port + 1, address, held=None, explicit=False, what=what, notes=[]
            )
            emit(Event("warning", f"Port taken meanwhile; the {what} uses port {port} instead."))
            config["ports"] = {f"{inside}/tcp": (address, port)}
    raise AssertionError("unreachable")


def api_memory(workers: int) -> str:
    return f"{max(512, 192 * workers + 256)}m"


def remove_previous_images(client: DockerClient, plan: Plan, image_id: str) -> None:
    """Drop earlier builds of the API image that nothing uses any more (they only take disk)."""
    from docker.errors import DockerException

    with contextlib.suppress(DockerException):
        labels = [f"{k}={v}" for k, v in plan.labels("api").items()]
        for image in client.images.list(filters={"label": labels, "dangling": True}):
            if image.id and image.id != image_id:
                with contextlib.suppress(DockerException):
                    client.images.remove(image.id)
