"""The Textual front end; `run_wizard`, `edit_spec` and `run_check` are what the CLI calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from wizard.errors import Cancelled, ShipyardError

if TYPE_CHECKING:
    from wizard.checklist.results import Report
    from wizard.env_answers import EnvAnswers
    from wizard.events import EventSink
    from wizard.spec import LaunchSpec
    from wizard.tui.app import ShipyardApp


def run_wizard(dest: Path | None) -> Path:
    """Ask everything, create the project through the pipeline, and return its folder.

    Raises Cancelled, saying what is on disk, when the founder quits first.
    """
    from wizard.tui.app import ShipyardApp

    app = ShipyardApp(dest)
    app.run()
    if app.refused is not None:  # the folder is in use: said before any question
        raise app.refused
    if app.created is not None:
        return app.created
    _raise_if_crashed(app)
    raise Cancelled(app.quit_message)


def edit_spec(spec: LaunchSpec, project: Path) -> LaunchSpec:
    """Walk the wizard over an existing spec; returns the changed spec (not yet saved)."""
    from wizard.env_answers import EnvAnswers
    from wizard.tui.app import ShipyardApp

    app = ShipyardApp(project / "shipyard.yaml", spec=spec, mode="edit")
    before = EnvAnswers.from_env(project)
    app.env_answers = EnvAnswers(before.alert_url, before.sentry_dsn)
    result = app.run()
    _raise_if_crashed(app)
    if result is None:
        raise Cancelled(app.quit_message)
    _save_env_answers(app.env_answers, before, project)
    return result


def _save_env_answers(answers: EnvAnswers, before: EnvAnswers, project: Path) -> None:
    """The monitoring answers go into the project's .env (they are secrets), said on stderr."""
    import sys

    written = answers.write_changes(project, before)
    if written:
        print(f"Saved {' and '.join(written)} in {project / '.env'}.", file=sys.stderr)


def _raise_if_crashed(app: ShipyardApp) -> None:
    if app.crashed is None:
        return
    problem = app.crashed
    what = app.quit_message.removeprefix("Cancelled: ")
    raise ShipyardError(
        f"The wizard stopped on an unexpected problem: {type(problem).__name__}: {problem}",
        hint=f"This is a bug in Shipyard, not something you did; {what} "
        "Run `shipyard --verbose new` to see the details, and please report them.",
    ) from problem


def run_check(title: str, run: Callable[[EventSink], Report]) -> int:
    """Run the launch check on a screen and show its report; returns the report's exit code."""
    from wizard.tui.check_app import CheckApp

    app = CheckApp(run=run, title=title)
    code = app.run()
    if app.problem is not None:
        raise app.problem
    if app.crashed is not None:
        problem = app.crashed
        raise ShipyardError(
            f"The report screen stopped on an unexpected problem: {type(problem).__name__}: {problem}",
            hint="This is a bug in Shipyard, not something you did. Run `shipyard check --plain` "
            "for the same report as text, and please report it (`shipyard --verbose check` shows "
            "the details).",
        ) from problem
    return code if code is not None else app.exit_code
