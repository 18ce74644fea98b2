"""What `shipyard deploy` plans before it talks to Swarm: secrets, service specs, the Caddyfile."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wizard.cli import app as cli
from wizard.deploy import proxy, specs
from wizard.deploy.plan import (
    DEFAULT_PROXY_IMAGE,
    ENV_PROXY_IMAGE,
    load_deploy_plan,
    read_secrets,
    secrets_path,
)
from wizard.errors import BadInput

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "studio-booking"
    folder.mkdir()
    (folder / "shipyard.yaml").write_text(
        (REPO / "examples" / "studio-booking.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (folder / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    return folder


def test_first_plan_generates_private_secrets_and_keeps_them(project: Path) -> None:
    plan = load_deploy_plan(project)
    path = secrets_path(project)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(plan.secrets["SECRET_KEY"]) >= 48 and len(plan.secrets["POSTGRES_PASSWORD"]) >= 32
    assert load_deploy_plan(project).secrets == plan.secrets == read_secrets(project)
    assert (project / ".shipyard" / ".gitignore").read_text(encoding="utf-8") == "*\n"


def test_an_external_database_replaces_the_stacks_own(project: Path) -> None:
    load_deploy_plan(project)
    with secrets_path(project).open("a", encoding="utf-8") as handle:
        handle.write("DATABASE_URL=postgresql://u:p@db.example.com:5432/app\n")
    plan = load_deploy_plan(project)
    assert plan.external_database
    assert plan.api_secrets()["DATABASE_URL"] == "postgresql://u:p@db.example.com:5432/app"
    assert "POSTGRES_PASSWORD" not in plan.api_secrets()


def test_secret_names_change_with_their_value_and_never_show_it(project: Path) -> None:
    plan = load_deploy_plan(project)
    name = plan.secret_name("SECRET_KEY", plan.secrets["SECRET_KEY"])
    assert name == plan.secret_name("SECRET_KEY", plan.secrets["SECRET_KEY"])
    assert name != plan.secret_name("SECRET_KEY", "another value")
    assert plan.secrets["SECRET_KEY"] not in name


def test_service_specs_hold_no_secret_value(project: Path) -> None:
    plan = load_deploy_plan(project, replicas=3)
    refs = [{"SecretName": "x", "File": {"Name": k}} for k in plan.api_secrets()]
    every = [
        specs.database(plan, "/var/lib/postgresql/data", ["postgres"], refs),
        specs.migration(plan, "img:prod-1", refs),
        specs.api(plan, "img:prod-1", ["uvicorn"], refs, "10.0.9.0/24"),
        specs.proxy(plan, {"ConfigName": "c"}),
    ]
    text = json.dumps(every)
    for value in [*plan.secrets.values(), plan.database_url()]:
        assert value not in text
    api = every[2]
    assert api["update_config"]["Order"] == "start-first"
    assert api["update_config"]["FailureAction"] == "rollback"
    assert api["endpoint_spec"]["Mode"] == "dnsrr"
    assert api["mode"]["replicated"]["Replicas"] == 3
    assert "ENVIRONMENT=production" in api["task_template"]["ContainerSpec"]["Env"]
    assert every[1]["mode"] == {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}}
    assert every[1]["task_template"]["RestartPolicy"]["Condition"] == "none"
    [port] = every[3]["endpoint_spec"]["Ports"]
    assert port == {"Protocol": "tcp", "PublishedPort": 80, "TargetPort": 80, "PublishMode": "host"}


def test_pools_stay_under_postgresqls_connection_limit() -> None:
    for replicas in range(1, 11):
        workers = (replicas + 1) * specs.WORKERS  # one extra replica during an update
        assert (
            workers * (2 * specs.pool_size(replicas) + 2) <= 100 or specs.pool_size(replicas) == 2
        )


def test_bad_options_are_refused_in_one_sentence(project: Path) -> None:
    with pytest.raises(BadInput, match="--replicas 0"):
        load_deploy_plan(project, replicas=0)
    with pytest.raises(BadInput, match="not a domain name"):
        load_deploy_plan(project, domain="exa mple.com")
    with pytest.raises(BadInput, match="not a Shipyard project"):
        load_deploy_plan(project.parent)


def test_deploy_without_a_terminal_or_yes_never_initialises_a_swarm(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wizard.commands import deploy

    ask = deploy._asker(yes=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(BadInput, match="nobody to ask"):
        ask("The Docker engine on this machine is not a swarm yet. Go ahead?")
    assert deploy._asker(yes=True)("anything?") is True


def test_deploy_down_volumes_needs_yes_without_a_terminal(project: Path) -> None:
    result = CliRunner().invoke(cli, ["deploy", "down", "-C", str(project), "--volumes"])
    assert result.exit_code == 2
    assert "deletes the production data" in result.stderr
    assert "--yes" in result.stderr


@pytest.mark.parametrize("domain", [None, "api.example.com"])
def test_caddyfile(project: Path, domain: str | None) -> None:
    text = proxy.caddyfile(load_deploy_plan(project, domain=domain))
    assert "dynamic a" in text and "shipyard-studio-booking-prod-api" in text
    assert "max_size 1MB" in text and "respond @too_large" in text
    assert ("auto_https off" in text) is (domain is None)
    assert ("Strict-Transport-Security" in text) is (domain is not None)


@pytest.mark.docker
@pytest.mark.parametrize("domain", [None, "api.example.com"])
def test_caddy_accepts_the_caddyfile(project: Path, tmp_path: Path, domain: str | None) -> None:
    """`caddy adapt` in the proxy image: the config Caddy would run, without running it."""
    from docker_engine import engine_client

    client = engine_client()
    image = os.environ.get(ENV_PROXY_IMAGE) or DEFAULT_PROXY_IMAGE
    try:
        client.images.get(image)
    except Exception:
        pytest.skip(f"the proxy image {image} is missing (../shared/ci/standin-images.sh)")
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(proxy.caddyfile(load_deploy_plan(project, domain=domain)), "utf-8")
    mount = f"{caddyfile}:/etc/caddy/Caddyfile:ro"
    adapt = ["caddy", "adapt", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "-v", mount, image, *adapt],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    adapted = json.loads(result.stdout)
    assert "http" in adapted["apps"]


def test_an_admin_address_gets_a_generated_password_kept_from_the_api(project: Path) -> None:
    plan = load_deploy_plan(project, admin_email="founder@example.com")
    assert plan.secrets["ADMIN_EMAIL"] == "founder@example.com"
    assert len(plan.secrets["ADMIN_PASSWORD"]) >= 24
    assert not {"ADMIN_EMAIL", "ADMIN_PASSWORD"} & set(plan.api_secrets())
    assert {"ADMIN_EMAIL", "ADMIN_PASSWORD", "SECRET_KEY"} <= set(plan.admin_secrets())
    again = load_deploy_plan(project, admin_email="someone-else@example.com")
    assert again.secrets == plan.secrets  # created once: the first address stays
    job = json.dumps(specs.admin(plan, "img:prod-1", []))
    assert plan.secrets["ADMIN_PASSWORD"] not in job and "founder@example.com" not in job
    with pytest.raises(BadInput, match="not an email address"):
        load_deploy_plan(project, admin_email="founder")
