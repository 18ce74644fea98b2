"""Docker Swarm through the Docker SDK: the swarm itself, secrets, configs and services.

Every call goes through wizard.staging.engine.translate, which turns the SDK's exceptions into
a ShipyardError with a hint. Objects carry the deploy's labels, so Shipyard only ever finds and
removes its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

from wizard.deploy.plan import LABEL_APP, LABEL_CONFIG, LABEL_ROLE, DeployPlan
from wizard.errors import ShipyardError
from wizard.staging import engine

if TYPE_CHECKING:
    from docker import DockerClient

_SECOND = 1_000_000_000  # the Docker API counts durations in nanoseconds
# Task states after which a task will never run again.
_FINISHED = {"complete", "failed", "shutdown", "rejected", "orphaned", "remove"}


def swarm_state(client: DockerClient) -> str:
    """'active' when the engine is a swarm manager; otherwise what it is ('inactive', ...)."""
    with engine.translate("ask the Docker engine whether it is a swarm"):
        info = client.info().get("Swarm") or {}
    state = str(info.get("LocalNodeState") or "inactive")
    if state == "active" and not info.get("ControlAvailable"):
        return "worker"
    return state


def init_swarm(client: DockerClient) -> None:
    """Make the engine a single-node swarm whose control port listens on loopback only."""
    with engine.translate("turn the Docker engine into a swarm (docker swarm init)"):
        client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")


def fingerprint(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _label_filter(plan: DeployPlan, role: str | None = None) -> list[str]:
    labels = [f"{LABEL_APP}={plan.app}"]
    if role:
        labels.append(f"{LABEL_ROLE}={role}")
    return labels


# --- networks, volumes, secrets, configs -------------------------------------------------------


def ensure_network(client: DockerClient, plan: DeployPlan) -> str:
    """The stack's overlay network (created once); returns its subnet."""
    with engine.translate(f"create the network {plan.network}"):
        found = [n for n in client.networks.list(names=[plan.network]) if n.name == plan.network]
        network = found[0] if found else None
        if network is None:
            network = client.networks.create(
                plan.network, driver="overlay", labels=plan.labels(), attachable=False
            )
        network.reload()
    configs = (network.attrs.get("IPAM") or {}).get("Config") or []
    return str(configs[0].get("Subnet", "")) if configs else ""


def ensure_volume(client: DockerClient, plan: DeployPlan, name: str) -> None:
    from docker.errors import NotFound

    with engine.translate(f"create the volume {name}"):
        try:
            client.volumes.get(name)
        except NotFound:
            client.volumes.create(name, labels=plan.labels())


def ensure_secret(client: DockerClient, plan: DeployPlan, key: str, value: str) -> dict[str, Any]:
    """The Docker secret holding `value` (made once per value), as a reference for a service."""
    from docker.types import SecretReference

    name = plan.secret_name(key, value)
    with engine.translate(f"create the Docker secret for {key}"):
        found = [s for s in client.secrets.list(filters={"name": name}) if s.name == name]
        secret = found[0] if found else None
        if secret is None:
            labels = {**plan.labels("secret"), "dev.shipyard.deploy.key": key}
            secret = client.secrets.create(name=name, data=value.encode(), labels=labels)
    return SecretReference(secret.id, name, filename=key)


def ensure_config(
    client: DockerClient, plan: DeployPlan, what: str, text: str, target: str
) -> dict[str, Any]:
    """A Docker config (a file the service reads, not secret), named after its content."""
    from docker.types import ConfigReference

    name = f"{plan.prefix}-{what}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    with engine.translate(f"create the Docker config {name}"):
        found = [c for c in client.configs.list(filters={"name": name}) if c.name == name]
        config = found[0] if found else None
        if config is None:
            config = client.configs.create(name=name, data=text.encode(), labels=plan.labels())
    return ConfigReference(config.id, name, filename=target)


# --- services ---------------------------------------------------------------------------------


def find_service(client: DockerClient, name: str) -> dict[str, Any] | None:
    """The service's inspect data, or None."""
    from docker.errors import NotFound

    with engine.translate(f"look up the service {name}"):
        try:
            return dict(client.api.inspect_service(name))
        except NotFound:
            return None


def app_services(client: DockerClient, plan: DeployPlan) -> list[dict[str, Any]]:
    with engine.translate("list the app's services"):
        return list(client.api.services(filters={"label": _label_filter(plan)}))


def apply_service(client: DockerClient, plan: DeployPlan, role: str, spec: dict[str, Any]) -> str:
    """Create the service, or update it when `spec` changed; 'created', 'updated' or 'unchanged'.

    `spec` holds the keyword arguments of the SDK's create_service; its fingerprint is kept in
    a label, so running `deploy` again with nothing changed changes nothing.
    """
    name = plan.service(role)
    wanted = fingerprint(spec)
    labels = {**plan.labels(role), LABEL_CONFIG: wanted}
    existing = find_service(client, name)
    if existing is None:
        with engine.translate(f"create the service {name}"):
            client.api.create_service(name=name, labels=labels, **spec)
        return "created"
    if (existing["Spec"].get("Labels") or {}).get(LABEL_CONFIG) == wanted:
        return "unchanged"
    with engine.translate(f"update the service {name}"):
        client.api.update_service(
            existing["ID"], existing["Version"]["Index"], name=name, labels=labels, **spec
        )
    return "updated"


def remove_service(client: DockerClient, name: str) -> bool:
    from docker.errors import NotFound

    with engine.translate(f"remove the service {name}"):
        try:
            client.api.remove_service(name)
        except NotFound:
            return False
    return True


def tasks(client: DockerClient, name: str) -> list[dict[str, Any]]:
    with engine.translate(f"list the tasks of {name}"):
        return list(client.api.tasks(filters={"service": name}))


def running_tasks(client: DockerClient, name: str) -> list[dict[str, Any]]:
    """Tasks that run and (when the image has a healthcheck) passed it."""
    return [
        t
        for t in tasks(client, name)
        if t.get("DesiredState") == "running" and t["Status"].get("State") == "running"
    ]


def task_errors(client: DockerClient, name: str, limit: int = 3) -> list[str]:
    found = []
    for task in sorted(tasks(client, name), key=lambda t: t.get("UpdatedAt", ""), reverse=True):
        status = task.get("Status") or {}
        if status.get("State") in ("failed", "rejected") or status.get("Err"):
            found.append(f"{status.get('State')}: {status.get('Err') or status.get('Message')}")
    return found[:limit]


def wait_running(client: DockerClient, name: str, replicas: int, timeout: float, what: str) -> None:
    """Until `replicas` tasks of the service run healthy, or a ShipyardError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(running_tasks(client, name)) >= replicas:
            return
        time.sleep(1)
    errors = "; ".join(task_errors(client, name)) or "no task became healthy"
    raise ShipyardError(
        f"The {what} did not start within {timeout:.0f} s ({errors}).",
        hint="`shipyard deploy logs` shows what it printed.",
    )


def wait_job(client: DockerClient, name: str, timeout: float) -> tuple[bool, str]:
    """Wait for a replicated-job's one task to finish: (succeeded, its error or '')."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in tasks(client, name):
            status = task.get("Status") or {}
            state = status.get("State")
            if state == "complete":
                return True, ""
            if state in _FINISHED:
                return False, str(status.get("Err") or status.get("Message") or state)
        time.sleep(1)
    return False, f"it did not finish within {timeout:.0f} s"


def wait_update(
    client: DockerClient,
    name: str,
    before: dict[str, Any] | None,
    image: str,
    replicas: int,
    timeout: float,
) -> str:
    """Follow a rolling update to its end: 'completed', 'rolled back', 'paused' or 'timed out'.

    `before` is the service's UpdateStatus before the update, so that an earlier update's
    outcome is not mistaken for this one's.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        service = find_service(client, name) or {}
        status = service.get("UpdateStatus")
        state = (status or {}).get("State") if status != before else None
        if state == "rollback_completed":
            return "rolled back"
        if state in ("paused", "rollback_paused"):
            return "paused"
        if state == "completed":
            return "completed"
        if state is None:
            # A change that needs no rolling update (the number of replicas) sets no status.
            running = running_tasks(client, name)
            images = {t["Spec"]["ContainerSpec"]["Image"].split("@")[0] for t in running}
            if len(running) == replicas and images == {image}:
                return "completed"
        time.sleep(1)
    return "timed out"


def service_logs(client: DockerClient, name: str, tail: int, follow: bool = False) -> Any:
    with engine.translate(f"read the logs of {name}"):
        return client.api.service_logs(
            name, stdout=True, stderr=True, timestamps=False, tail=tail, follow=follow
        )


def rollback(client: DockerClient, name: str) -> bool:
    """Put the service back to its previous spec (what `docker service rollback` does)."""
    service = find_service(client, name)
    if service is None or not service.get("PreviousSpec"):
        return False
    previous = service["PreviousSpec"]
    with engine.translate(f"roll back the service {name}"):
        client.api.update_service(
            service["ID"],
            service["Version"]["Index"],
            task_template=previous.get("TaskTemplate"),
            name=previous.get("Name"),
            labels=previous.get("Labels"),
            mode=previous.get("Mode"),
            update_config=previous.get("UpdateConfig"),
            rollback_config=previous.get("RollbackConfig"),
            endpoint_spec=previous.get("EndpointSpec"),
        )
    return True


def remove_objects(client: DockerClient, plan: DeployPlan, volumes: bool) -> list[str]:
    """Everything of the app but its services (remove those first): names of what went."""
    from docker.errors import APIError, NotFound

    removed: list[str] = []
    filters = {"label": _label_filter(plan)}
    with engine.translate("remove the app's secrets, configs and network"):
        for kind in (client.secrets, client.configs):
            for item in kind.list(filters=filters):
                item.remove()
                removed.append(item.name)
        for network in client.networks.list(filters=filters):
            # The engine frees a network a moment after the last task on it stopped.
            for attempt in range(30):
                try:
                    network.remove()
                    removed.append(network.name)
                    break
                except NotFound:
                    break
                except APIError:
                    if attempt == 29:
                        raise
                    time.sleep(1)
        if volumes:
            for volume in client.volumes.list(filters=filters):
                for attempt in range(30):
                    try:
                        volume.remove(force=True)
                        removed.append(volume.name)
                        break
                    except NotFound:
                        break
                    except APIError:
                        if attempt == 29:
                            raise
                        time.sleep(1)
    return removed


def remove_containers(client: DockerClient, names: list[str], timeout: float = 60) -> None:
    """Until no container of these services is left: Swarm stops running ones by itself, and
    leaves a finished job's containers behind, which go here."""
    from docker.errors import APIError, NotFound

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = []
        with engine.translate("list the app's containers"):
            for name in names:
                left += client.containers.list(
                    all=True, filters={"label": f"com.docker.swarm.service.name={name}"}
                )
        if not left:
            return
        for container in left:
            if container.status in ("exited", "created", "dead"):
                with contextlib.suppress(NotFound, APIError):
                    container.remove(force=True)
        time.sleep(1)


def seconds(value: float) -> int:
    return int(value * _SECOND)
