"""The pipeline: a spec becomes a committed project, or nothing is left behind."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from tests.fakes import fake_render, install_fake_blueprints, snapshot
from wizard import envfile
from wizard.errors import BadInput, Cancelled, ShipyardError
from wizard.events import Event
from wizard.pipeline import create_project
from wizard.spec import load_spec


@pytest.fixture
def spec(studio_spec_file: Path):
    return load_spec(studio_spec_file)


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(project), *args], check=True, capture_output=True, text=True
    ).stdout


def test_creates_a_committed_project_with_private_env(tmp_path, monkeypatch, spec):
    install_fake_blueprints(monkeypatch)
    events: list[Event] = []

    project = create_project(spec, tmp_path / "studio", on_event=events.append)

    assert project == tmp_path / "studio"
    assert [e.step for e in events] == ["render", "spec", "secrets", "git", "done"]
    assert git(project, "rev-list", "--count", "HEAD").strip() == "1"
    tracked = git(project, "ls-files").split()
    assert "shipyard.yaml" in tracked and ".env" not in tracked
    assert git(project, "status", "--porcelain").strip() == ""
    env = envfile.read_env(project)
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600
    assert env["ENVIRONMENT"] == "development"
    assert len(env["SECRET_KEY"]) >= 64
    assert env["SECRET_KEY"] not in (project / "shipyard.yaml").read_text()
    # The project folder itself is an ordinary folder, not mkdtemp's private 0700.
    assert stat.S_IMODE(project.stat().st_mode) & 0o055
    assert [p.name for p in tmp_path.iterdir()] == ["studio"]


def test_secrets_differ_between_projects(tmp_path, monkeypatch, spec):
    install_fake_blueprints(monkeypatch)
    first = envfile.read_env(create_project(spec, tmp_path / "a"))
    second = envfile.read_env(create_project(spec, tmp_path / "b"))
    assert first["SECRET_KEY"] != second["SECRET_KEY"]


def test_uses_an_existing_empty_folder(tmp_path, monkeypatch, spec):
    install_fake_blueprints(monkeypatch)
    (tmp_path / "empty").mkdir()
    project = create_project(spec, tmp_path / "empty")
    assert (project / "shipyard.yaml").is_file()


def test_refuses_a_folder_with_files_and_changes_nothing(tmp_path, monkeypatch, spec):
    install_fake_blueprints(monkeypatch)
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    with pytest.raises(BadInput, match="not empty"):
        create_project(spec, dest)
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]


def test_ctrl_c_while_rendering_leaves_nothing(tmp_path, monkeypatch, spec):
    def interrupted(spec, dest):
        fake_render(spec, dest)  # half the files are already there
        raise KeyboardInterrupt

    install_fake_blueprints(monkeypatch, interrupted)
    dest = tmp_path / "deep" / "er" / "studio"
    with pytest.raises(Cancelled, match="nothing was written"):
        create_project(spec, dest)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []  # the parents it created are gone too


def test_a_failed_commit_leaves_nothing(tmp_path, monkeypatch, spec):
    from wizard import repo

    install_fake_blueprints(monkeypatch)

    def broken(path, message):
        raise ShipyardError("Could not commit: disk full")

    monkeypatch.setattr(repo, "commit_all", broken)
    with pytest.raises(ShipyardError, match="disk full"):
        create_project(spec, tmp_path / "studio")
    assert list(tmp_path.iterdir()) == []


def test_stops_when_the_blueprint_would_commit_env(tmp_path, monkeypatch, spec):
    def leaky(spec, dest):
        fake_render(spec, dest)
        (Path(dest) / ".gitignore").write_text("__pycache__/\n")

    install_fake_blueprints(monkeypatch, leaky)
    with pytest.raises(ShipyardError, match=r"\.env"):
        create_project(spec, tmp_path / "studio")
    assert list(tmp_path.iterdir()) == []


def test_env_follows_the_blueprint_example(spec):
    example = (
        "# comment kept\n"
        "ENVIRONMENT=production\n"
        "SECRET_KEY=change-me\n"
        "SMTP_PASSWORD=\n"
        "SMS_API_TOKEN=<your token>\n"
        "SMTP_HOST=localhost\n"
        'CORS_ORIGINS=["http://localhost:5173"]\n'
    )
    text = envfile.render_env(spec, example)
    values = dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert "# comment kept" in text
    assert values["ENVIRONMENT"] == "development"
    assert values["SECRET_KEY"] not in ("", "change-me")
    assert values["SMTP_PASSWORD"] == ""  # not configured stays not configured
    assert len(values["SMS_API_TOKEN"]) >= 32
    assert values["SMTP_HOST"] == "localhost"
    assert values["CORS_ORIGINS"] == '["http://localhost:5173"]'  # the blueprint's format wins
    assert list(values).count("SECRET_KEY") == 1
