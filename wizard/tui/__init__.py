"""The Textual wizard; `run_wizard` and `edit_spec` are what the CLI calls."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wizard.errors import Cancelled

if TYPE_CHECKING:
    from wizard.spec import LaunchSpec


def run_wizard(dest: Path | None) -> Path:
    """Ask everything, create the project through the pipeline, and return its folder.

    Raises Cancelled, saying what is on disk, when the founder quits first.
    """
    from wizard.tui.app import ShipyardApp

    app = ShipyardApp(dest)
    app.run()
    if app.created is not None:
        return app.created
    raise Cancelled(app.quit_message)


def edit_spec(spec: LaunchSpec, project: Path) -> LaunchSpec:
    """Walk the wizard over an existing spec; returns the changed spec (not yet saved)."""
    from wizard.tui.app import ShipyardApp

    app = ShipyardApp(project / "shipyard.yaml", spec=spec, mode="edit")
    result = app.run()
    if result is None:
        raise Cancelled(app.quit_message)
    return result
