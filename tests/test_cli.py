"""The command line: exit codes, stderr messages, and what it leaves on disk."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fakes import fake_render, install_fake_blueprints, snapshot
from wizard import envfile
from wizard.cli import app

BAD_SPEC = """\
app:
  name: Not A Slug
  title: Broken
objects:
  Thing:
    owner: creator
    fields:
      name: {type: strnig}
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(project), *args], check=True, capture_output=True, text=True
    ).stdout


def test_new_without_spec_in_ci_names_the_option(runner, tmp_path):
    result = run(runner, "new", str(tmp_path / "p"), env={"CI": "true"})
    assert result.exit_code == 2
    assert "--spec" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "p").exists()


def test_new_without_spec_and_without_terminal_never_prompts(runner, tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = run(runner, "new", str(tmp_path / "p"))  # CliRunner's stdin is not a terminal
    assert result.exit_code == 2
    assert "--spec" in result.stderr


def test_yes_without_spec_is_bad_input(runner, tmp_path):
    result = run(runner, "new", str(tmp_path / "p"), "--yes")
    assert result.exit_code == 2
    assert "--spec" in result.stderr


def test_refuses_a_non_empty_folder_and_changes_nothing(
    runner, tmp_path, monkeypatch, studio_spec_file
):
    install_fake_blueprints(monkeypatch)
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "index.html").write_text("<h1>my frontend</h1>")
    before = snapshot(tmp_path)

    result = run(runner, "new", str(dest), "--spec", str(studio_spec_file), "--yes")

    assert result.exit_code == 2
    assert "not empty" in result.stderr and "Choose another folder" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(tmp_path) == before


def test_bad_spec_is_exit_2_with_located_message_and_nothing_written(runner, tmp_path):
    spec = tmp_path / "shipyard.yaml"
    spec.write_text(BAD_SPEC)
    dest = tmp_path / "out"

    result = run(runner, "new", str(dest), "--spec", str(spec), "--yes")

    assert result.exit_code == 2, result.output
    assert str(spec) in result.stderr
    assert "line" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert not dest.exists()


def test_required_references_in_a_circle_are_refused_before_rendering(runner, tmp_path):
    spec = tmp_path / "shipyard.yaml"
    spec.write_text(
        "app: {name: loop, title: Loop}\n"
        "objects:\n"
        "  A:\n"
        "    fields: {b: {type: ref, to: B, required: true}}\n"
        "  B:\n"
        "    fields: {a: {type: ref, to: A, required: true}}\n"
    )
    dest = tmp_path / "out"

    result = run(runner, "new", str(dest), "--spec", str(spec), "--yes")

    assert result.exit_code == 2, result.output
    located = f"{spec}, line 4: objects.A.fields.b: required references go round in a circle"
    assert located in result.stderr
    assert "(A.b -> B.a -> A)" in result.stderr and "optional" in result.stderr
    assert "Traceback" not in result.output
    assert not dest.exists()


def test_missing_spec_file_is_bad_input(runner, tmp_path):
    result = run(runner, "new", str(tmp_path / "p"), "--spec", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "nope.yaml" in result.stderr
    assert "Traceback" not in result.output


def test_success_one_commit_and_private_untracked_env(runner, tmp_path, studio_spec_file):
    dest = tmp_path / "studio"  # the real fastapi blueprint

    result = run(runner, "new", str(dest), "--spec", str(studio_spec_file), "--yes")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(dest)  # stdout carries data only
    assert git(dest, "rev-list", "--count", "HEAD").strip() == "1"
    tracked = git(dest, "ls-files").split()
    assert ".env" not in tracked
    assert git(dest, "check-ignore", ".env").strip() == ".env"
    assert git(dest, "status", "--porcelain", "--ignored=no").strip() == ""
    assert stat.S_IMODE((dest / ".env").stat().st_mode) == 0o600
    secrets = {
        value
        for key, value in envfile.read_env(dest).items()
        if key in ("SECRET_KEY", "POSTGRES_PASSWORD")
    }
    assert secrets and all(len(s) >= 32 for s in secrets)
    for name in tracked:
        text = (dest / name).read_text(errors="replace")
        assert not any(s in text for s in secrets), f"a secret leaked into {name}"
    assert "shipyard.yaml" in tracked and ".env.example" in tracked
    assert not any(s in (dest / ".env.example").read_text() for s in secrets)
    assert [p.name for p in tmp_path.iterdir()] == ["studio"]  # no temporary folder left


def test_default_folder_is_the_app_name(runner, tmp_path, monkeypatch, studio_spec_file):
    install_fake_blueprints(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no `shipyard` on it
    result = run(runner, "new", "--spec", str(studio_spec_file), "--yes")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "studio-booking" / "shipyard.yaml").is_file()
    # The next steps, each command spelled so that it runs as typed without shipyard on PATH.
    assert "Next steps:\n  1. cd studio-booking\n" in result.stderr
    assert f"2. {sys.executable} -m wizard up " in result.stderr


def test_ctrl_c_says_nothing_was_written(runner, tmp_path, monkeypatch, studio_spec_file):
    def interrupted(spec, dest):
        fake_render(spec, dest)
        raise KeyboardInterrupt

    install_fake_blueprints(monkeypatch, interrupted)
    dest = tmp_path / "studio"
    result = run(runner, "new", str(dest), "--spec", str(studio_spec_file), "--yes")
    assert result.exit_code == 130
    assert "nothing was written" in result.stderr
    assert "Traceback" not in result.output
    assert not dest.exists()


def test_unexpected_errors_are_a_sentence_unless_verbose(
    runner, tmp_path, monkeypatch, studio_spec_file
):
    def broken(spec, dest):
        raise RuntimeError("template exploded")

    install_fake_blueprints(monkeypatch, broken)
    args = ["new", str(tmp_path / "a"), "--spec", str(studio_spec_file), "--yes"]

    quiet = run(runner, *args)
    assert quiet.exit_code == 1
    assert "template exploded" in quiet.stderr
    assert "Traceback" not in quiet.output

    loud = run(runner, "--verbose", *args)
    assert loud.exit_code == 1
    assert "Traceback" in loud.stderr
    assert not (tmp_path / "a").exists()


def test_usage_errors_are_exit_2_not_a_crash(runner):
    result = run(runner, "new", "--no-such-option")
    assert result.exit_code == 2
    assert "no-such-option" in result.stderr
    assert "unexpected problem" not in result.stderr


def test_up_outside_a_project_is_bad_input(runner, tmp_path):
    result = run(runner, "up", "-C", str(tmp_path))
    assert result.exit_code == 2
    assert "shipyard.yaml" in result.stderr
    assert "-C" in result.stderr


def test_unknown_target_is_bad_input(runner, tmp_path):
    result = run(runner, "status", "--target", "moon", "-C", str(tmp_path))
    assert result.exit_code == 2
    assert "docker, local" in result.stderr


def _console_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CI"] = "true"
    return env


def test_console_script_runs_in_a_subprocess(tmp_path):
    script = Path(sys.executable).with_name("shipyard")
    assert script.exists(), "install Shipyard (pip install -e .) so the console script exists"

    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip()

    no_spec = subprocess.run(
        [str(script), "new", str(tmp_path / "p")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=_console_env(),
    )
    assert no_spec.returncode == 2
    assert "--spec" in no_spec.stderr
    assert no_spec.stdout == ""
    assert "Traceback" not in no_spec.stderr


def test_messages_name_a_command_that_runs_as_typed(tmp_path):
    script = Path(sys.executable).with_name("shipyard")
    env = {**_console_env(), "PATH": "/usr/bin:/bin"}

    def hint(path: str) -> str:
        result = subprocess.run(
            [str(script), "new", str(tmp_path / "p")],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, "PATH": path},
        )
        return result.stderr

    # Not on PATH: the hint names the program by its full path.
    assert f"for example: {script} new --spec" in hint("/usr/bin:/bin")
    # On PATH (as scripts/try-it leaves it): plain `shipyard`.
    assert "for example: shipyard new --spec" in hint(f"{script.parent}:/usr/bin:/bin")


def test_python_dash_m_wizard_is_the_same_command():
    result = subprocess.run(
        [sys.executable, "-m", "wizard", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "new" in result.stdout and "up" in result.stdout
