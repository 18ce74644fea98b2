"""`shipyard launch`: render, commit, publish, up and check unattended, with one summary."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wizard.cli import app
from wizard.staging import local

REPO = Path(__file__).resolve().parent.parent
STUDIO = REPO / "examples" / "studio-booking.yaml"


def launch(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["launch", *args], env=env)


def test_launch_needs_a_spec(tmp_path):
    result = launch(str(tmp_path / "app"), "--yes")
    assert result.exit_code == 2
    assert "--spec FILE" in result.stderr


def test_a_failed_render_names_the_step(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("a file, not a folder")
    result = launch(str(taken), "--spec", str(STUDIO), "--yes", "--format", "json")
    assert result.exit_code == 2
    summary = json.loads(result.stdout)
    assert summary["schema"] == "shipyard.launch/1"
    assert summary["failed_step"] == "render"
    assert [s["name"] for s in summary["steps"]] == ["render"]
    assert "launch stopped at step 'render'" in result.stderr


def test_a_failed_up_names_the_step_after_render_and_publish(tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    dest = tmp_path / "studio-booking"
    result = launch(
        str(dest),
        "--spec",
        str(STUDIO),
        "--yes",
        "--remote",
        str(remote),
        "--target",
        "docker",
        "--format",
        "json",
        env={"DOCKER_HOST": f"unix://{tmp_path}/no-such-docker.sock"},
    )
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    steps = {s["name"]: s["status"] for s in summary["steps"]}
    assert steps == {"render": "ok", "publish": "ok", "up": "failed"}
    assert summary["failed_step"] == "up"
    assert summary["check"] is None
    assert "launch stopped at step 'up'" in result.stderr
    # The commit really reached the remote.
    heads = subprocess.run(
        ["git", "ls-remote", str(remote)], capture_output=True, text=True, check=True
    ).stdout
    assert "refs/heads/main" in heads


@pytest.mark.slow
def test_launch_runs_every_step_and_reports_the_check(tmp_path):
    from test_check_live import has_rate_limits, make_venv

    from wizard.pipeline import create_project
    from wizard.spec import load_spec

    # The project exists already (with a ready .venv, so no package index is needed):
    # launch keeps it, then publishes, starts staging and checks it.
    dest = create_project(load_spec(STUDIO), tmp_path / "studio-booking")
    make_venv(dest)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    try:
        result = launch(
            str(dest),
            "--spec",
            str(STUDIO),
            "--yes",
            "--remote",
            str(remote),
            "--target",
            "local",
            "--format",
            "json",
        )
    finally:
        local.down(dest)
    summary = json.loads(result.stdout)
    steps = {s["name"]: s["status"] for s in summary["steps"]}
    assert steps["render"] == steps["publish"] == steps["up"] == "ok", summary["steps"]
    check = summary["check"]
    assert check["schema"] == "shipyard.check/1"
    assert check["url"].startswith("http://127.0.0.1:")
    failing = {f["item"] for f in check["failing"]}
    if has_rate_limits(dest):
        assert result.exit_code == 0 and failing == set(), check["failing"]
    else:
        assert failing <= {"login-limits"}, check["failing"]
        assert result.exit_code == (1 if failing else 0)
    if result.exit_code:
        assert summary["failed_step"] == "check"
