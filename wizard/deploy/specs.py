"""The Swarm service specs of the production stack: database, migration job, API and proxy.

Each function returns the keyword arguments of the SDK's create_service, so that
swarm.apply_service can fingerprint them and leave an unchanged service alone.
"""

from __future__ import annotations

from typing import Any

from wizard.deploy.plan import API_PORT, DeployPlan
from wizard.deploy.swarm import seconds

# Every secret the service is given becomes an environment value of its process only: read
# from /run/secrets in the container, so the service's spec (`docker inspect`) never holds it.
SECRETS_TO_ENV = (
    'for f in /run/secrets/*; do [ -f "$f" ] && export "${f##*/}=$(cat "$f")"; done; exec "$@"'
)
WORKERS = 2  # uvicorn workers in each API replica

_READY_CHECK = [
    "CMD",
    "python",
    "-c",
    "import sys, urllib.request; "
    f"sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:{API_PORT}/ready', "
    "timeout=3).status == 200 else 1)",
]
_DB_CHECK = ["CMD-SHELL", 'pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"']


def _wrapped(command: list[str]) -> dict[str, Any]:
    return {"command": ["sh", "-c", SECRETS_TO_ENV, "shipyard-secrets"], "args": command}


def pool_size(replicas: int) -> int:
    """Connections per pool so that every worker, one extra replica during an update
    included, stays under PostgreSQL's default of 100 (each worker has two pools, +2)."""
    workers = (replicas + 1) * WORKERS
    return max(2, min(10, (90 // workers - 2) // 2))


def database(
    plan: DeployPlan, mountpoint: str, command: list[str], secrets: list[Any]
) -> dict[str, Any]:
    from docker.types import (
        ContainerSpec,
        EndpointSpec,
        Healthcheck,
        Mount,
        Resources,
        RestartPolicy,
        ServiceMode,
        TaskTemplate,
        UpdateConfig,
    )

    container = ContainerSpec(
        plan.postgres_image,
        env=[f"POSTGRES_USER={plan.db_user}", f"POSTGRES_DB={plan.db_name}"],
        secrets=secrets,
        mounts=[Mount(mountpoint, plan.volume, type="volume")],
        healthcheck=Healthcheck(
            test=_DB_CHECK,
            interval=seconds(2),
            timeout=seconds(5),
            retries=5,
            start_period=seconds(90),
        ),
        stop_grace_period=seconds(60),
        **_wrapped(command),
    )
    return {
        "task_template": TaskTemplate(
            container,
            resources=Resources(mem_limit=1 << 30),
            restart_policy=RestartPolicy(condition="any", delay=seconds(2)),
            networks=[plan.network],
        ),
        "mode": ServiceMode("replicated", replicas=1),
        # One PostgreSQL per volume: the old one stops before the new one starts.
        "update_config": UpdateConfig(parallelism=1, order="stop-first", failure_action="pause"),
        "endpoint_spec": EndpointSpec(mode="dnsrr"),
    }


def migration(plan: DeployPlan, image: str, secrets: list[Any]) -> dict[str, Any]:
    """`alembic upgrade head` as a replicated job: one task, never restarted, run once."""
    from docker.types import ContainerSpec, RestartPolicy, ServiceMode, TaskTemplate

    container = ContainerSpec(
        image,
        env=["ENVIRONMENT=production"],
        secrets=secrets,
        **_wrapped(["alembic", "upgrade", "head"]),
    )
    return {
        "task_template": TaskTemplate(
            container,
            restart_policy=RestartPolicy(condition="none"),
            networks=[plan.network],
        ),
        "mode": ServiceMode("replicated-job", replicas=1),
    }


def admin(plan: DeployPlan, image: str, secrets: list[Any]) -> dict[str, Any]:
    """`python -m app create-admin` as a replicated job, run once, after the migrations."""
    from docker.types import ContainerSpec, RestartPolicy, ServiceMode, TaskTemplate

    create = 'exec python -m app create-admin --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD"'
    container = ContainerSpec(
        image, env=["ENVIRONMENT=production"], secrets=secrets, **_wrapped(["sh", "-c", create])
    )
    return {
        "task_template": TaskTemplate(
            container, restart_policy=RestartPolicy(condition="none"), networks=[plan.network]
        ),
        "mode": ServiceMode("replicated-job", replicas=1),
    }


def api(
    plan: DeployPlan, image: str, command: list[str], secrets: list[Any], proxy_subnet: str
) -> dict[str, Any]:
    """N replicas; rolling updates start a new task before stopping an old one, gated on
    GET /ready, and roll back by themselves when the new version fails its healthcheck."""
    from docker.types import (
        ContainerSpec,
        EndpointSpec,
        Healthcheck,
        Resources,
        RestartPolicy,
        RollbackConfig,
        ServiceMode,
        TaskTemplate,
        UpdateConfig,
    )

    env = [
        "ENVIRONMENT=production",
        f"WEB_CONCURRENCY={WORKERS}",
        f"DB_POOL_SIZE={pool_size(plan.replicas)}",
    ]
    if proxy_subnet:
        # The app believes X-Forwarded-For only from the proxy: from this network's addresses.
        env.append(f"TRUSTED_PROXIES={proxy_subnet}")
    container = ContainerSpec(
        image,
        env=env,
        secrets=secrets,
        healthcheck=Healthcheck(
            test=_READY_CHECK,
            interval=seconds(2),
            timeout=seconds(4),
            retries=3,
            start_period=seconds(60),
        ),
        # Time for requests in flight to finish after SIGTERM (uvicorn's graceful shutdown).
        stop_grace_period=seconds(20),
        cap_drop=["ALL"],
        **_wrapped(command),
    )
    return {
        "task_template": TaskTemplate(
            container,
            resources=Resources(mem_limit=1 << 30),
            restart_policy=RestartPolicy(condition="any", delay=seconds(2)),
            networks=[plan.network],
        ),
        "mode": ServiceMode("replicated", replicas=plan.replicas),
        "update_config": UpdateConfig(
            parallelism=1,
            delay=seconds(1),
            order="start-first",
            failure_action="rollback",
            monitor=seconds(5),
            max_failure_ratio=0,
        ),
        "rollback_config": RollbackConfig(
            parallelism=1, order="start-first", failure_action="pause", monitor=seconds(5)
        ),
        "endpoint_spec": EndpointSpec(mode="dnsrr"),
    }


def proxy(plan: DeployPlan, caddyfile: Any) -> dict[str, Any]:
    """Caddy, published in host mode (Swarm's routing mesh needs IPVS, which not every
    kernel has); one task, so an update stops it before starting the next (same ports)."""
    from docker.types import (
        ContainerSpec,
        EndpointSpec,
        Mount,
        RestartPolicy,
        ServiceMode,
        TaskTemplate,
        UpdateConfig,
    )

    ports: dict[int, tuple[int, str, str]] = {plan.http_port: (80, "tcp", "host")}
    if plan.domain:
        ports[plan.https_port] = (443, "tcp", "host")
    container = ContainerSpec(
        plan.proxy_image,
        configs=[caddyfile],
        mounts=[Mount("/data", plan.proxy_volume, type="volume")],
        stop_grace_period=seconds(10),
    )
    return {
        "task_template": TaskTemplate(
            container,
            restart_policy=RestartPolicy(condition="any", delay=seconds(2)),
            networks=[plan.network],
        ),
        "mode": ServiceMode("replicated", replicas=1),
        "update_config": UpdateConfig(parallelism=1, order="stop-first", failure_action="rollback"),
        "endpoint_spec": EndpointSpec(mode="dnsrr", ports=ports),
    }
