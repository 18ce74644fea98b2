"""`shipyard check` on a screen: Pilot tests of the report screen, snapshots, and the real terminal.

Update the snapshots after an intended change with:
pytest tests/test_check_tui.py --snapshot-update
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path

import pytest
from test_check import SPEC, project  # noqa: F401 - `project` is a fixture
from textual.pilot import Pilot
from textual.widgets import OptionList, Static
from typer.testing import CliRunner

from wizard.checklist import report as reports
from wizard.checklist.runner import build_context, run_checklist
from wizard.cli import app
from wizard.errors import BadInput
from wizard.events import Event
from wizard.tui.check_app import CheckApp, CheckRunningScreen
from wizard.tui.check_report import CheckReportScreen

SHIPYARD = str(Path(sys.executable).with_name("shipyard"))
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
SHOWN_AS = "/srv/notes"  # snapshots must not depend on the temporary folder


def failing_report(project: Path, *, acknowledge: bool = True):  # noqa: F811
    """.env not ignored (fails), a public delete (warns), an acknowledged unused role."""
    text = SPEC.replace("delete: owner", "delete: public").replace(
        "roles: [editor]", "roles: [editor, coach]"
    )
    if acknowledge:
        text += "acknowledged:\n  spec.roles_used: coaches arrive next month\n"
    (project / "shipyard.yaml").write_text(text)
    (project / ".gitignore").write_text(".venv/\n")
    report = run_checklist(build_context(project=project, live=False))
    report.project = SHOWN_AS
    for item in report.items:
        item.reason = item.reason.replace(str(project), SHOWN_AS)
        for check in item.checks:
            check.reason = check.reason.replace(str(project), SHOWN_AS)
    return report


def option_ids(screen: CheckReportScreen) -> list[str]:
    return [option.id or "" for option in screen.query_one("#report-items", OptionList).options]


def detail_text(screen: CheckReportScreen) -> str:
    return "\n".join(str(line.render()) for line in screen.query("#report-detail Static"))


async def test_the_failing_item_is_shown_first_with_its_fix(project) -> None:  # noqa: F811
    report = failing_report(project)
    app = CheckApp(report)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CheckReportScreen)
        ids = option_ids(screen)
        assert ids[:2] == ["step:secrets", "env-secrets"]
        assert screen.highlighted_item is not None
        assert screen.highlighted_item.id == "env-secrets"
        detail = detail_text(screen)
        assert detail.startswith("Fails · Secrets stay out of Git (env-secrets)")
        assert "Fix: Make sure .gitignore lists .env" in detail
        assert ".env is not listed in .gitignore" in detail
        summary = str(screen.query_one("#check-summary", Static).render())
        counts = report.summary
        assert counts["fail"] == 1 and counts["acknowledged"] == 1
        assert summary == (
            f"1 failed · {counts['warn']} warned · {counts['skipped']} skipped · "
            f"1 acknowledged · {counts['pass']} passed"
        )
        await pilot.press("q")
    assert app.return_value == 1


async def test_items_are_grouped_by_step_worst_first_and_the_arrows_walk_them(
    project,  # noqa: F811
) -> None:
    report = failing_report(project)
    expected: list[str] = []
    for step in reports.ordered_steps(report):  # the same order as the text report
        expected += [f"step:{step.id}", *(item.id for item in step.items)]
    app = CheckApp(report)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CheckReportScreen)
        ids = option_ids(screen)
        assert ids == expected
        assert sorted(i for i in ids if not i.startswith("step:")) == sorted(
            item.id for item in report.items
        )
        steps = {item.id: item.step for item in report.items}
        current = ""
        for option_id in ids:  # every item sits under its own step's heading
            if option_id.startswith("step:"):
                current = option_id.removeprefix("step:")
            else:
                assert steps[option_id] == current, option_id
        text = reports.to_text(report)
        headings = [line.strip("= ") for line in text.splitlines() if line.startswith("== ")]
        assert headings == [
            str(option.prompt)
            for option in screen.query_one("#report-items", OptionList).options
            if option.disabled
        ]
        # Down skips the next step's heading and shows that item's details.
        seen = []
        for _ in range(len(report.items) - 1):
            await pilot.press("down")
            await pilot.pause()
            assert screen.highlighted_item is not None
            seen.append(screen.highlighted_item.id)
            assert f"({screen.highlighted_item.id})" in detail_text(screen).splitlines()[0]
        assert seen == [i for i in ids if not i.startswith("step:")][1:]
        acknowledged = next(i for i in report.items if i.status == "acknowledged")
        while screen.highlighted_item is not acknowledged:
            await pilot.press("up")
        assert "Acknowledged: spec.roles_used: coaches arrive next month" in detail_text(screen)
        await pilot.press("escape")
    assert app.return_value == 1


async def test_quitting_returns_the_same_exit_code_as_the_text_report(
    project,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clean = run_checklist(build_context(project=project, live=False))
    assert int(clean.exit_code) == 0
    app = CheckApp(clean)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
    assert app.return_value == 0

    from wizard.checklist import context

    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(context.CHECKS, "spec.app_title", broken)
    errored = run_checklist(build_context(project=project, live=False))
    assert int(errored.exit_code) == 2
    app = CheckApp(errored)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "could not run" in str(app.screen.query_one("#check-summary", Static).render())
        await pilot.press("ctrl+q")
    assert app.return_value == 2


async def test_the_check_runs_in_a_worker_and_then_shows_its_report(project) -> None:  # noqa: F811
    report = failing_report(project)
    release = threading.Event()

    def run(on_event):
        for message in (
            "Checking the launch spec",
            "Probing the live API",
            "Checking the launch spec",
        ):
            on_event(Event("check", message))
        assert release.wait(30)
        return report

    app = CheckApp(run=run, title="/srv/notes")
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if len(app.screen.query(".event")) == 2:
                break
        assert isinstance(app.screen, CheckRunningScreen)
        said = [str(line.render()) for line in app.screen.query(".event")]
        assert said == ["· Checking the launch spec", "· Probing the live API"]  # each once
        await pilot.press("q")  # the probes must finish and tidy up first
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, CheckRunningScreen)
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, CheckReportScreen)
        await pilot.press("q")
    assert app.return_value == 1


async def test_a_check_that_cannot_start_closes_with_exit_code_2() -> None:
    def run(on_event):
        raise BadInput("The API at http://127.0.0.1:9 did not answer.", hint="Start it.")

    app = CheckApp(run=run)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.return_value == 2
    assert app.problem is not None and "did not answer" in app.problem.message


def test_the_cli_shows_the_screen_only_at_a_terminal_without_format_or_plain(
    project,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wizard import tui
    from wizard.commands import check

    shown: list[str] = []

    def fake_screen(title, run):
        shown.append(title)
        return int(run(lambda event: None).exit_code)

    monkeypatch.setattr(tui, "run_check", fake_screen)
    monkeypatch.setattr(check, "can_prompt", lambda: True)
    monkeypatch.setattr(check, "_tty_out", lambda: True)
    monkeypatch.setattr(
        check, "_report_format", lambda chosen, ci, allowed, plain=False: chosen or "text"
    )
    (project / ".gitignore").write_text(".venv/\n")
    runner = CliRunner()
    on_screen = runner.invoke(app, ["check", "-C", str(project), "--static"])
    assert on_screen.exit_code == 1
    assert shown == [str(project.resolve())]
    assert on_screen.stdout == ""
    for options in (["--plain"], ["--format", "text"]):
        text = runner.invoke(app, ["check", "-C", str(project), "--static", *options])
        assert text.exit_code == 1
        assert "== Secrets and deployment ==" in text.stdout
    assert len(shown) == 1


# --- snapshots ----------------------------------------------------------------------------


async def _settle(pilot: Pilot[object]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.1)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_report_screen(snap_compare, project, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert snap_compare(CheckApp(failing_report(project)), terminal_size=size, run_before=_settle)


def test_report_screen_on_a_warning(snap_compare, project) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    async def to_the_public_delete(pilot: Pilot[object]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, CheckReportScreen)
        while screen.highlighted_item is None or screen.highlighted_item.id != "public-writes":
            await pilot.press("down")
        await _settle(pilot)

    assert snap_compare(
        CheckApp(failing_report(project)), terminal_size=(80, 24), run_before=to_the_public_delete
    )


def test_report_screen_without_colour(snap_compare, project, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """With NO_COLOR the status still reads in words (FAIL, WARN, ok) and the cursor is reversed."""
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(
        CheckApp(failing_report(project)), terminal_size=(80, 24), run_before=_settle
    )


# --- the real terminal --------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_check_in_a_real_terminal_shows_the_report_and_quits_with_its_exit_code(
    project,  # noqa: F811
) -> None:
    from test_tui_e2e import Terminal

    (project / ".gitignore").write_text(".venv/\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TMUX") and key != "CI"
    }
    env["TERM"] = "xterm-256color"
    terminal = Terminal(project, f"{SHIPYARD} check --static", env)
    try:
        screen = terminal.wait_for("Press q to quit")
        assert "FAIL  Secrets stay out of Git" in screen
        assert "Fix: Make sure .gitignore lists .env" in screen
        terminal.keys("q")
        screen = terminal.wait_for("EXIT=")
    finally:
        terminal.close()
    assert "EXIT=1" in screen, screen
    plain = Terminal(project, f"{SHIPYARD} check --static --plain", env)
    try:
        screen = plain.wait_for("EXIT=")
    finally:
        plain.close()
    assert "Some items fail: fix them before launch." in screen
    assert "EXIT=1" in screen, screen
