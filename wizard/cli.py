"""The `shipyard` command line: thin Typer commands over the headless core."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from wizard import __version__, paths
from wizard.commands import (
    alert,
    check,
    connect,
    deploy,
    people,
    project,
    publish,
    staging,
    update,
)
from wizard.commands.common import truthy
from wizard.errors import Cancelled, ExitCode, ShipyardError
from wizard.paths import as_typed

VERBOSE_ENV = "SHIPYARD_VERBOSE"


class ShipyardGroup(TyperGroup):
    """Turns every exception into a message and an exit code, in this one place."""

    def invoke(self, ctx: typer.Context) -> Any:
        verbose = bool(ctx.params.get("verbose")) or truthy(os.environ.get(VERBOSE_ENV))
        paths.working_in(None)  # until a command's -C says otherwise
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # Typer's own signals and usage errors (it prints those, exit 2)
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
        finally:
            paths.working_in(None)  # the next command (or test) starts from the current folder


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
    # Commands named in the text are spelled to run as typed (`shipyard` may not be on PATH).
    if isinstance(exc, Cancelled):
        typer.secho(as_typed(exc.message), fg="yellow", err=True)
    else:
        typer.secho(f"Error: {as_typed(exc.message)}", fg="red", err=True)
    if exc.hint:
        typer.echo(as_typed(exc.hint), err=True)


for _module in (project, update, staging, people, publish, check, alert, deploy, connect):
    _module.register(app)


def main() -> None:
    """The `shipyard` console script."""
    app(prog_name="shipyard")
