"""The launch check against Docker staging: PostgreSQL, the API container, an admin made in it.

Skips without an engine outside CI; in CI an unreachable engine fails the test.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from docker_engine import engine_client, purge
from typer.testing import CliRunner

from wizard.cli import app
from wizard.errors import ShipyardError
from wizard.spec import parse_spec

REPO = Path(__file__).resolve().parent.parent
STUDIO = REPO / "examples" / "studio-booking.yaml"


@pytest.mark.slow
@pytest.mark.docker
def test_check_on_docker_staging_probes_every_cell_and_passes(tmp_path):
    from wizard.pipeline import create_project
    from wizard.staging import docker as staging

    client = engine_client()
    name = f"sy-check-{uuid.uuid4().hex[:6]}"
    text = STUDIO.read_text().replace("name: studio-booking", f"name: {name}")
    project = create_project(parse_spec(text), tmp_path / name)
    try:
        try:
            staging.up(project)
        except ShipyardError as exc:  # another program took a port between check and bind
            if "port" not in exc.message:
                raise
            staging.up(project)
        result = CliRunner().invoke(app, ["check", "-C", str(project), "--ci"])
        # No .venv: the checks that run the project's code run it in the staging image, as
        # the files are now - a field added after `up` without a migration is caught.
        model = project / "app" / "models" / "booking.py"
        anchor = '    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)\n'
        assert anchor in model.read_text()
        model.write_text(
            model.read_text().replace(
                anchor, anchor + "    seats: Mapped[int | None] = mapped_column(Integer)\n"
            )
        )
        drifted = CliRunner().invoke(app, ["check", "-C", str(project), "--ci", "--static"])
    finally:
        purge(client, name)
    report = json.loads(result.stdout)
    assert report["url"].startswith("http://127.0.0.1:")
    assert result.exit_code == 0, report["failing"] or result.stderr[-3000:]
    checks = {c["id"]: c for s in report["steps"] for i in s["items"] for c in i["checks"]}
    assert checks["live.permission_matrix"]["status"] == "pass"
    assert "probed 64 of 64" in checks["live.permission_matrix"]["note"]
    assert checks["live.roles_granted"]["status"] == "pass"  # the admin made in the container
    assert checks["live.ready"]["status"] == "pass"
    # PostgreSQL enforces the rules too, read from staging's catalog (wizard/checklist/row_security.py).
    for check_id in (
        "live.row_level_security_forced",
        "live.row_level_security_policies",
        "live.api_database_role",
    ):
        assert checks[check_id]["status"] == "pass", checks[check_id]
    assert "connects as app_api" in checks["live.api_database_role"]["note"]
    assert not (project / ".venv").exists()
    for check_id in (
        "project.migrations_current",
        "project.rate_limits",
        "project.outbox_production",
    ):
        assert checks[check_id]["status"] == "pass", checks[check_id]
    assert drifted.exit_code == 1, drifted.stdout[-3000:]
    failing = {(f["item"], f["check"]) for f in json.loads(drifted.stdout)["failing"]}
    assert failing == {("objects", "project.migrations_current")}, failing
