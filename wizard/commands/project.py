"""`shipyard new` and `shipyard edit`: create a project, change its answers."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from wizard.commands.common import DirOption, can_prompt, show_event, shown
from wizard.errors import BadInput
from wizard.next_steps import next_steps_text
from wizard.paths import as_typed

PlainOption = Annotated[
    bool,
    typer.Option("--plain", help="Ask with simple line prompts instead of the full-screen wizard."),
]


def new(
    dest: Annotated[
        Path | None,
        typer.Argument(
            help="Folder to create (must be new or empty). Default: the app name from the spec."
        ),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option("--spec", "-s", help="A launch spec (shipyard.yaml) with every answer."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Ask nothing; needs --spec.")] = False,
    plain: PlainOption = False,
) -> None:
    """Create a backend project: render it, write its secrets, commit it."""
    from wizard.pipeline import create_project
    from wizard.spec import load_spec

    if spec is not None:
        launch_spec = load_spec(spec)
    elif yes or not can_prompt():
        raise BadInput(
            "No launch spec given, and Shipyard cannot ask questions here "
            + ("(--yes was given)." if yes else "(no terminal, or CI is set)."),
            hint="Pass the answers as a file with --spec FILE, for example: "
            "shipyard new --spec examples/studio-booking.yaml --yes",
        )
    else:
        # The wizard runs the same pipeline itself (showing its progress) and returns the folder.
        if plain:
            from wizard.plain import ask as run_front_end
        else:
            from wizard.tui import run_wizard as run_front_end
        typer.echo(str(run_front_end(dest)))
        return

    target = dest if dest is not None else Path(launch_spec.app.name)
    created = create_project(launch_spec, target, on_event=show_event)
    typer.echo(str(created))
    typer.secho(next_steps_text(launch_spec, shown(created)), err=True, fg="green")


def edit(
    directory: DirOption = Path("."),
    plain: PlainOption = False,
) -> None:
    """Change a project's answers in the wizard and save its shipyard.yaml."""
    from wizard.spec import load_spec
    from wizard.spec.roundtrip import save_spec

    project = directory.resolve()
    spec_file = project / "shipyard.yaml"
    if not spec_file.is_file():
        raise BadInput(
            f"{project} has no shipyard.yaml, so it is not a Shipyard project.",
            hint="Run `shipyard edit` inside a folder made by `shipyard new`, or pass -C FOLDER.",
        )
    spec = load_spec(spec_file)
    if not can_prompt():
        raise BadInput(
            "Shipyard cannot ask questions here (no terminal, or CI is set).",
            hint=f"Edit {spec_file} by hand instead; `shipyard check` validates it.",
        )
    module_name, function = ("wizard.plain", "edit") if plain else ("wizard.tui", "edit_spec")
    changed = getattr(importlib.import_module(module_name), function)(spec, project)
    if changed == spec:
        typer.secho("No answers changed; shipyard.yaml was left as it was.", err=True)
        return
    save_spec(spec_file, changed)  # the founder's comments and key order stay
    typer.echo(str(spec_file))
    typer.secho(
        as_typed("Saved shipyard.yaml. What `shipyard update` would do:"), err=True, fg="green"
    )
    _offer_update(project)


def _offer_update(project: Path) -> None:
    """Show the update's plan on stderr and, at a terminal, offer to apply it now."""
    from wizard.commands.update import run_update
    from wizard.errors import ShipyardError

    try:
        planned = run_update(project, dry_run=True, err=True)
    except ShipyardError as exc:  # not a rendered project, say; the spec is saved all the same
        typer.secho(f"`shipyard update` cannot plan here: {exc.message}", err=True)
        if exc.hint:
            typer.secho(exc.hint, err=True)
        return
    if planned != 0:
        typer.secho(
            as_typed("Nothing was applied: run `shipyard update` with the options named above."),
            err=True,
        )
        return
    if can_prompt() and typer.confirm("Apply it now?", default=True, err=True):
        code = run_update(project, err=True)
        if code:
            raise typer.Exit(code)
        return
    typer.secho(
        as_typed("Run `shipyard update` to apply it (it commits shipyard.yaml with the code)."),
        err=True,
    )


def register(app: typer.Typer) -> None:
    app.command()(new)
    app.command()(edit)
