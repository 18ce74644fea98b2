"""`shipyard connect FRONTEND_DIR`: the frontend gets the typed client, the API address and
an allowed origin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wizard.commands.common import DirOption


def connect(
    frontend: Annotated[
        Path | None,
        typer.Argument(help="The frontend's folder (a Vite/React project).", show_default=False),
    ] = None,
    directory: DirOption = Path("."),
    origin: Annotated[
        str | None,
        typer.Option(help="Where the frontend runs [default: http://localhost:5173]."),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(help="The API address for .env.local [default: http://localhost:8000]."),
    ] = None,
    show_prompt: Annotated[
        bool,
        typer.Option(
            "--prompt", help="Print FRONTEND.md, the text to paste into Lovable, Cursor or v0."
        ),
    ] = False,
) -> None:
    """Wire a Lovable, Bolt or v0 (Vite/React) frontend to this backend; safe to re-run."""
    from wizard.connect import connect as wire
    from wizard.connect import prompt
    from wizard.errors import BadInput

    if frontend is None:
        if not show_prompt:
            raise BadInput(
                "Name the frontend's folder: shipyard connect FRONTEND_DIR.",
                hint="Or print the text for Lovable, Cursor or v0 with `shipyard connect --prompt`.",
            )
        typer.echo(prompt(directory), nl=False)
        return
    done = wire(frontend, directory, origin=origin, api_url=api_url)
    for line in done.changed:
        typer.echo(f"changed: {line}")
    for line in done.unchanged:
        typer.echo(f"already: {line}")
    if show_prompt:
        typer.echo(prompt(directory), nl=False)
    elif done.changed:
        typer.echo("Next: import { Api } from './lib/api/api' in the frontend.", err=True)
        typer.echo("`shipyard connect --prompt` prints the text for Lovable.", err=True)


def register(app: typer.Typer) -> None:
    app.command()(connect)
