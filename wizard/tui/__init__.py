"""The Textual wizard; `run_wizard` and `edit_spec` are what the CLI calls."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wizard.errors import Cancelled, ShipyardError

if TYPE_CHECKING:
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
    from wizard.tui.app import ShipyardApp

    app = ShipyardApp(project / "shipyard.yaml", spec=spec, mode="edit")
    result = app.run()
    _raise_if_crashed(app)
    if result is None:
        raise Cancelled(app.quit_message)
    return result


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
