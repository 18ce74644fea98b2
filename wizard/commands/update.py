"""`shipyard update`: apply an edited shipyard.yaml to the code, keeping the founder's edits."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from wizard.commands.common import DirOption, can_prompt, show_event
from wizard.errors import BadInput, ExitCode


class Format(StrEnum):
    text = "text"
    json = "json"


def update(
    directory: DirOption = Path("."),
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Ask nothing (renames come from --rename).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and write nothing.")
    ] = False,
    allow_data_loss: Annotated[
        bool,
        typer.Option("--allow-data-loss", help="Apply changes that delete stored values."),
    ] = False,
    rename: Annotated[
        list[str] | None,
        typer.Option(
            "--rename", metavar="OBJECT.OLD=NEW", help="A field was renamed (repeatable)."
        ),
    ] = None,
    output: Annotated[
        Format, typer.Option("--format", help="text, or json for CI.", case_sensitive=False)
    ] = Format.text,
    abort: Annotated[
        bool, typer.Option("--abort", help="Undo an update that stopped on conflicts.")
    ] = False,
    resume: Annotated[
        bool,
        typer.Option("--continue", help="Commit an update whose conflicts you resolved."),
    ] = False,
    restore: Annotated[
        list[str] | None,
        typer.Option(
            "--restore",
            metavar="PATH",
            help="Put back the blueprint's version of a file or folder, over your edits "
            "(repeatable).",
        ),
    ] = None,
    since: Annotated[
        Path | None,
        typer.Option(
            "--since",
            help="The spec the project was rendered from, for a project without "
            ".shipyard/rendered.json.",
        ),
    ] = None,
) -> None:
    """Apply shipyard.yaml to the code: re-render, merge three ways, commit once.

    Exit codes: 0 applied (or nothing to do), 1 conflicts or a failed step, 2 refused.
    """
    code = run_update(
        directory,
        yes=yes,
        dry_run=dry_run,
        allow_data_loss=allow_data_loss,
        rename=rename or [],
        as_json=output is Format.json,
        abort=abort,
        resume=resume,
        since=since,
        restore=restore or [],
    )
    if code:
        raise typer.Exit(code)


def run_update(
    directory: Path,
    *,
    yes: bool = False,
    dry_run: bool = False,
    allow_data_loss: bool = False,
    rename: list[str] | None = None,
    as_json: bool = False,
    abort: bool = False,
    resume: bool = False,
    since: Path | None = None,
    restore: list[str] | None = None,
    err: bool = False,
) -> int:
    """`shipyard update` itself, for the command and for `shipyard edit`; the exit code.

    With `err` the plan goes to stderr (when stdout already carries another command's data).
    """
    from wizard import update as core
    from wizard.spec.diff import data_loss, parse_rename, rename_candidates

    if abort:
        restored = core.abort_update(directory)
        _say(
            as_json,
            {"aborted": True, "restored": restored},
            f"Aborted: {len(restored)} files are back as they were before the update.",
            err,
        )
        return 0
    if resume:
        loses_data = core.in_progress_loses_data(directory)
        sha = core.continue_update(directory)
        rollout = _roll_out(directory, loses_data, as_json)
        _say(
            as_json,
            {"committed": sha, "staging": rollout.as_json(sha)},
            "\n".join([f"Committed the update as {sha[:12]}.", *rollout.lines(sha)]),
            err,
        )
        return int(ExitCode.FAILURE) if rollout.failed else 0
    try:
        renames = [parse_rename(text) for text in rename or []]
    except ValueError as exc:
        raise BadInput(f"--rename {exc}.", hint="Pass --rename OBJECT.OLD=NEW.") from None
    if not dry_run:
        core.refuse_in_progress(directory.resolve())
    events = None if as_json else show_event
    plan = core.plan_update(directory, renames, since=since, on_event=events, restore=restore)
    with plan:
        asked = _ask_renames(plan, yes or dry_run or not can_prompt())
        if asked:
            renames += asked
            plan.close()
            plan = core.plan_update(
                directory, renames, since=since, on_event=events, restore=restore
            )
        risky = _destructive(plan, data_loss)
        plan.refused += _refusals(plan, rename_candidates, risky, allow_data_loss)
        data = plan.as_json()
        data["destructive"] = risky
        if dry_run:
            data["dry_run"] = True
            if not plan.nothing_to_do:
                data["staging"] = _staging_forecast(plan.project, bool(risky))
            _show(as_json, data, plan, dry_run=True, err=err)
            return 2 if plan.refused else (1 if plan.conflicts else 0)
        if plan.refused:
            _show(as_json, data, plan, dry_run=True, err=err)
            return int(ExitCode.BAD_INPUT)
        if plan.nothing_to_do:
            _show(as_json, data, plan, dry_run=False, err=err)
            return 0
        outcome = core.apply_update(plan, on_event=events, loses_data=bool(risky))
        data["committed"] = outcome.committed
        rollout = None
        if outcome.committed:
            rollout = _roll_out(plan.project, bool(risky), as_json)
            data["staging"] = rollout.as_json(outcome.committed)
        _show(as_json, data, plan, dry_run=False, err=err, rollout=rollout)
        if outcome.conflicts or (rollout is not None and rollout.failed):
            return int(ExitCode.FAILURE)
        return 0


def _staging_forecast(project: Path, loses_data: bool) -> dict[str, Any]:
    """What applying the update would do to staging, for --dry-run."""
    from wizard.rollout import staging_of

    _, now = staging_of(project)
    if not now.running:
        would = "nothing (it is not running; the next `shipyard up` runs the migration)"
    else:
        would = ("back up its data, then " if loses_data else "") + (
            "start it on the new code, run the migration once and wait until it is healthy"
        )
    return {"target": now.target, "running": now.running, "would": would}


def _roll_out(project: Path, loses_data: bool, as_json: bool) -> Any:
    """The committed update, applied to the running staging (a backup first if it loses data)."""
    from wizard.rollout import roll_out

    return roll_out(project, loses_data=loses_data, on_event=None if as_json else show_event)


def _ask_renames(plan: Any, no_questions: bool) -> list[Any]:
    from wizard.spec.diff import Rename, rename_candidates

    if no_questions:
        return []
    from wizard import migrations
    from wizard import update as core
    from wizard.spec.diff import Change

    pairs = rename_candidates(plan.changes)
    targets = {
        pair: migrations.affected(plan.record.spec, Change("field_removed", "", pair[0], pair[1]))
        for pair in pairs
    }
    counts = core.count_on_staging(plan.project, [t for t in targets.values() if t]) or {}
    asked = []
    for obj, old, new in pairs:
        count = counts.get(targets[(obj, old, new)] or "")
        kept = (
            ""
            if count is None
            else f" ({count} value{'' if count == 1 else 's'} on staging would be kept)"
        )
        if typer.confirm(f"Did you rename {obj}.{old} to {new}?{kept}", default=False, err=True):
            asked.append(Rename(obj, old, new))
    return asked


def _destructive(plan: Any, data_loss: Any) -> list[dict[str, Any]]:
    """The data-losing changes with what each touches on the running staging, counted there."""
    from wizard import migrations
    from wizard import update as core

    risky = [
        {"change": change.text, "target": migrations.affected(plan.record.spec, change)}
        for change in data_loss(plan.changes)
    ]
    counts = core.count_on_staging(plan.project, [r["target"] for r in risky if r["target"]])
    for item in risky:
        item["count"] = None if counts is None else counts.get(item["target"])
        item["counted"] = counts is not None
    return risky


def _touches(item: dict[str, Any]) -> str:
    if not item["counted"]:
        return "staging is not running, so Shipyard could not count what it deletes"
    count = item["count"] or 0
    unit = "records" if "." not in (item["target"] or ".") else "values"
    return f"it deletes or changes {count} {unit[:-1] if count == 1 else unit} on staging"


def _refusals(
    plan: Any, rename_candidates: Any, risky: list[dict[str, Any]], allow: bool
) -> list[str]:
    refused = []
    for obj, old, new in rename_candidates(plan.changes):
        refused.append(
            f"{obj}.{old} was removed and {obj}.{new} of the same type added: if it is a rename, "
            f"pass --rename {obj}.{old}={new} (its values are kept); if not, add the field in one "
            "update and remove the other in the next"
        )
    if not allow:
        for item in risky:
            refused.append(
                f"{item['change']}: {_touches(item)}; pass --allow-data-loss to apply it"
            )
    return refused


def _say(as_json: bool, data: dict[str, Any], text: str, err: bool) -> None:
    typer.echo(json.dumps(data, indent=2) if as_json else text, err=err)


def _show(
    as_json: bool,
    data: dict[str, Any],
    plan: Any,
    dry_run: bool,
    err: bool,
    rollout: Any = None,
) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2), err=err)
        return
    if plan.nothing_to_do:
        typer.echo(
            "Nothing to update: shipyard.yaml and the blueprint are as last rendered.", err=err
        )
        return
    lines = ["Spec changes:"] + [f"  {change.text}" for change in plan.changes]
    if plan.blueprint_changed:
        lines.append(f"  the {plan.spec.blueprint} blueprint changed")
    files = data["files"]
    for title, key in (
        ("Files changed", "changed"),
        ("Files added", "added"),
        ("Files removed", "removed"),
        ("Deleted by you, left deleted", "kept_deleted"),
        ("Restored as the blueprint renders them", "restored"),
    ):
        if files[key]:
            lines.append(f"{title}:")
            lines += [f"  {path}" for path in files[key]]
    orphans = [f for f in plan.files if f.action == "kept_orphan"]
    if orphans:
        lines.append("Your hooks for a removed object, kept (Shipyard never deletes your code):")
        lines += [f"  {f.path}: {f.note}" for f in orphans]
    if plan.migration is not None:
        lines.append(f"Migration {plan.migration.path}:")
        lines += [f"  {words}" for words in plan.migration.operations]
        if plan.lint is not None:
            lines += plan.lint.lines(plan.migration)
    if data.get("destructive") and not plan.refused:
        lines.append("Data loss (allowed with --allow-data-loss):")
        lines += [f"  {item['change']}: {_touches(item)}" for item in data["destructive"]]
    if plan.conflicts:
        lines.append("Conflicts (your edits and the new render touch the same lines):")
        lines += [
            f"  {f.path}" + (f" ({f.conflicts} places)" if f.conflicts else f" ({f.note})")
            for f in plan.conflicts
        ]
    if plan.refused:
        lines.append("Refused, nothing was written:")
        lines += [f"  {reason}" for reason in plan.refused]
    elif dry_run:
        if data.get("staging"):
            lines.append(f"Staging ({data['staging']['target']}): {data['staging']['would']}")
        lines.append("Dry run: nothing was written.")
    elif data.get("committed"):
        lines.append(f"Committed as {data['committed'][:12]}: {plan.message.splitlines()[0]}")
        if rollout is not None:
            lines += rollout.lines(data["committed"])
    elif plan.conflicts:
        lines.append(
            "Nothing was committed. Resolve the <<<<<<< markers in the files above, then run "
            "`shipyard update --continue`; or `shipyard update --abort` to put every file back."
        )
    typer.echo("\n".join(lines), err=err)


def register(app: typer.Typer) -> None:
    app.command()(update)
