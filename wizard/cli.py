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

import typer
from typer.core import TyperGroup

from wizard import __version__
from wizard.errors import BadInput, Cancelled, ExitCode, ShipyardError
from wizard.events import Event

VERBOSE_ENV = "SHIPYARD_VERBOSE"


class ShipyardGroup(TyperGroup):
    """Turns every exception into a message and an exit code, in this one place."""

    def invoke(self, ctx: typer.Context) -> Any:
        verbose = bool(ctx.params.get("verbose")) or _truthy(os.environ.get(VERBOSE_ENV))
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
    typer.secho(f"Next: cd {_shown(created)} && shipyard up", err=True, fg="green")


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


@app.command()
def edit(
    directory: Annotated[
        Path, typer.Option("-C", "--directory", help="The project folder.", show_default=False)
    ] = Path("."),
    plain: Annotated[
        bool, typer.Option("--plain", help="Ask with simple line prompts instead of the full-screen wizard.")
    ] = False,
) -> None:
    """Change a project's answers in the wizard and save its shipyard.yaml."""
    from wizard.spec import dump_spec, load_spec

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
    temporary = spec_file.with_name(f".{spec_file.name}.tmp")
    temporary.write_text(dump_spec(changed), encoding="utf-8")
    os.replace(temporary, spec_file)
    typer.echo(str(spec_file))
    typer.secho(
        "Saved shipyard.yaml. Commit it, and run `shipyard update` to apply it to the code.",
        err=True, fg="green",
    )


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
    target: TargetOption = None,
    directory: DirOption = Path("."),
    as_json: JsonOption = False,
    public: Annotated[
        bool,
        typer.Option(
            "--public", help="Docker: listen on every network interface, not only 127.0.0.1."
        ),
    ] = False,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            "-p",
            help="Docker: the API's port on this machine (default 8000, or the next free one).",
        ),
    ] = None,
) -> None:
    """Start the project's staging backend and print its URLs."""
    project = directory.resolve()
    module = _staging_module(project, target)
    options: dict[str, Any] = {}
    if public or port is not None:
        if module.TARGET != "docker":
            raise BadInput(
                "--public and --port only apply to Docker staging.",
                hint="Leave them out, or use --target docker.",
            )
        options = {"public": public, "port": port}
    display = _StagingDisplay()
    try:
        staging = module.up(project, on_event=display, **options)
    except KeyboardInterrupt:
        raise Cancelled(
            "Cancelled: the backend was not started. Run `shipyard up` again to finish."
        ) from None
    finally:
        display.close()
    _print_staging(staging, as_json)


@app.command()
def down(
    target: TargetOption = None,
    directory: DirOption = Path("."),
    volumes: Annotated[
        bool,
        typer.Option(
            "--volumes", help="Docker: also delete the database volume and all staging data."
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before deleting data.")
    ] = False,
) -> None:
    """Stop the project's staging backend (its data stays, unless --volumes)."""
    project = directory.resolve()
    module = _staging_module(project, target)
    if not volumes:
        stopped = module.down(project, on_event=show_event)
    else:
        if module.TARGET != "docker":
            raise BadInput("--volumes only applies to Docker staging.", hint="Leave it out.")
        _confirm(
            "Delete the staging database and all its data? This cannot be undone "
            "(`shipyard backup` saves a copy first).",
            yes,
            "down --volumes",
        )
        stopped = module.down(project, on_event=show_event, volumes=True)
    typer.echo("stopped" if stopped else "not running")


StatusFormatOption = Annotated[
    str, typer.Option("--format", "-f", help="text or json.", show_default=False)
]


@app.command()
def status(
    target: TargetOption = None,
    directory: DirOption = Path("."),
    as_json: JsonOption = False,
    output_format: StatusFormatOption = "text",
) -> None:
    """Say whether the project's staging backend runs, and where."""
    if output_format not in ("text", "json"):
        raise BadInput(
            f"Unknown format {output_format!r}.", hint="Use --format text or --format json."
        )
    project = directory.resolve()
    staging = _staging_module(project, target).status(project)
    _print_staging(staging, as_json or output_format == "json")


def _docker_staging() -> Any:
    """logs, backup and restore exist for Docker staging only."""
    from wizard.staging import target_module

    return target_module("docker")


@app.command()
def logs(
    service: Annotated[str, typer.Argument(help="api or db.")] = "api",
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    tail: Annotated[int, typer.Option("--tail", "-n", help="How many past lines to show.")] = 200,
    directory: DirOption = Path("."),
) -> None:
    """Print the Docker staging's logs (the API's, or the database's)."""
    project = directory.resolve()
    module = _docker_staging()
    try:
        for line in module.logs(project, service, follow=follow, tail=tail):
            typer.echo(line)
    except KeyboardInterrupt:
        return


@app.command()
def backup(directory: DirOption = Path(".")) -> None:
    """Save a dump of the staging database into backups/ (git-ignored); prints its path."""
    project = directory.resolve()
    path = _docker_staging().backup(project, on_event=show_event)
    typer.echo(_shown(path))


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A dump made by `shipyard backup` (or pg_dump).")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before replacing data.")
    ] = False,
    directory: DirOption = Path("."),
) -> None:
    """Replace the staging database's data with FILE (the current data is saved first)."""
    project = directory.resolve()
    module = _docker_staging()
    if not file.is_file():
        raise BadInput(f"{file} does not exist.", hint="Pass a file from the backups/ folder.")
    _confirm(f"Replace all staging data with {file}?", yes, "restore")
    saved = module.restore(project, file.resolve(), on_event=show_event)
    typer.echo(
        f"Restored {_shown(file.resolve())}; the data it replaced is in {_shown(saved)}", err=True
    )


def _confirm(question: str, yes: bool, command: str) -> None:
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


class _StagingDisplay:
    """Progress of `up`: a progress bar for the image build on a terminal, plain lines otherwise."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.progress: Any = None
        self.task: Any = None

    def __call__(self, event: Event) -> None:
        from wizard.staging.build import BuildOutput, BuildProgress

        if isinstance(event, BuildOutput):
            if self.progress is not None:
                self.progress.update(self.task, detail=event.message[:70])
            return
        if isinstance(event, BuildProgress) and self.console.is_terminal:
            if self.progress is None:
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

                self.progress = Progress(
                    TextColumn("  Building"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("[dim]{task.fields[detail]}"),
                    console=self.console,
                    transient=True,
                )
                self.progress.start()
                self.task = self.progress.add_task("build", total=event.total, detail="")
            self.progress.update(
                self.task, completed=event.current - 1, total=event.total, detail=event.message[:70]
            )
            return
        self.close()
        show_event(event)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


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
    """Put the project in a repository you own and push its new commits (never forced).

    With --github, the token comes from GITHUB_TOKEN, GH_TOKEN or `gh auth token`; it is
    sent to GitHub and to git in memory only, never written to disk. Without options,
    pushes to the project's existing origin.
    """
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


# --- the launch check and the unattended pipeline --------------------------------------------

FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format", "-f",
        help="text, json or junit. Default: text on a terminal, json with --ci or no terminal.",
    ),
]


def _report_format(chosen: str | None, ci: bool, allowed: tuple[str, ...]) -> str:
    if chosen is None:
        interactive = sys.stdout.isatty() and not ci and not _truthy(os.environ.get("CI"))
        return "text" if interactive else "json"
    if chosen not in allowed:
        raise BadInput(f"Unknown --format {chosen!r}.", hint=f"Use one of: {', '.join(allowed)}.")
    return chosen


@app.command()
def check(
    directory: DirOption = Path("."),
    spec: Annotated[
        Path | None,
        typer.Option("--spec", "-s", help="The launch spec. Default: shipyard.yaml in the project."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", metavar="URL", help="Probe this API instead of the project's staging."),
    ] = None,
    ci: Annotated[
        bool, typer.Option("--ci", help="Machine-readable output (JSON unless --format says).")
    ] = False,
    output_format: FormatOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to this file (junit: default shipyard-check.xml)."),
    ] = None,
    static: Annotated[
        bool, typer.Option("--static", help="Check the spec and files only; no live probes.")
    ] = False,
) -> None:
    """Re-run the launch checklist on the spec, the project and the live API.

    Exit codes: 0 nothing fails, 1 something fails, 2 the check could not run.
    """
    from wizard.checklist import report as reports
    from wizard.checklist.runner import build_context, run_checklist

    chosen = _report_format(output_format, ci, ("text", "json", "junit"))
    project = directory.resolve()
    has_project = (project / "shipyard.yaml").is_file()
    ctx = build_context(
        project=project if has_project else None, spec_file=spec, url=url, live=not static,
        on_event=show_event,
    )
    result = run_checklist(ctx)
    if chosen == "junit":
        target = output or Path("shipyard-check.xml")
        target.write_text(reports.to_junit(result), encoding="utf-8")
        typer.echo(str(target))
        typer.echo(reports.to_text(result), err=True)
    else:
        colour = chosen == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        text = reports.to_json(result) if chosen == "json" else reports.to_text(result, colour)
        if output is not None:
            output.write_text(text, encoding="utf-8")
            typer.echo(str(output))
        else:
            typer.echo(text, nl=False)
    raise typer.Exit(int(result.exit_code))


@app.command()
def launch(
    dest: Annotated[
        Path | None,
        typer.Argument(help="Folder to create. Default: the app name from the spec."),
    ] = None,
    spec: Annotated[
        Path | None, typer.Option("--spec", "-s", help="The launch spec with every answer.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Ask nothing.")] = False,
    github: Annotated[
        str | None,
        typer.Option("--github", metavar="OWNER/NAME", help="Publish to this GitHub repository."),
    ] = None,
    remote: Annotated[
        str | None, typer.Option("--remote", metavar="URL", help="Publish to any git remote.")
    ] = None,
    public: Annotated[
        bool, typer.Option("--public", help="Make a new GitHub repository public.")
    ] = False,
    target: TargetOption = None,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Stop after staging is up.")
    ] = False,
    output_format: FormatOption = None,
) -> None:
    """Render, commit, publish (when asked), start staging and run the launch check, unattended."""
    from wizard.launch import launch as run_launch
    from wizard.spec import load_spec

    if spec is None:
        raise BadInput(
            "shipyard launch needs the answers as a file: --spec FILE.",
            hint="For example: shipyard launch --spec examples/studio-booking.yaml --yes",
        )
    chosen = _report_format(output_format, False, ("text", "json"))
    launch_spec = load_spec(spec)
    target_dir = dest if dest is not None else Path(launch_spec.app.name)
    if not yes and can_prompt():
        steps = "render, commit, " + ("publish, " if github or remote else "") + "start staging, check"
        if not typer.confirm(f"Launch {launch_spec.app.title} into {target_dir} ({steps})?"):
            raise Cancelled("Cancelled: nothing was written.")
    summary = run_launch(
        launch_spec, target_dir, github=github, remote=remote, public=public, target=target,
        check=not no_check, on_event=show_event,
    )
    if chosen == "json":
        typer.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        typer.echo(summary.text(), nl=False)
    if summary.failed_step:
        failed = next(s for s in summary.steps if s.name == summary.failed_step)
        typer.secho(
            f"Error: launch stopped at step '{failed.name}': {failed.detail}", fg="red", err=True
        )
        if failed.hint:
            typer.echo(failed.hint, err=True)
    raise typer.Exit(int(summary.exit_code))


def main() -> None:
    """The `shipyard` console script."""
    app(prog_name="shipyard")
