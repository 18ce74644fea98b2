"""`--target local` process management, on a stand-in project that needs no dependencies.

The stand-in ships its own `alembic` and `uvicorn` packages (found first, from the project
folder), so these tests exercise the real start / wait / stop code in seconds. The slow
render tests run the same target on a real rendered project.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wizard.cli import app
from wizard.errors import ShipyardError
from wizard.staging import local

FAKE_UVICORN = textwrap.dedent(
    """
    import argparse, http.server, json, os, socket, sys

    parser = argparse.ArgumentParser()
    parser.add_argument("app")
    parser.add_argument("--fd", type=int)  # the listening socket Shipyard bound for it
    args = parser.parse_args()
    if os.environ.get("FAKE_API_CRASH"):
        sys.exit("ImportError: the app is broken on purpose")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "ok", "env": os.environ.get("ENVIRONMENT"),
                               "db": os.environ.get("DATABASE_URL")}).encode()
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

    print("Uvicorn running", flush=True)
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
    server.socket = socket.socket(fileno=args.fd)
    server.serve_forever()
    """
)

FAKE_ALEMBIC = 'import pathlib, sys\npathlib.Path("migrated").write_text(" ".join(sys.argv[1:]))\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "0"\n')
    (root / "shipyard.yaml").write_text("# a stand-in\n")
    for name, main in (("uvicorn", FAKE_UVICORN), ("alembic", FAKE_ALEMBIC)):
        (root / name).mkdir()
        (root / name / "__init__.py").write_text("")
        (root / name / "__main__.py").write_text(main)
    (root / ".env").write_text("ENVIRONMENT=development\nSECRET_KEY=x\n")
    # A ready-made venv: any Python will do for the stand-in.
    bin_dir = local.venv_python(root).parent
    bin_dir.mkdir(parents=True)
    os.symlink(sys.executable, local.venv_python(root))
    digest = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()
    (root / local.VENV / local.STAMP_FILE).write_text(digest)
    yield root
    local.down(root)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_up_status_down(project, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://somewhere/else")
    staging = local.up(project)

    assert staging.running and staging.target == "local"
    assert staging.api_url.startswith("http://127.0.0.1:")
    assert staging.docs_url == staging.api_url + "/docs"
    health = get_json(staging.api_url + "/health")
    assert health["env"] == "development"  # read from the project's .env
    assert health["db"] is None  # never the shell's database: the local target is SQLite
    assert (project / "migrated").read_text() == "upgrade head"
    state = project / ".shipyard"
    assert (state / ".gitignore").read_text() == "*\n"
    assert (state / "local.json").is_file()

    again = local.up(project)  # re-running is safe: same process
    assert again.api_url == staging.api_url
    assert again.details["pid"] == staging.details["pid"]
    assert local.status(project).running

    assert local.down(project) is True
    assert not local.status(project).running
    assert not (state / "local.json").exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(staging.api_url + "/health", timeout=2)
    assert local.down(project) is False


def test_a_crashing_api_is_reported_with_its_log(project, monkeypatch):
    monkeypatch.setenv("FAKE_API_CRASH", "1")
    with pytest.raises(ShipyardError) as caught:
        local.up(project)
    assert "broken on purpose" in caught.value.message
    assert "local.log" in caught.value.hint
    assert not local.status(project).running


def test_cli_up_status_down(project):
    runner = CliRunner()
    up = runner.invoke(app, ["up", "--target", "local", "-C", str(project)])
    assert up.exit_code == 0, up.output
    lines = up.stdout.splitlines()
    assert lines[0] == "Status: running (local)"
    url = lines[1].split()[-1]
    assert url.startswith("http://127.0.0.1:")
    assert f"{url}/docs" in up.stdout and f"{url}/dev/outbox" in up.stdout

    # Without --target, a running local backend is the one meant.
    status = runner.invoke(app, ["status", "-C", str(project), "--json"])
    assert status.exit_code == 0, status.output
    data = json.loads(status.stdout)
    assert data["running"] is True and data["api_url"] == url

    down = runner.invoke(app, ["down", "-C", str(project)])
    assert down.exit_code == 0 and down.stdout.strip() == "stopped"
    status = runner.invoke(app, ["status", "--target", "local", "-C", str(project)])
    assert status.stdout.startswith("Status: stopped")


def test_ctrl_c_while_waiting_leaves_nothing_running(project, monkeypatch):
    started = []

    def interrupted(url, process, timeout):
        started.append(process)
        raise KeyboardInterrupt

    monkeypatch.setattr(local, "_wait_healthy", interrupted)
    with pytest.raises(KeyboardInterrupt):
        local.up(project)
    (process,) = started
    assert process.wait(timeout=15) is not None
    assert not (project / ".shipyard" / "local.json").exists()
    assert not local.status(project).running


def test_a_folder_that_is_not_a_project(tmp_path):
    with pytest.raises(ShipyardError, match="-C DIR"):
        local.up(tmp_path)


@pytest.mark.slow
def test_a_rendered_project_runs_locally(tmp_path, studio_spec_file):
    """The quick start's path: render, commit, `up --target local`, sign up, `down`."""
    runner = CliRunner()
    dest = tmp_path / "studio"
    created = runner.invoke(app, ["new", str(dest), "--spec", str(studio_spec_file), "--yes"])
    assert created.exit_code == 0, created.output
    try:
        up = runner.invoke(app, ["up", "--target", "local", "-C", str(dest), "--json"])
        assert up.exit_code == 0, up.output
        url = json.loads(up.stdout)["api_url"]
        assert get_json(url + "/health")["status"] == "ok"
        signup = urllib.request.Request(
            url + "/auth/signup",
            data=json.dumps(
                {"email": "founder@example.com", "password": "a long passphrase 42"}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(signup, timeout=10) as response:
            assert response.status == 202
        assert get_json(url + "/api/studios") == {"items": [], "total": 0}
        # Nothing the local target made (venv, database, state, log) shows up in git.
        status = subprocess.run(
            ["git", "-C", str(dest), "status", "--porcelain"], capture_output=True, text=True
        )
        assert status.stdout == ""
    finally:
        down = runner.invoke(app, ["down", "--target", "local", "-C", str(dest)])
    assert down.exit_code == 0 and down.stdout.strip() == "stopped"


def test_the_port_is_kept_across_restarts_and_moved_only_when_taken(project):
    first = local.up(project)
    port = int(first.api_url.rsplit(":", 1)[1])
    assert (project / ".shipyard" / "local-port").read_text().strip() == str(port)
    assert ("moved" in first.details) == (port != local.PREFERRED_PORT)  # 8000 was taken
    local.down(project)
    assert local.up(project).api_url == first.api_url  # the frontend's address still works
    local.down(project)

    import socket

    with socket.socket() as squatter:  # another program takes the port meanwhile
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        said: list[str] = []
        moved = local.up(project, on_event=lambda event: said.append(event.message))
        new_port = int(moved.api_url.rsplit(":", 1)[1])
        assert new_port != port
        assert f"Port {port} is taken" in moved.details["moved"]
        assert any(f"moved to port {new_port}" in line for line in said)
    local.down(project)
    # The new port is this project's from now on, even once the old one is free again.
    assert local.up(project).api_url == moved.api_url


def test_a_taken_port_8000_is_said_on_the_first_up(project, monkeypatch):
    """The project's README gives a frontend port 8000: when another program holds it, the
    first `up` says which port the API uses instead, and keeps it. (The preferred port is
    one this test holds for the whole call: 8000 itself may be taken and let go meanwhile
    by a test in the other test process.)"""
    import socket

    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    held = squatter.getsockname()[1]
    monkeypatch.setattr(local, "PREFERRED_PORT", held)
    try:
        said: list[str] = []
        first = local.up(project, on_event=lambda event: said.append(event.message))
    finally:
        squatter.close()
    port = int(first.api_url.rsplit(":", 1)[1])
    assert port != held
    assert (
        f"Port {held} is taken by another program, so the API uses port {port}"
        in (first.details["moved"])
    )
    assert any(f"tell your frontend http://127.0.0.1:{port}" in line for line in said)
    assert (project / ".shipyard" / "local-port").read_text().strip() == str(port)


def test_down_volumes_deletes_the_local_database_after_asking(project):
    runner = CliRunner()
    (project / "proj.db").write_text("data")
    (project / "proj.db-wal").write_text("data")
    assert runner.invoke(app, ["up", "--target", "local", "-C", str(project)]).exit_code == 0

    refused = runner.invoke(app, ["down", "--volumes", "-C", str(project)], input="n\n")
    assert refused.exit_code == 2, refused.output  # no terminal: only --yes may say yes
    assert "--yes" in refused.stderr
    assert (project / "proj.db").exists()

    gone = runner.invoke(app, ["down", "--volumes", "--yes", "-C", str(project)])
    assert gone.exit_code == 0, gone.output
    assert gone.stdout.strip() == "stopped, data deleted"
    assert not (project / "proj.db").exists() and not (project / "proj.db-wal").exists()
    assert not local.status(project).running


def test_the_question_names_the_local_database_file(project, monkeypatch):
    from wizard.commands import common

    (project / ".env").write_text("ENVIRONMENT=development\nDATABASE_URL=sqlite:///./data.db\n")
    (project / "data.db").write_text("data")
    (project / "other.db").write_text("not the app's")
    monkeypatch.setattr(common, "can_prompt", lambda: True)
    result = CliRunner().invoke(
        app, ["down", "--volumes", "--target", "local", "-C", str(project)], input="y\n"
    )
    assert result.exit_code == 0, result.output
    assert "Delete the local database (data.db)" in result.output
    assert not (project / "data.db").exists()
    assert (project / "other.db").exists()


@pytest.fixture
def docker_project(project, monkeypatch):
    """The stand-in, as a project whose spec asks for Docker staging, on a machine without it."""
    (project / "shipyard.yaml").write_text(
        "app: {name: proj, title: Proj}\nstaging: {target: docker}\n"
        "objects: {Note: {fields: {title: string}}}\n"
    )
    (project / "Dockerfile").write_text("FROM scratch\n")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{project}/no-docker.sock")
    return project


def test_a_failed_docker_up_names_the_local_target(docker_project, monkeypatch):
    result = CliRunner().invoke(app, ["up", "-C", str(docker_project)])
    assert result.exit_code == 1
    assert "cannot reach the Docker engine" in result.stderr
    # Run from elsewhere with -C: the command it names says which project, so it works as typed.
    assert f" up --target local -C {docker_project}` runs the API as a local" in result.stderr
    assert not (docker_project / ".shipyard" / "target").exists()
    monkeypatch.chdir(docker_project)
    inside = CliRunner().invoke(app, ["up"])
    assert " up --target local` runs the API as a local process" in inside.stderr


def test_a_failed_docker_up_offers_local_and_remembers_the_answer(docker_project, monkeypatch):
    from wizard.commands import staging as staging_commands

    monkeypatch.setattr(staging_commands, "can_prompt", lambda: True)
    runner = CliRunner()
    result = runner.invoke(app, ["up", "-C", str(docker_project)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "local process on SQLite instead" in result.output
    assert "Status: running (local)" in result.stdout.splitlines()
    assert (docker_project / ".shipyard" / "target").read_text().strip() == "local"
    assert runner.invoke(app, ["down", "-C", str(docker_project)]).exit_code == 0
    # Remembered: the next `up` goes straight to the local process, asking nothing.
    again = runner.invoke(app, ["up", "-C", str(docker_project)])
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[0] == "Status: running (local)"
    assert "Docker" not in again.stderr


def test_docker_readiness_says_when_no_engine_answers(tmp_path, monkeypatch):
    from wizard.staging import engine

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    problem = engine.readiness(["postgres:16-alpine"], timeout=5)
    assert problem is not None and problem.startswith("no Docker engine answers")


@pytest.mark.docker
def test_a_remembered_local_target_says_when_docker_answers_again(project, monkeypatch):
    """Local since Docker failed once; now an engine answers and has the images: `up` says
    so and how to switch back, and at a terminal a no stays local."""
    import docker

    from wizard.commands import staging as staging_commands
    from wizard.staging import chosen_target, remember_target

    client = docker.from_env()
    present = next(tag for image in client.images.list() for tag in image.tags)
    client.close()
    monkeypatch.setenv("SHIPYARD_PYTHON_IMAGE", present)
    monkeypatch.setenv("SHIPYARD_POSTGRES_IMAGE", present)
    (project / "shipyard.yaml").write_text(
        "app: {name: proj, title: Proj}\nstaging: {target: docker}\n"
        "objects: {Note: {fields: {title: string}}}\n"
    )
    remember_target(project, "local")
    runner = CliRunner()
    quiet = runner.invoke(app, ["up", "-C", str(project)])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout.splitlines()[0] == "Status: running (local)"
    assert "A Docker engine answers on this machine now" in quiet.stderr
    assert f" up --target docker -C {project}` switches back to Docker staging" in quiet.stderr
    # Running: nothing to switch, nothing said.
    again = runner.invoke(app, ["up", "-C", str(project)])
    assert again.exit_code == 0 and "Docker" not in again.stderr
    assert runner.invoke(app, ["down", "-C", str(project)]).exit_code == 0

    monkeypatch.setattr(staging_commands, "can_prompt", lambda: True)
    declined = runner.invoke(app, ["up", "-C", str(project)], input="n\n")
    assert declined.exit_code == 0, declined.output
    assert "Start Docker staging (the API and PostgreSQL in containers) instead?" in declined.stderr
    assert "Staying local" in declined.stderr
    assert "Status: running (local)" in declined.stdout
    assert chosen_target(project) == "local"


def test_an_update_restarts_the_local_api_and_a_failed_migration_says_what_runs(project):
    """wizard.rollout on local staging (the stand-in's alembic and uvicorn): the API is
    restarted on the same address after the migration; when the migration fails the API
    stays stopped and the message says so, names the commit and `shipyard up`."""
    import sqlite3

    from wizard.rollout import roll_out
    from wizard.staging import remember_target

    remember_target(project, "local")
    first = local.up(project)
    (project / "migrated").unlink()
    done = roll_out(project, loses_data=False)
    assert done.applied and done.api_url == first.api_url, done
    assert local.status(project).details["pid"] != first.details["pid"]
    assert (project / "migrated").read_text() == "upgrade head"  # the migration ran once

    # A data-losing update backs the SQLite file up first.
    with sqlite3.connect(project / "proj.db") as db:
        db.execute("CREATE TABLE notes (body TEXT)")
        db.execute("INSERT INTO notes VALUES ('kept')")
    fake_alembic = (project / "alembic" / "__main__.py").read_text()
    (project / "alembic" / "__main__.py").write_text(
        'import sys\nsys.exit("sqlite3.OperationalError: duplicate column name: town")\n'
    )
    failed = roll_out(project, loses_data=True)
    assert not failed.applied and failed.runs_now is False
    assert failed.backup is not None and failed.backup.parent == project / "backups"
    with sqlite3.connect(failed.backup) as copy:
        assert copy.execute("SELECT body FROM notes").fetchall() == [("kept",)]
    text = "\n".join(failed.lines("0123456789abcdef"))
    assert "Staging (local) was not updated: Could not apply the database migrations" in text
    assert "duplicate column name: town" in text
    assert "Staging is stopped now. The code is committed as 0123456789ab" in text
    assert "run `shipyard up` to finish" in text
    assert "`git revert --no-edit 0123456789ab`, then `shipyard down`" in text
    assert not local.status(project).running
    (project / "alembic" / "__main__.py").write_text(fake_alembic)
