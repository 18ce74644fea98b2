"""What rendered projects ship for going live: the CI workflow and the Kubernetes manifests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from wizard import __version__
from wizard.blueprints import render
from wizard.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = Path(".github/workflows/ci.yml")


def _tool(name: str) -> str:
    """A validator installed with the dev extra, beside this interpreter (or on the PATH)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("ci") / "studio-booking"
    render(load_spec(REPO / "examples" / "studio-booking.yaml"), dest)
    return dest


@pytest.fixture(scope="module")
def workflow(project: Path) -> dict:
    return yaml.safe_load((project / WORKFLOW).read_text(encoding="utf-8"))


def test_workflow_is_valid_against_githubs_schema(project: Path) -> None:
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", WORKFLOW],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _zizmor(project: Path, *persona: str) -> list[dict]:
    result = subprocess.run(
        [_tool("zizmor"), "--offline", *persona, "--format", "json", str(WORKFLOW)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip().startswith("["), result.stderr
    return json.loads(result.stdout)


def test_workflow_is_clean_under_zizmor(project: Path) -> None:
    findings = _zizmor(project)
    assert findings == [], json.dumps(findings, indent=2)[:4000]
    # The pedantic persona adds one: the PostgreSQL image is a tag, not a digest. It is the
    # spec's staging.images.postgres, so a founder who pins it by digest silences that too.
    pedantic = {finding["ident"] for finding in _zizmor(project, "--persona", "pedantic")}
    assert pedantic <= {"unpinned-images"}


def _run_lines(job: dict) -> list[str]:
    return [line for step in job["steps"] for line in step.get("run", "").splitlines()]


def test_tests_run_on_a_postgresql_service_with_ruff(workflow: dict) -> None:
    job = workflow["jobs"]["test"]
    service = job["services"]["postgres"]
    assert service["image"] == "postgres:16-alpine"  # the spec's staging.images.postgres
    env = service["env"]
    assert job["env"]["DATABASE_URL"] == (
        f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}"
        f"@127.0.0.1:5432/{env['POSTGRES_DB']}"
    )
    assert "5432:5432" in service["ports"]
    lines = _run_lines(job)
    assert "python -m pip install -e '.[dev]'" in lines
    assert {"ruff check .", "ruff format --check .", "pytest -q"} <= set(lines)


def test_launch_check_uses_flags_shipyard_check_has(workflow: dict) -> None:
    from typer.main import get_command

    from wizard.cli import app

    job = workflow["jobs"]["launch-check"]
    assert f"'shipyard=={__version__}'" in job["env"]["SHIPYARD_PACKAGE"]
    [command] = [line for line in _run_lines(job) if line.startswith("shipyard check")]
    check = get_command(app).commands["check"]  # type: ignore[attr-defined]
    known = {opt for param in check.params for opt in param.opts}
    used = {word for word in command.split() if word.startswith("-")}
    assert {"--static", "--ci", "--format"} <= used
    assert used <= known, f"shipyard check has no {sorted(used - known)}"
    assert "junit" in command.split()


def test_image_build_uses_the_specs_base_image(workflow: dict) -> None:
    [build] = [line for line in _run_lines(workflow["jobs"]["image"]) if "docker build" in line]
    assert "--build-arg PYTHON_IMAGE=python:3.12-slim" in build
    assert workflow["permissions"] == {"contents": "read"}


def test_the_workflows_launch_check_passes_on_the_rendered_project(
    project: Path, workflow: dict, tmp_path: Path
) -> None:
    """The job's command as written, run here with the project's code on this interpreter."""
    checkout = tmp_path / "checkout"
    shutil.copytree(project, checkout)
    shutil.copy(REPO / "examples" / "studio-booking.yaml", checkout / "shipyard.yaml")
    (checkout / ".venv" / "bin").mkdir(parents=True)
    python = checkout / ".venv" / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n', encoding="utf-8")
    python.chmod(0o755)
    [command] = [
        line
        for line in _run_lines(workflow["jobs"]["launch-check"])
        if line.startswith("shipyard check")
    ]
    result = subprocess.run(
        [sys.executable, "-m", "wizard", *command.split()[1:]],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(REPO), "CI": "true"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    report = (checkout / "shipyard-check.xml").read_text(encoding="utf-8")
    assert 'failures="0" errors="0"' in report
    assert "project has no .venv" not in report


# --- Kubernetes (render-only) ---------------------------------------------------------------

KUBERNETES = Path("deploy/kubernetes")
SECRET_SETTINGS = {"SECRET_KEY", "DATABASE_URL", "SMTP_PASSWORD", "SMS_AUTH_TOKEN"}


@pytest.fixture(scope="module")
def manifests(project: Path) -> dict[str, dict]:
    found = {}
    for path in sorted((project / KUBERNETES).glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            found[document["kind"]] = document
    return found


def test_manifests_are_valid_kubernetes_objects(project: Path) -> None:
    files = sorted(str(p.relative_to(project)) for p in (project / KUBERNETES).glob("*.yaml"))
    assert len(files) >= 5
    result = subprocess.run(
        [_tool("kubernetes-validate"), "--strict", *files],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(files), result.stdout


def test_manifests_hold_what_a_production_cluster_needs(manifests: dict[str, dict]) -> None:
    assert {"Deployment", "Service", "Ingress", "Job", "ConfigMap"} <= set(manifests)
    assert "Secret" not in manifests  # the operator creates it; no value is rendered
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    [api] = pod["containers"]
    assert api["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    assert {"cpu", "memory"} <= set(api["resources"]["requests"])
    assert manifests["Deployment"]["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    job = manifests["Job"]["spec"]["template"]["spec"]
    [migrate] = job["containers"]
    assert migrate["command"] == ["alembic", "upgrade", "head"]
    assert migrate["image"] == api["image"]
    assert job["restartPolicy"] == "Never"
    service = manifests["Service"]["spec"]
    backend = manifests["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == manifests["Service"]["metadata"]["name"]
    assert service["selector"].items() <= pod_labels(manifests).items()
    assert manifests["ConfigMap"]["data"]["ENVIRONMENT"] == "production"


def pod_labels(manifests: dict[str, dict]) -> dict[str, str]:
    return manifests["Deployment"]["spec"]["template"]["metadata"]["labels"]


def test_secrets_are_referenced_never_inlined(manifests: dict[str, dict]) -> None:
    for kind in ("Deployment", "Job"):
        [container] = manifests[kind]["spec"]["template"]["spec"]["containers"]
        env = {item["name"]: item for item in container["env"]}
        assert {"SECRET_KEY", "DATABASE_URL"} <= set(env)
        for name, item in env.items():
            assert "value" not in item, f"{kind} inlines {name}"
            assert item["valueFrom"]["secretKeyRef"]["name"].endswith("-secrets")
    assert not SECRET_SETTINGS & set(manifests["ConfigMap"]["data"])


def test_readme_says_the_manifests_are_render_only(project: Path) -> None:
    readme = (project / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Kubernetes") :]
    assert "render-only" in section.lower()
    assert "no cluster" in section.lower()
    assert "kubectl create secret generic studio-booking-secrets" in section
