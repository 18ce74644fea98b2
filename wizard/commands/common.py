"""What every command module shares: options, prompting rules and how progress is shown."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from wizard.errors import BadInput, Cancelled
from wizard.events import Event
from wizard.paths import shown as shown

TargetOption = Annotated[
    str | None,
    typer.Option(
        "--target", "-t", help="docker or local. Default: staging.target in shipyard.yaml."
    ),
]


def _working_in(directory: Path) -> Path:
    """Messages that name a command add this -C DIR to it (wizard.paths.as_typed)."""
    from wizard.paths import working_in

    working_in(directory)
    return directory


DirOption = Annotated[
    Path,
    typer.Option(
        "-C",
        "--directory",
        help="The project folder.",
        show_default=False,
        callback=_working_in,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def show_event(event: Event) -> None:
    """Progress goes to stderr, so stdout stays data only."""
    typer.secho(f"  {event.message}", err=True, dim=True)


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def can_prompt() -> bool:
    """Prompts need a terminal on stdin, and never happen in CI."""
    return sys.stdin is not None and sys.stdin.isatty() and not truthy(os.environ.get("CI"))


def confirm(question: str, yes: bool, command: str) -> None:
    """Ask before destroying data; without a terminal, --yes is the only way to say yes."""
    if yes:
        return
    if not can_prompt():
        raise BadInput(
            f"`shipyard {command}` deletes staging data, and there is nobody to ask.",
            hint="Add --yes to confirm.",
        )
    if not typer.confirm(question, default=False, err=True):
        raise Cancelled("Cancelled: nothing was changed.")
