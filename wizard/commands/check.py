"""`shipyard check` and `shipyard launch`: the launch checklist, and the whole pipeline unattended."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from wizard.commands.common import (
    DirOption,
    TargetOption,
    can_prompt,
    show_event,
    truthy,
)
from wizard.errors import BadInput, Cancelled

if TYPE_CHECKING:
    from wizard.checklist.results import Report
    from wizard.events import EventSink

FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="text, json or junit. Default: text on a terminal, json with --ci or no terminal.",
    ),
]


def _report_format(
    chosen: str | None, ci: bool, allowed: tuple[str, ...], plain: bool = False
) -> str:
    if chosen is None:
        if plain:
            return "text"  # --plain asks for text, wherever stdout goes (a file, a pipe, CI)
        interactive = sys.stdout.isatty() and not ci and not truthy(os.environ.get("CI"))
        return "text" if interactive else "json"
    if chosen not in allowed:
        raise BadInput(f"Unknown --format {chosen!r}.", hint=f"Use one of: {', '.join(allowed)}.")
    return chosen


def _tty_out() -> bool:
    return sys.stdout is not None and sys.stdout.isatty()


def check(
    directory: DirOption = Path("."),
    spec: Annotated[
        Path | None,
        typer.Option(
            "--spec", "-s", help="The launch spec. Default: shipyard.yaml in the project."
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", metavar="URL", help="Probe this API instead of the project's staging."
        ),
    ] = None,
    ci: Annotated[
        bool, typer.Option("--ci", help="Machine-readable output (JSON unless --format says).")
    ] = False,
    output_format: FormatOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the report to this file (junit: default shipyard-check.xml).",
        ),
    ] = None,
    static: Annotated[
        bool, typer.Option("--static", help="Check the spec and files only; no live probes.")
    ] = False,
    plain: Annotated[
        bool,
        typer.Option(
            "--plain",
            help="Print the report as text (also into a file or pipe), not full screen.",
        ),
    ] = False,
) -> None:
    """Re-run the launch checklist on the spec, the project and the live API.

    Exit codes: 0 nothing fails, 1 something fails, 2 the check could not run.
    """
    from wizard.checklist import report as reports
    from wizard.checklist.runner import build_context, run_checklist

    chosen = _report_format(output_format, ci, ("text", "json", "junit"), plain)
    project = directory.resolve()
    has_project = (project / "shipyard.yaml").is_file()
    # A founder at a terminal gets the report screen; --plain, -o and --format keep the text.
    on_screen = chosen == "text" and output_format is None and output is None and not plain
    on_screen = on_screen and can_prompt() and _tty_out()
    ctx = build_context(
        project=project if has_project else None,
        spec_file=spec,
        url=url,
        live=not static,
        on_event=show_event,
    )
    if on_screen:
        from wizard.tui import run_check

        def run(on_event: EventSink) -> Report:
            ctx.on_event = on_event
            return run_checklist(ctx)

        raise typer.Exit(run_check(str(project) if has_project else str(spec), run))
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
    _say_why_it_could_not_run(result)
    raise typer.Exit(int(result.exit_code))


def _say_why_it_could_not_run(result: Report) -> None:
    """Exit code 2 in one sentence on stderr, so a CI log shows it without reading the report."""
    from wizard.errors import ExitCode

    if result.exit_code != ExitCode.BAD_INPUT:
        return
    reasons = [f"{c.id}: {c.reason}" for i in result.items for c in i.checks if c.status == "error"]
    more = f" (and {len(reasons) - 1} more checks)" if len(reasons) > 1 else ""
    typer.secho(
        f"Error: the launch check could not run everything: {reasons[0] if reasons else '?'}"
        f"{more}.",
        fg="red",
        err=True,
    )
    typer.echo(
        "Fix that (start staging with `shipyard up`, or check the --url), then run "
        "`shipyard check` again.",
        err=True,
    )


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
    no_check: Annotated[bool, typer.Option("--no-check", help="Stop after staging is up.")] = False,
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
        steps = (
            "render, commit, " + ("publish, " if github or remote else "") + "start staging, check"
        )
        if not typer.confirm(f"Launch {launch_spec.app.title} into {target_dir} ({steps})?"):
            raise Cancelled("Cancelled: nothing was written.")
    summary = run_launch(
        launch_spec,
        target_dir,
        github=github,
        remote=remote,
        public=public,
        target=target,
        check=not no_check,
        on_event=show_event,
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


def register(app: typer.Typer) -> None:
    app.command()(check)
    app.command()(launch)
