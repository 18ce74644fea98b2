"""`shipyard connect FRONTEND_DIR`: the frontend gets the typed client, the API address and
an allowed origin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wizard.commands.common import DirOption


def connect(
    frontend: Annotated[Path, typer.Argument(help="The frontend's folder (a Vite/React project).")],
    directory: DirOption = Path("."),
    origin: Annotated[
        str | None,
        typer.Option(help="Where the frontend runs [default: http://localhost:5173]."),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(help="The API address for .env.local [default: http://localhost:8000]."),
    ] = None,
) -> None:
    """Wire a Lovable, Bolt or v0 (Vite/React) frontend to this backend; safe to re-run."""
    from wizard.connect import connect as wire

    done = wire(frontend, directory, origin=origin, api_url=api_url)
    for line in done.changed:
        typer.echo(f"changed: {line}")
    for line in done.unchanged:
        typer.echo(f"already: {line}")
    if done.changed:
        typer.echo("Next: import { Api } from './lib/api/api' in the frontend.", err=True)


def register(app: typer.Typer) -> None:
    app.command()(connect)
