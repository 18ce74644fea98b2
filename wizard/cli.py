"""The `shipyard` command line: thin Typer commands over the headless core."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from wizard import __version__
from wizard.errors import BadInput, Cancelled, ExitCode, ShipyardError
from wizard.events import Event

VERBOSE_ENV = "SHIPYARD_VERBOSE"


class ShipyardGroup(TyperGroup):
    """Turns every exception into a message and an exit code, in this one place."""

    def invoke(self, ctx: click.Context) -> Any:
        verbose = bool(ctx.params.get("verbose")) or _truthy(os.environ.get(VERBOSE_ENV))
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except ShipyardError as exc:
            _report(exc, verbose)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt as exc:
            _report(Cancelled("Cancelled."), verbose, exc)
            raise typer.Exit(int(ExitCode.CANCELLED)) from None
        except Exception as exc:
            problem = ShipyardError(
                f"Shipyard stopped on an unexpected problem: {type(exc).__name__}: {exc}",
                hint="This is a bug in Shipyard, not something you did. Run the command again "
                "as `shipyard --verbose ...` and include the output when you report it.",
            )
            _report(problem, verbose, exc)
            raise typer.Exit(int(ExitCode.FAILURE)) from None


app = typer.Typer(
    cls=ShipyardGroup,
    name="shipyard",
    help="Shipyard turns a founder's launch spec into a committed, tested backend with staging.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Show full tracebacks when something fails.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Shipyard: a backend for your frontend, from a launch checklist."""


# --- output ---------------------------------------------------------------------------------


def _report(exc: ShipyardError, verbose: bool, cause: BaseException | None = None) -> None:
    """A failure on stderr: the message in red, then what to do; a traceback only if asked."""
    if verbose:
        shown = cause or exc
        traceback.print_exception(type(shown), shown, shown.__traceback__, file=sys.stderr)
    if isinstance(exc, Cancelled):
        typer.secho(exc.message, fg="yellow", err=True)
    else:
        typer.secho(f"Error: {exc.message}", fg="red", err=True)
    if exc.hint:
        typer.echo(exc.hint, err=True)


def show_event(event: Event) -> None:
    """Progress goes to stderr, so stdout stays data only."""
    typer.secho(f"  {event.message}", err=True, dim=True)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def can_prompt() -> bool:
    """Prompts need a terminal on stdin, and never happen in CI."""
    return sys.stdin is not None and sys.stdin.isatty() and not _truthy(os.environ.get("CI"))


# --- shipyard new ---------------------------------------------------------------------------


@app.command()
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
    plain: Annotated[
        bool,
        typer.Option(
            "--plain", help="Ask with simple line prompts instead of the full-screen wizard."
        ),
    ] = False,
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
        answer = _ask(dest, plain)
        if isinstance(answer, Path):  # the front end already created the project
            typer.echo(str(answer))
            return
        launch_spec = answer

    target = dest if dest is not None else Path(launch_spec.app.name)
    created = create_project(launch_spec, target, on_event=show_event)
    typer.echo(str(created))
    typer.secho(f"Next: cd {_shown(created)} && shipyard up --target local", err=True, fg="green")


def _ask(dest: Path | None, plain: bool) -> Any:
    """Run the wizard front end; it returns a LaunchSpec (or the created project's Path)."""
    module_name, function = ("wizard.plain", "ask") if plain else ("wizard.tui", "run_wizard")
    if importlib.util.find_spec(module_name) is None:
        raise BadInput(
            "This version of Shipyard has no interactive wizard yet.",
            hint="Pass the answers as a file with --spec FILE, for example: "
            "shipyard new --spec examples/studio-booking.yaml --yes",
        )
    answer = getattr(importlib.import_module(module_name), function)(dest)
    if answer is None:
        raise Cancelled("Cancelled: nothing was written.")
    return answer


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- staging --------------------------------------------------------------------------------

TargetOption = Annotated[
    str | None,
    typer.Option(
        "--target", "-t", help="docker or local. Default: staging.target in shipyard.yaml."
    ),
]
DirOption = Annotated[
    Path, typer.Option("-C", "--directory", help="The project folder.", show_default=False)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _staging_module(project: Path, target: str | None) -> Any:
    from wizard.staging import default_target, target_module

    return target_module(target or default_target(project))


def _print_staging(staging: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(staging.as_dict(), indent=2))
        return
    state = "running" if staging.running else "stopped"
    typer.echo(f"Status: {state} ({staging.target})")
    if staging.running and staging.api_url:
        typer.echo(f"API:    {staging.api_url}")
        typer.echo(f"Docs:   {staging.docs_url}")
        typer.echo(f"Outbox: {staging.outbox_url}  (admins only)")
    for key, value in staging.details.items():
        typer.echo(f"{key.capitalize()}: {value}")


@app.command()
def up(
    target: TargetOption = None, directory: DirOption = Path("."), as_json: JsonOption = False
) -> None:
    """Start the project's staging backend and print its URLs."""
    project = directory.resolve()
    module = _staging_module(project, target)
    try:
        staging = module.up(project, on_event=show_event)
    except KeyboardInterrupt:
        raise Cancelled(
            "Cancelled: the backend was not started. Run `shipyard up` again to finish."
        ) from None
    _print_staging(staging, as_json)


@app.command()
def down(target: TargetOption = None, directory: DirOption = Path(".")) -> None:
    """Stop the project's staging backend (its data stays)."""
    project = directory.resolve()
    stopped = _staging_module(project, target).down(project, on_event=show_event)
    typer.echo("stopped" if stopped else "not running")


@app.command()
def status(
    target: TargetOption = None, directory: DirOption = Path("."), as_json: JsonOption = False
) -> None:
    """Say whether the project's staging backend runs, and where."""
    project = directory.resolve()
    _print_staging(_staging_module(project, target).status(project), as_json)


# --- publishing -----------------------------------------------------------------------------


@app.command()
def publish(
    github: Annotated[
        str | None,
        typer.Option(
            "--github", metavar="OWNER/NAME", help="Create (or reuse) this GitHub repository."
        ),
    ] = None,
    remote: Annotated[
        str | None,
        typer.Option("--remote", metavar="URL", help="Any git remote: GitLab, Gitea, a path."),
    ] = None,
    public: Annotated[
        bool,
        typer.Option("--public", help="Make a new GitHub repository public (default: private)."),
    ] = False,
    directory: DirOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Put the project in a repository you own and push its new commits (never forced)."""
    from wizard.publish import publish as publish_project

    published = publish_project(
        directory,
        github_name=github,
        remote=remote,
        public=public,
        prompts=can_prompt(),
        on_event=show_event,
    )
    if as_json:
        typer.echo(json.dumps(published.as_dict(), indent=2))
    else:
        typer.echo(published.web_url or published.remote_url)


def main() -> None:
    """The `shipyard` console script."""
    app(prog_name="shipyard")
