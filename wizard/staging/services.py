"""The containers, network and volume of one project's staging: find, create idempotently, wait, remove."""

from __future__ import annotations

import contextlib
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard.errors import ShipyardError
from wizard.staging import engine
from wizard.staging.plan import (
    LABEL_APP,
    LABEL_CONFIG,
    LABEL_CREDENTIALS,
    LABEL_POSTGRES_IMAGE,
    LABEL_PROJECT,
    SPEC_FILE,
    Plan,
    fingerprint,
)

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

LOG_LINES_SHOWN = 30
STOP_TIMEOUT = 10


@dataclass
class Created:
    """What one `up` created, so that a failure can take exactly that away again."""

    containers: list[Container] = field(default_factory=list)
    network: bool = False
    volume: bool = False


# --- finding what exists ----------------------------------------------------------------------


def find_container(client: DockerClient, plan: Plan, service: str) -> Container | None:
    """This project's container for `service`, or None; refuses to adopt a stranger's."""
    from docker.errors import NotFound

    name = plan.container(service)
    with engine.translate(f"look for the {service} container"):
        try:
            container = client.containers.get(name)
        except NotFound:
            return None
    labels = container.labels or {}
    if labels.get(LABEL_APP) != plan.app:
        raise ShipyardError(
            f"A container named {name} exists but Shipyard did not create it.",
            hint=f"Rename or remove it (`docker rm -f {name}`) if you do not need it, then run the command again.",
        )
    owner = foreign_owner(labels, plan)
    if owner is not None:
        raise ShipyardError(
            f"Another project with the same app name ({plan.app}) has its staging running, "
            f"from {owner}.",
            hint=f"Run `shipyard down -C {owner}` first, or give this app another "
            "name in shipyard.yaml.",
        )
    return container


def foreign_owner(labels: dict[str, str] | None, plan: Plan) -> str | None:
    """The folder of the other project with this app name that made an object, if any.

    An object made from a folder that no longer holds a Shipyard project (it was moved or
    renamed) counts as this project's own, so that its data is not stranded.
    """
    owner = (labels or {}).get(LABEL_PROJECT)
    if owner in (None, str(plan.project)) or not (Path(str(owner)) / SPEC_FILE).is_file():
        return None
    return owner


def app_containers(client: DockerClient, plan: Plan) -> list[Container]:
    """Every container carrying this app's label (running or not)."""
    with engine.translate("list the staging containers"):
        return list(client.containers.list(all=True, filters={"label": f"{LABEL_APP}={plan.app}"}))


def host_port(container: Container | None, port: int) -> int | None:
    """The host port `container` publishes its `port` on, if any."""
    if container is None:
        return None
    bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
    for binding in bindings.get(f"{port}/tcp") or []:
        with contextlib.suppress(TypeError, ValueError):
            return int(binding.get("HostPort"))
    return None


def describe(container: Container | None) -> str:
    """'running, healthy', 'exited (code 1)', 'absent' and the like."""
    if container is None:
        return "absent"
    state = container.attrs.get("State") or {}
    status = str(state.get("Status", container.status))
    health = (state.get("Health") or {}).get("Status")
    if status == "exited":
        return f"exited (code {state.get('ExitCode')})"
    return f"{status}, {health}" if health else status


# --- ports ------------------------------------------------------------------------------------


def port_is_free(port: int, address: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like any server (docker-proxy included): connections lingering in TIME_WAIT after a
        # `down` do not make the port taken; only a listener does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def choose_port(
    wanted: int,
    address: str,
    *,
    held: int | None,
    explicit: bool,
    what: str,
    notes: list[str],
    skip: set[int] | None = None,
) -> int:
    """`wanted` when free (or already ours), otherwise the next free port, with a note saying so."""
    skip = skip or set()
    if wanted == held and wanted not in skip:
        return wanted
    if wanted not in skip and port_is_free(wanted, address):
        return wanted
    if explicit:
        from wizard.errors import BadInput

        raise BadInput(
            f"Port {wanted} is already taken by another program, so the {what} cannot use it.",
            hint=f"Stop the program using port {wanted}, or choose another port (or leave the option out).",
        )
    for candidate in range(wanted + 1, wanted + 200):
        if candidate not in skip and (candidate == held or port_is_free(candidate, address)):
            notes.append(
                f"Port {wanted} is taken by another program; the {what} uses port {candidate} instead."
            )
            return candidate
    raise ShipyardError(
        f"No free port found for the {what} between {wanted} and {wanted + 199}.",
        hint="Stop some programs that listen on ports, then run `shipyard up` again.",
    )


# --- network and volume -----------------------------------------------------------------------


def ensure_network(client: DockerClient, plan: Plan, created: Created) -> None:
    with engine.translate(f"create the network {plan.network}"):
        existing = [n for n in client.networks.list(names=[plan.network]) if n.name == plan.network]
        if existing:
            return
        client.networks.create(plan.network, driver="bridge", labels=plan.labels())
        created.network = True


def ensure_volume(client: DockerClient, plan: Plan, created: Created) -> None:
    """Create the database volume, or check that an existing one was made with today's password."""
    from docker.errors import NotFound

    with engine.translate(f"create the database volume {plan.volume}"):
        try:
            volume = client.volumes.get(plan.volume)
        except NotFound:
            labels = {
                **plan.labels("db"),
                LABEL_CREDENTIALS: plan.credentials_fingerprint,
                LABEL_POSTGRES_IMAGE: plan.postgres_image,
            }
            client.volumes.create(plan.volume, labels=labels)
            created.volume = True
            return
    labels = volume.attrs.get("Labels") or {}
    owner = foreign_owner(labels, plan)
    if owner is not None:
        raise ShipyardError(
            f"The database volume {plan.volume} holds the staging data of another project with "
            f"the same app name ({plan.app}), at {owner}.",
            hint="Give this app another name in shipyard.yaml, or delete that staging data with "
            f"`shipyard down --volumes -C {owner}` if you no longer need it.",
        )
    made_with = labels.get(LABEL_CREDENTIALS)
    if made_with and made_with != plan.credentials_fingerprint:
        raise stale_credentials(plan)


def stale_credentials(plan: Plan) -> ShipyardError:
    return ShipyardError(
        f"The staging database volume {plan.volume} was created with a different database "
        "password (or user or database name) than the one in .env now. PostgreSQL reads them "
        "only when it creates the volume, so it would refuse the API's connections.",
        hint="Put the old POSTGRES_PASSWORD back into .env if you have it. Otherwise save what "
        "you need and start a fresh database with `shipyard down --volumes` (this deletes the "
        "staging data), then `shipyard up`.",
    )


def volume_mountpoint(client: DockerClient, image: str) -> str:
    """Where this PostgreSQL image keeps its data (it moved in PostgreSQL 18's images)."""
    with engine.translate(f"inspect the database image {image}"):
        config = client.images.get(image).attrs.get("Config") or {}
    volumes = sorted(config.get("Volumes") or {})
    for path in volumes:
        if path.startswith("/var/lib/postgresql"):
            return str(path)
    for item in config.get("Env") or []:
        key, _, value = str(item).partition("=")
        if key == "PGDATA" and value:
            return value
    tag = image.rpartition(":")[2]
    major = "".join(ch for ch in tag.split(".")[0] if ch.isdigit())
    return "/var/lib/postgresql" if major and int(major) >= 18 else "/var/lib/postgresql/data"


# --- containers -------------------------------------------------------------------------------


def is_current(client: DockerClient, plan: Plan, service: str, config: dict[str, Any]) -> bool:
    """True when the service's container exists with exactly `config`."""
    existing = find_container(client, plan, service)
    return existing is not None and (existing.labels or {}).get(LABEL_CONFIG) == fingerprint(config)


def ensure_container(
    client: DockerClient, plan: Plan, service: str, config: dict[str, Any], created: Created
) -> tuple[Container, bool]:
    """The service's container with exactly `config`, reusing the existing one when unchanged.

    Returns the container and whether it was (re)created. A changed configuration (a new image,
    new settings, other ports) replaces the container; its data lives in the volume.
    """
    wanted = fingerprint(config)
    existing = find_container(client, plan, service)
    if (
        existing is not None
        and (existing.labels or {}).get(LABEL_CONFIG) == wanted
        and not _broken(existing)
    ):
        with engine.translate(f"start the {service} container"):
            if existing.status != "running":
                existing.start()
                existing.reload()
        return existing, False
    if existing is not None:
        remove_container(existing)
    labels = {**plan.labels(service), LABEL_CONFIG: wanted, **config.pop("labels", {})}
    with engine.translate(f"create the {service} container"):
        container = client.containers.create(
            name=plan.container(service), labels=labels, detach=True, **config
        )
    created.containers.append(container)
    try:
        with engine.translate(f"start the {service} container"):
            container.start()
            container.reload()
    except BaseException:
        # docker-py leaves a created-but-failed container behind; never keep an orphan.
        remove_container(container)
        created.containers.remove(container)
        raise
    return container, True


def _broken(container: Container) -> bool:
    """Unhealthy or crash-looping: not worth reusing even when its settings are right."""
    state = container.attrs.get("State") or {}
    health = (state.get("Health") or {}).get("Status")
    return health == "unhealthy" or bool(state.get("Restarting"))


def remove_container(container: Container) -> None:
    """Stop (gracefully, bounded) and remove a container; quiet when it is already gone."""
    from docker.errors import APIError, NotFound

    with contextlib.suppress(NotFound, APIError):
        if container.status in ("running", "restarting"):
            container.stop(timeout=STOP_TIMEOUT)
    with contextlib.suppress(NotFound):
        container.remove(force=True, v=False)


def undo(client: DockerClient, plan: Plan, created: Created) -> None:
    """Remove what a failed `up` created, so that nothing half-made stays behind."""
    # Best effort: when the engine itself failed, cleaning up fails too, and must not hide why.
    for container in reversed(created.containers):
        with contextlib.suppress(Exception):
            remove_container(container)
    with contextlib.suppress(Exception):
        # A stray one-off container (migrations) must not outlive the run either.
        stray = find_container(client, plan, "migrate")
        if stray is not None:
            remove_container(stray)
    if created.network:
        with contextlib.suppress(Exception):
            for network in client.networks.list(names=[plan.network]):
                if network.name == plan.network:
                    network.remove()
    if created.volume:
        with contextlib.suppress(Exception):
            client.volumes.get(plan.volume).remove(force=True)


def last_logs(container: Container, lines: int = LOG_LINES_SHOWN) -> str:
    from docker.errors import DockerException

    try:
        raw = container.logs(tail=lines, stdout=True, stderr=True)
    except DockerException:
        return "  (its logs could not be read)"
    text = raw.decode("utf-8", errors="replace").rstrip()
    if not text:
        return "  (it printed nothing)"
    return "\n".join(f"  {line}" for line in text.splitlines()[-lines:])


_WORKER_DIED = re.compile(r"Child process \[\d+\] died")


def _workers_keep_dying(container: Container) -> bool:
    """uvicorn's supervisor restarts crashing workers forever; their deaths show in the log."""
    from docker.errors import DockerException

    try:
        text = container.logs(tail=200).decode("utf-8", errors="replace")
    except DockerException:
        return False
    return len(_WORKER_DIED.findall(text)) >= 2


class NotHealthy(ShipyardError):
    """A container stopped, kept restarting or did not turn healthy in time."""


def wait_healthy(container: Container, what: str, timeout: float, hint: str) -> None:
    """Poll the container's state (bounded) until Docker reports it healthy."""
    deadline = time.monotonic() + timeout
    restarts = int(container.attrs.get("RestartCount") or 0)
    next_log_check = time.monotonic() + 5
    problem = ""
    while True:
        with engine.translate(f"check on the {what}"):
            container.reload()
        state = container.attrs.get("State") or {}
        health = (state.get("Health") or {}).get("Status")
        if health == "healthy" and state.get("Status") == "running":
            return
        if state.get("Status") in ("exited", "dead"):
            problem = f"stopped with exit code {state.get('ExitCode')}"
        elif state.get("Restarting") or int(container.attrs.get("RestartCount") or 0) > restarts:
            problem = "crashed and is being restarted"
        elif health == "unhealthy":
            problem = "is running but failed its health check"
        elif time.monotonic() >= next_log_check:
            next_log_check = time.monotonic() + 5
            if _workers_keep_dying(container):
                problem = "keeps crashing while it starts"
        elif time.monotonic() > deadline:
            problem = f"did not become healthy within {int(timeout)} seconds"
        if problem:
            raise NotHealthy(
                f"The {what} {problem}. Its last log lines:\n{last_logs(container)}", hint=hint
            )
        time.sleep(1)
