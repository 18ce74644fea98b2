"""Staging commands: up, down, status, and Docker's logs, backup and restore."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from wizard.commands.common import (
    DirOption,
    JsonOption,
    TargetOption,
    can_prompt,
    confirm,
    show_event,
    shown,
)
from wizard.errors import BadInput, Cancelled, ShipyardError
from wizard.events import Event
from wizard.paths import as_typed


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
    if target is None and module.TARGET == "local":
        module = _docker_again(project, module)
    options: dict[str, Any] = {}
    if public or port is not None:
        if module.TARGET != "docker":
            raise BadInput(
                "--public and --port only apply to Docker staging.",
                hint="Leave them out, or use --target docker.",
            )
        options = {"public": public, "port": port}
    from wizard.staging import remember_target
    from wizard.staging.engine import DockerUnavailable

    display = _StagingDisplay()
    try:
        try:
            staging = module.up(project, on_event=display, **options)
        except DockerUnavailable as problem:
            display.close()
            staging = _local_instead(project, problem, display)
        else:
            if target == module.TARGET:  # asked for by name: the remembered switch is over
                remember_target(project, None)
    except KeyboardInterrupt:
        raise Cancelled(
            "Cancelled: the backend was not started. Run `shipyard up` again to finish."
        ) from None
    finally:
        display.close()
    if staging.running:
        from wizard.commands.people import say_staging_admin

        admin = say_staging_admin(project, staging.target)
        if admin is not None:
            staging = replace(staging, details={**staging.details, "admin": admin})
    _print_staging(staging, as_json)


def _docker_again(project: Path, module: Any) -> Any:
    """Local because Docker failed once (.shipyard/target): if an engine answers now and has
    the images, say so, and at a terminal offer to go back to Docker staging."""
    from wizard.spec import load_spec
    from wizard.staging import chosen_target, remember_target, target_module
    from wizard.staging.engine import docker_problem

    if chosen_target(project) != "local" or module.status(project).running:
        return module  # chosen in shipyard.yaml, or already running: nothing to switch
    try:
        spec = load_spec(project / "shipyard.yaml")
    except ShipyardError:
        return module
    if spec.staging.target != "docker" or docker_problem(spec) is not None:
        return module
    said = (
        "A Docker engine answers on this machine now, and it has the images Docker staging "
        "needs; this project runs as a local process since Docker staging could not start."
    )
    if not can_prompt():
        typer.secho(
            as_typed(f"{said} `shipyard up --target docker` switches back to Docker staging."),
            err=True,
        )
        return module
    typer.secho(said, err=True)
    if not typer.confirm(
        "Start Docker staging (the API and PostgreSQL in containers) instead?",
        default=True,
        err=True,
    ):
        typer.secho(
            as_typed(
                "Staying local. `shipyard up --target docker` switches later; "
                "staging.target: local in shipyard.yaml stops this question."
            ),
            err=True,
        )
        return module
    remember_target(project, None)
    typer.secho(
        "Back to Docker staging, as shipyard.yaml says; the local SQLite data stays in the "
        "project folder.",
        err=True,
    )
    return target_module("docker")


def _local_instead(project: Path, problem: ShipyardError, display: Any) -> Any:
    """Docker staging cannot run here: offer the local process, and remember a yes."""
    from wizard.staging import remember_target, target_module

    if not can_prompt():
        raise problem  # its hint names `shipyard up --target local`
    typer.secho(f"Error: {as_typed(problem.message)}", fg="red", err=True)
    if problem.hint:
        typer.echo(as_typed(problem.hint), err=True)
    if not typer.confirm(
        "Run the backend as a local process on SQLite instead (no Docker needed)?",
        default=True,
        err=True,
    ):
        raise typer.Exit(int(problem.exit_code))
    remember_target(project, "local")
    typer.secho(
        as_typed(
            "From now on `shipyard up` starts this project as a local process on this machine; "
            "`shipyard up --target docker` tries Docker again."
        ),
        err=True,
    )
    return target_module("local").up(project, on_event=display)


def down(
    target: TargetOption = None,
    directory: DirOption = Path("."),
    volumes: Annotated[
        bool,
        typer.Option(
            "--volumes",
            help="Also delete the staging data (Docker's database volume, local's SQLite file).",
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
        typer.echo("stopped" if stopped else "not running")
        return
    data_files = getattr(module, "data_files", None)  # the local target's SQLite files
    if data_files is not None:
        files = ", ".join(path.name for path in data_files(project)) or "none found"
        question = (
            f"Delete the local database ({files}) and all its data? This cannot be undone "
            "(copy the file first to keep it)."
        )
    else:
        question = (
            "Delete the staging database and all its data? This cannot be undone "
            "(`shipyard backup` saves a copy first)."
        )
    confirm(as_typed(question), yes, "down --volumes")
    stopped = module.down(project, on_event=show_event, volumes=True)
    from wizard.people import forget_admin

    forget_admin(project, module.TARGET)  # it lived in the data just deleted
    typer.echo("stopped, data deleted" if stopped else "not running")


StatusFormatOption = Annotated[
    str, typer.Option("--format", "-f", help="text or json.", show_default=False)
]


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
    hour, problem = _last_hour(project, staging)
    if as_json or output_format == "json":
        data = staging.as_dict()
        data["last_hour"] = hour.as_dict() if hour else {"problem": problem}
        typer.echo(json.dumps(data, indent=2))
        return
    _print_staging(staging, False)
    if hour is not None:
        for line in _hour_lines(hour):
            typer.echo(line)
    elif problem and staging.running:
        typer.echo(f"Last hour: unknown ({problem})")


def _last_hour(project: Path, staging: Any) -> tuple[Any, str]:
    """Requests, 5xx, p95 and the latest error from the running API's metrics, or why not."""
    if not (staging.running and staging.api_url):
        return None, "staging is not running"
    from wizard import monitoring
    from wizard.errors import ShipyardError

    try:
        return monitoring.last_hour(project, staging.api_url), ""
    except ShipyardError as exc:
        return None, exc.message
    except Exception as exc:  # the API may predate metrics, or be restarting
        return None, f"the metrics could not be read: {type(exc).__name__}: {exc}"


def _hour_lines(hour: Any) -> list[str]:
    import time

    minutes = max(1, round((time.time() - hour.since) / 60))
    window = "last hour" if minutes >= 59 else f"last {minutes} min"
    p95 = "-" if hour.p95_seconds is None else f"{hour.p95_seconds * 1000:.0f} ms"
    lines = [
        f"Requests ({window}): {hour.requests}, {hour.errors_5xx} answered 5xx, p95 {p95}",
    ]
    if hour.latest_error:
        ago = max(0, round((time.time() - (hour.latest_error_at or 0)) / 60))
        lines.append(f"Latest error: {hour.latest_error}, {ago} min ago")
    else:
        lines.append("Latest error: none in the last hour")
    return lines


def _docker_staging() -> Any:
    """logs and restore exist for Docker staging only."""
    from wizard.staging import target_module

    return target_module("docker")


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


def backup(target: TargetOption = None, directory: DirOption = Path(".")) -> None:
    """Save a copy of the staging database into backups/ (git-ignored); prints its path.

    Docker: a pg_dump of PostgreSQL; local: a copy of the SQLite file."""
    project = directory.resolve()
    path = _staging_module(project, target).backup(project, on_event=show_event)
    typer.echo(shown(path))


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
    confirm(f"Replace all staging data with {file}?", yes, "restore")
    saved = module.restore(project, file.resolve(), on_event=show_event)
    typer.echo(
        f"Restored {shown(file.resolve())}; the data it replaced is in {shown(saved)}", err=True
    )


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


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(status)
    app.command()(logs)
    app.command()(backup)
    app.command()(restore)
