"""`shipyard new` and `shipyard edit` around the wizard: refusals, and editing a real project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wizard.cli import app
from wizard.spec import load_spec

SHIPYARD = str(Path(sys.executable).with_name("shipyard"))


def test_core_modules_of_the_wizard_import_no_front_end() -> None:
    code = (
        "import sys, wizard.answers, wizard.drafts, wizard.checklist.model; "
        "print(sorted(m for m in ('textual', 'questionary', 'typer') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_edit_needs_a_project(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["edit", "-C", str(tmp_path)])
    assert result.exit_code == 2
    assert "no shipyard.yaml" in result.output


def test_edit_without_a_terminal_is_refused(tmp_path: Path, studio_spec_file: Path) -> None:
    (tmp_path / "shipyard.yaml").write_text(studio_spec_file.read_text(encoding="utf-8"))
    result = CliRunner().invoke(app, ["edit", "-C", str(tmp_path)])
    assert result.exit_code == 2
    assert "cannot ask questions" in result.output


def test_new_into_a_folder_that_is_not_empty_is_refused_before_any_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", encoding="utf-8")
    monkeypatch.setattr("wizard.commands.project.can_prompt", lambda: True)
    result = CliRunner().invoke(app, ["new", str(tmp_path / "busy")])
    assert result.exit_code == 2
    assert "not empty" in result.output


def test_edit_saves_the_changed_spec(
    tmp_path: Path, studio_spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec_file = tmp_path / "shipyard.yaml"
    spec_file.write_text(studio_spec_file.read_text(encoding="utf-8"))
    original = load_spec(spec_file)

    def edit_spec(spec, project):  # type: ignore[no-untyped-def]
        assert project == tmp_path.resolve()
        changed = spec.model_copy(deep=True)
        changed.roles = ["staff", "teacher"]
        return changed

    monkeypatch.setattr("wizard.commands.project.can_prompt", lambda: True)
    monkeypatch.setattr("wizard.tui.edit_spec", edit_spec)
    result = CliRunner().invoke(app, ["edit", "-C", str(tmp_path)])
    assert result.exit_code == 0, result.output
    saved = load_spec(spec_file)
    assert saved.roles == ["staff", "teacher"] and saved.objects == original.objects
    # Written through the round trip (6360982): the founder's comments stay, only roles change.
    text = spec_file.read_text(encoding="utf-8")
    assert "roles: [staff, teacher]" in text
    assert "# 'admin' always exists" in text and "# which blueprint renders" in text
    assert not list(tmp_path.glob(".*.tmp"))


def test_edit_in_a_terminal_walks_the_steps_and_saves(
    tmp_path: Path, studio_spec_file: Path
) -> None:
    """The real `shipyard edit` in tmux: change the title, step through, save."""
    from test_tui_e2e import Terminal

    spec_file = tmp_path / "shipyard.yaml"
    spec_file.write_text(studio_spec_file.read_text(encoding="utf-8"))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TMUX") and key != "CI"
    }
    env["TERM"] = "xterm-256color"
    terminal = Terminal(tmp_path, f"{SHIPYARD} edit", env)
    try:
        terminal.wait_for("App basics")
        terminal.keys("End")
        terminal.type(" Pro")
        for heading in (
            "Objects and fields",
            "Ownership",
            "Login methods",
            "Permissions",
            "Frontend and CORS",
            "Staging",
            "Monitoring and alerts",
            "review your answers",
        ):
            terminal.keys("C-n")
            terminal.wait_for(heading)
        terminal.keys("C-n")
        screen = terminal.wait_for("EXIT=")
    finally:
        terminal.close()
    assert "EXIT=0" in screen, screen
    saved = load_spec(spec_file)
    assert saved.app.title == "Studio Booking Pro"
    assert saved.objects == load_spec(studio_spec_file).objects
