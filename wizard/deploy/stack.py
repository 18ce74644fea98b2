"""The production stack's life: deploy (and re-deploy), status, logs, rollback and down."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard.deploy import proxy, specs, swarm
from wizard.deploy.plan import DeployPlan, load_deploy_plan, secrets_path
from wizard.errors import BadInput, Cancelled, ShipyardError
from wizard.events import Event, EventSink, ignore
from wizard.staging import build, engine, state_dir
from wizard.staging.services import volume_mountpoint

if TYPE_CHECKING:
    from docker import DockerClient

SETTINGS_FILE = "deploy.json"  # the last deploy's options, in the project's .shipyard/
DB_TIMEOUT = 180.0
MIGRATE_TIMEOUT = 600.0
API_TIMEOUT = 300.0
ROLES_DOWN = ("proxy", "api", "admin", "migrate", "db")  # the order `down` removes them in

ConfirmInit = Callable[[str], bool]


@dataclass(frozen=True)
class DeployResult:
    """What a deploy did, for the CLI's text and JSON."""

    url: str
    replicas: int
    changes: dict[str, str]
    migrated: bool
    image: str
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(change != "unchanged" for change in self.changes.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "replicas": self.replicas,
            "image": self.image,
            "changes": self.changes,
            "changed": self.changed,
            "migrated": self.migrated,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class _ImageTarget:
    """The production build of the API image (wizard.staging.build.ImageTarget)."""

    project: Path
    image: str
    python_image: str
    app: str

    def labels(self, service: str | None = None) -> dict[str, str]:
        labels = {"dev.shipyard.deploy.app": self.app}
        if service:
            labels["dev.shipyard.deploy.role"] = service
        return labels


def deploy(
    project: Path,
    *,
    replicas: int | None = None,
    domain: str | None = None,
    http_port: int | None = None,
    https_port: int | None = None,
    admin_email: str | None = None,
    confirm_init: ConfirmInit = lambda question: False,
    on_event: EventSink | None = None,
) -> DeployResult:
    """Bring the production stack to what the project is now; nothing changes when nothing did."""
    emit = on_event or ignore
    last = _read_settings(project)
    plan = load_deploy_plan(
        project,
        replicas=replicas or last.get("replicas"),
        domain=domain if domain is not None else last.get("domain"),
        http_port=http_port or last.get("http_port"),
        https_port=https_port or last.get("https_port"),
        admin_email=admin_email,
    )
    client = engine.connect()
    _ensure_swarm(client, confirm_init, emit)
    changes: dict[str, str] = {}
    notes: list[str] = []

    for image, what in ((plan.proxy_image, "proxy"),) + (
        () if plan.external_database else ((plan.postgres_image, "postgres"),)
    ):
        build.ensure_image(client, image, emit, what)
    image = _build_image(client, plan, emit)
    emit(Event("network", f"Preparing the network {plan.network} and the secrets"))
    subnet = swarm.ensure_network(client, plan)
    swarm.ensure_volume(client, plan, plan.proxy_volume)
    api_secrets = [swarm.ensure_secret(client, plan, k, v) for k, v in plan.api_secrets().items()]

    if not plan.external_database:
        swarm.ensure_volume(client, plan, plan.volume)
        db_secrets = [swarm.ensure_secret(client, plan, k, v) for k, v in plan.db_secrets().items()]
        mountpoint = volume_mountpoint(client, plan.postgres_image)
        db_spec = specs.database(
            plan, mountpoint, _command(client, plan.postgres_image), db_secrets
        )
        changes["db"] = swarm.apply_service(client, plan, "db", db_spec)
        emit(Event("db", f"PostgreSQL: {changes['db']}; waiting until it answers"))
        swarm.wait_running(client, plan.service("db"), 1, DB_TIMEOUT, "database")

    migrated = _migrate(client, plan, image, api_secrets, changes, emit)
    if plan.admin_secrets():
        _create_admin(client, plan, image, changes, emit)

    api_spec = specs.api(plan, image, _command(client, image), api_secrets, subnet)
    previous = swarm.find_service(client, plan.service("api"))
    changes["api"] = swarm.apply_service(client, plan, "api", api_spec)
    if changes["api"] == "created":
        emit(Event("api", f"Starting {plan.replicas} API replicas"))
        swarm.wait_running(client, plan.service("api"), plan.replicas, API_TIMEOUT, "API")
    elif changes["api"] == "updated":
        emit(Event("api", "Rolling update: each new replica must pass GET /ready first"))
        outcome = swarm.wait_update(
            client,
            plan.service("api"),
            (previous or {}).get("UpdateStatus"),
            image,
            plan.replicas,
            API_TIMEOUT,
        )
        if outcome == "rolled back":
            raise ShipyardError(
                "The new version failed its healthcheck, so Swarm rolled the API back: the "
                f"previous version ({_image_of(previous)}) keeps serving."
                + (
                    " The database migrations of the new version had already run."
                    if migrated
                    else ""
                ),
                hint="`shipyard deploy logs` shows why the new version was unhealthy; fix it "
                "and run `shipyard deploy` again.",
            )
        if outcome != "completed":
            raise ShipyardError(
                f"The API's rolling update {outcome}: "
                + ("; ".join(swarm.task_errors(client, plan.service("api"))) or "no details"),
                hint="`shipyard deploy status` shows what runs; `shipyard deploy rollback` "
                "goes back to the previous version.",
            )
    caddy = swarm.ensure_config(
        client, plan, "caddyfile", proxy.caddyfile(plan), "/etc/caddy/Caddyfile"
    )
    changes["proxy"] = swarm.apply_service(client, plan, "proxy", specs.proxy(plan, caddy))
    if changes["proxy"] != "unchanged":
        emit(Event("proxy", f"Proxy (Caddy): {changes['proxy']}"))
        swarm.wait_running(client, plan.service("proxy"), 1, API_TIMEOUT, "proxy")
    _write_settings(plan)
    url = _url(plan)
    if _local_engine():
        _wait_answers(url, notes)
    if changes.get("admin") == "created":
        notes.append(
            f"The admin {plan.secrets['ADMIN_EMAIL']} signs in with the ADMIN_PASSWORD kept in "
            f"{secrets_path(plan.project)}."
        )
    if plan.domain == "localhost":
        notes.append("HTTPS for localhost uses Caddy's own local certificate authority.")
    elif plan.domain:
        notes.append(
            f"HTTPS for {plan.domain}: Caddy gets a certificate once the domain's DNS points at "
            "this server and ports 80 and 443 are open."
        )
    emit(Event("ready", f"Production answers at {url}" if changes else "Nothing changed"))
    return DeployResult(url, plan.replicas, changes, migrated, image, notes)


def _ensure_swarm(client: DockerClient, confirm_init: ConfirmInit, emit: EventSink) -> None:
    state = swarm.swarm_state(client)
    if state == "active":
        return
    if state == "worker":
        raise ShipyardError(
            "This Docker engine is a worker of a swarm; deploys go through a manager.",
            hint="Point DOCKER_HOST at a manager of the swarm and run `shipyard deploy` again.",
        )
    where = os.environ.get("DOCKER_HOST") or "this machine"
    question = (
        f"The Docker engine on {where} is not a swarm yet. Shipyard will make it a single-node "
        "swarm (docker swarm init, its control port on 127.0.0.1 only); containers already "
        "running are not affected, and `docker swarm leave --force` undoes it. Go ahead?"
    )
    if not confirm_init(question):
        raise Cancelled(
            "Cancelled: the engine is not a swarm, and nothing was changed.",
        )
    emit(Event("swarm", "Initialising a single-node swarm"))
    swarm.init_swarm(client)


def _build_image(client: DockerClient, plan: DeployPlan, emit: EventSink) -> str:
    """Build the API image and tag it by content, so the same code gives the same tag."""
    target = _ImageTarget(
        plan.project, f"{plan.image_repository}:prod-build", plan.python_image, plan.app
    )
    image_id = build.build_api_image(client, target, emit)
    tag = f"prod-{image_id.removeprefix('sha256:')[:12]}"
    with engine.translate("tag the API image"):
        client.images.get(image_id).tag(plan.image_repository, tag)
    return f"{plan.image_repository}:{tag}"


def _command(client: DockerClient, image: str) -> list[str]:
    """The image's own entrypoint and command, which the secrets wrapper then runs."""
    with engine.translate(f"inspect the image {image}"):
        config = client.images.get(image).attrs.get("Config") or {}
    return [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]


def _migrate(
    client: DockerClient,
    plan: DeployPlan,
    image: str,
    secrets: list[Any],
    changes: dict[str, str],
    emit: EventSink,
) -> bool:
    """Run `alembic upgrade head` once for this image, before it takes traffic."""
    name = plan.service("migrate")
    spec = specs.migration(plan, image, secrets)
    existing = swarm.find_service(client, name)
    done = existing is not None and any(
        t["Status"].get("State") == "complete" for t in swarm.tasks(client, name)
    )
    same = existing is not None and (existing["Spec"].get("Labels") or {}).get(
        "dev.shipyard.deploy.config"
    ) == swarm.fingerprint(spec)
    if same and done:
        changes["migrate"] = "unchanged"
        return False
    if existing is not None:
        swarm.remove_service(client, name)
        swarm.remove_containers(client, [name])
    emit(Event("migrate", "Running the database migrations (once, under an advisory lock)"))
    changes["migrate"] = swarm.apply_service(client, plan, "migrate", spec)
    succeeded, error = swarm.wait_job(client, name, MIGRATE_TIMEOUT)
    if not succeeded:
        raise ShipyardError(
            f"The database migration failed ({error}); the running version was not changed "
            "and keeps serving.",
            hint="`shipyard deploy logs migrate` shows its output.",
        )
    return True


def _create_admin(
    client: DockerClient, plan: DeployPlan, image: str, changes: dict[str, str], emit: EventSink
) -> None:
    """`python -m app create-admin` once for the admin address in production.env."""
    name = plan.service("admin")
    email = plan.secrets["ADMIN_EMAIL"]
    wanted = plan.secret_name("ADMIN_EMAIL", email)
    existing = swarm.find_service(client, name)
    if existing is not None:
        refs = existing["Spec"]["TaskTemplate"]["ContainerSpec"].get("Secrets") or []
        done = any(t["Status"].get("State") == "complete" for t in swarm.tasks(client, name))
        if done and any(ref.get("SecretName") == wanted for ref in refs):
            changes["admin"] = "unchanged"
            return
        swarm.remove_service(client, name)
        swarm.remove_containers(client, [name])
    secrets = [swarm.ensure_secret(client, plan, k, v) for k, v in plan.admin_secrets().items()]
    emit(Event("admin", f"Creating the admin {email} (once)"))
    changes["admin"] = swarm.apply_service(client, plan, "admin", specs.admin(plan, image, secrets))
    succeeded, error = swarm.wait_job(client, name, MIGRATE_TIMEOUT)
    if not succeeded:
        raise ShipyardError(
            f"Creating the admin {email} failed ({error}); the app itself was not changed.",
            hint="`shipyard deploy logs admin` shows why (an existing account with that address "
            "is never taken over: use another address).",
        )


def _image_of(service: dict[str, Any] | None) -> str:
    if not service:
        return "none"
    spec = service["Spec"]["TaskTemplate"]["ContainerSpec"]
    return str(spec.get("Image", "?")).split("@")[0]


def _url(plan: DeployPlan) -> str:
    if plan.domain:
        return f"https://{plan.domain}" + ("" if plan.https_port == 443 else f":{plan.https_port}")
    host = "127.0.0.1" if _local_engine() else "YOUR-SERVER"
    return f"http://{host}" + ("" if plan.http_port == 80 else f":{plan.http_port}")


def _local_engine() -> bool:
    host = os.environ.get("DOCKER_HOST", "")
    return not host or host.startswith("unix://")


def _wait_answers(url: str, notes: list[str], timeout: float = 60) -> None:
    """Until the proxy answers GET /ready through the published port on this machine."""
    import httpx

    if not url.split("://", 1)[1].startswith(("127.0.0.1", "localhost")):
        return  # a real domain: DNS may not point at this machine
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # `--domain localhost` gets a certificate from Caddy's own local CA.
            if httpx.get(f"{url}/ready", timeout=3, verify=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    notes.append(f"{url}/ready did not answer 200 within {timeout:.0f} s.")


def _settings_path(project: Path) -> Path:
    return state_dir(Path(project).resolve()) / SETTINGS_FILE


def _read_settings(project: Path) -> dict[str, Any]:
    try:
        data = json.loads(_settings_path(project).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_settings(plan: DeployPlan) -> None:
    data = {
        "replicas": plan.replicas,
        "domain": plan.domain,
        "http_port": plan.http_port,
        "https_port": plan.https_port,
    }
    _settings_path(plan.project).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# --- status, logs, rollback, down --------------------------------------------------------------


def status(project: Path) -> dict[str, Any]:
    """Each service of the stack: desired and running tasks, image, and a rolling update's state."""
    plan = load_deploy_plan(project, **_options(project))
    client = engine.connect()
    if swarm.swarm_state(client) != "active":
        return {"deployed": False, "swarm": False, "services": {}}
    found: dict[str, Any] = {}
    for role in ("db", "migrate", "admin", "api", "proxy"):
        service = swarm.find_service(client, plan.service(role))
        if service is None:
            continue
        mode = service["Spec"].get("Mode") or {}
        desired = (mode.get("Replicated") or {}).get("Replicas")
        found[role] = {
            "name": plan.service(role),
            "image": _image_of(service),
            "desired": desired,
            "running": len(swarm.running_tasks(client, plan.service(role))),
            "update": (service.get("UpdateStatus") or {}).get("State", ""),
        }
        if role in ("migrate", "admin"):
            states = [t["Status"].get("State") for t in swarm.tasks(client, plan.service(role))]
            found[role]["state"] = "complete" if "complete" in states else ",".join(states)
    return {
        "deployed": "api" in found,
        "swarm": True,
        "url": _url(plan) if "proxy" in found else None,
        "services": found,
    }


def logs(
    project: Path, role: str = "api", *, tail: int = 200, follow: bool = False
) -> Iterator[str]:
    if role not in ("api", "db", "migrate", "admin", "proxy"):
        raise BadInput(f"Unknown service {role!r}.", hint="Use api, db, migrate, admin or proxy.")
    plan = load_deploy_plan(project, **_options(project))
    client = engine.connect()
    if swarm.find_service(client, plan.service(role)) is None:
        raise ShipyardError(
            f"There is no {role} service: the app is not deployed.",
            hint="Deploy it with `shipyard deploy`.",
        )
    pending = b""
    for chunk in swarm.service_logs(client, plan.service(role), tail, follow):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", errors="replace")
    if pending:
        yield pending.decode("utf-8", errors="replace")


def rollback(project: Path, on_event: EventSink | None = None) -> str:
    """Put the API back to the version before the last deploy; returns the image now serving."""
    emit = on_event or ignore
    plan = load_deploy_plan(project, **_options(project))
    client = engine.connect()
    name = plan.service("api")
    current = swarm.find_service(client, name)
    if current is None or not swarm.rollback(client, name):
        state = ((current or {}).get("UpdateStatus") or {}).get("State", "")
        if state.startswith("rollback"):
            raise ShipyardError(
                f"The API was already rolled back ({state.replace('_', ' ')}): "
                f"{_image_of(current)} serves, and Swarm keeps only one previous version.",
                hint="Deploy the version you want with `shipyard deploy`.",
            )
        raise ShipyardError(
            "There is no previous version of the API to roll back to.",
            hint="`shipyard deploy status` shows what runs.",
        )
    emit(Event("rollback", "Rolling back the API, one replica at a time (start-first)"))
    previous = current.get("PreviousSpec") or {}
    image = str(previous["TaskTemplate"]["ContainerSpec"]["Image"]).split("@")[0]
    replicas = int(((previous.get("Mode") or {}).get("Replicated") or {}).get("Replicas") or 1)
    outcome = swarm.wait_update(
        client, name, current.get("UpdateStatus"), image, replicas, API_TIMEOUT
    )
    if outcome != "completed":
        raise ShipyardError(
            f"The rollback {outcome}.", hint="`shipyard deploy status` shows what runs."
        )
    return _image_of(swarm.find_service(client, name))


def down(project: Path, *, volumes: bool = False, on_event: EventSink | None = None) -> bool:
    """Remove the stack's services, secrets, configs and network (volumes only when asked).

    The swarm itself stays (other stacks may use it). False when nothing of the app existed.
    """
    emit = on_event or ignore
    plan = load_deploy_plan(project, **_options(project))
    client = engine.connect()
    if swarm.swarm_state(client) != "active":
        return False
    found = False
    for role in ROLES_DOWN:
        if swarm.remove_service(client, plan.service(role)):
            found = True
            emit(Event("down", f"Removed the service {plan.service(role)}"))
    swarm.remove_containers(client, [plan.service(role) for role in ROLES_DOWN])
    removed = swarm.remove_objects(client, plan, volumes)
    for name in removed:
        emit(Event("down", f"Removed {name}"))
    if not volumes and found:
        emit(Event("down", f"The volume {plan.volume} keeps the production data"))
    return found or bool(removed)


def _options(project: Path) -> dict[str, Any]:
    last = _read_settings(project)
    return {key: last.get(key) for key in ("replicas", "domain", "http_port", "https_port")}
