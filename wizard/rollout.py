"""An update that is committed reaches the running staging: a backup first when it loses data,
then the new code, the migration once, and the API healthy again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.errors import ShipyardError
from wizard.events import Event, EventSink, ignore
from wizard.paths import shown


@dataclass
class Rollout:
    """What happened to staging, for the founder (lines) and for CI (as_json)."""

    target: str
    running: bool  # staging ran when the update was committed
    loses_data: bool = False
    applied: bool = False
    backup: Path | None = None
    api_url: str | None = None
    problem: str | None = None  # why staging is not on the new code, in plain words
    runs_now: bool | None = None  # after a failure: whether an API still answers
    note: str | None = None  # why Shipyard could not tell whether staging runs

    @property
    def failed(self) -> bool:
        return self.running and not self.applied

    def restore_command(self, commit: str | None) -> str | None:
        if self.backup is None:
            return None
        undo = f"`git revert --no-edit {commit[:12]}`, then " if commit else ""
        if self.target == "local":
            return (
                f"{undo}`shipyard down`, copy {shown(self.backup)} over the local database "
                "file, and `shipyard up`"
            )
        return f"{undo}`shipyard restore {shown(self.backup)} --yes`"

    def lines(self, commit: str | None) -> list[str]:
        if not self.running:
            why = f" ({self.note})" if self.note else ""
            line = (
                f"Staging ({self.target}) is not running{why}, so it was left alone: the next "
                "`shipyard up` starts it on the new code and runs the migration."
            )
            if self.loses_data:
                line += " That migration deletes data and no backup was taken of it."
            return [line]
        lines = []
        if self.backup is not None:
            lines.append(f"Backed up the staging data before the change: {shown(self.backup)}")
            lines.append(
                "  To undo the update and get that data back: " + str(self.restore_command(commit))
            )
        if self.applied:
            where = f" at {self.api_url}" if self.api_url else ""
            lines.append(
                f"Staging ({self.target}) runs the new code{where}: the migration ran and the "
                "API is healthy; its data was kept."
            )
        else:
            lines.append(f"Staging ({self.target}) was not updated: {self.problem}")
            now = {
                True: "Staging still answers, on the previous code. ",
                False: "Staging is stopped now. ",
                None: "",
            }[self.runs_now]
            lines.append(
                f"  {now}The code is committed"
                + (f" as {commit[:12]}" if commit else "")
                + ". Fix what the message says, then run `shipyard up` to finish applying it "
                "to staging."
            )
        return lines

    def as_json(self, commit: str | None) -> dict[str, Any]:
        return {
            "target": self.target,
            "running": self.running,
            "loses_data": self.loses_data,
            "applied": self.applied,
            "backup": None if self.backup is None else str(self.backup),
            "restore": self.restore_command(commit),
            "api_url": self.api_url,
            "problem": self.problem,
            "runs_now": self.runs_now,
            "note": self.note,
        }


def staging_of(project: Path) -> tuple[Any, Rollout]:
    """The project's staging target module, and whether it runs now."""
    from wizard.staging import default_target, target_module

    target = default_target(project)
    module = target_module(target)
    try:
        running = bool(module.status(project).running)
    except ShipyardError as exc:  # no Docker engine answers: then nothing of it runs either
        return module, Rollout(target, False, note=exc.message.rstrip("."))
    return module, Rollout(target, running)


def roll_out(project: Path, *, loses_data: bool, on_event: EventSink | None = None) -> Rollout:
    """Apply the committed code to the running staging; never raises for a failed step (the
    Rollout says what happened, and whether an API still answers)."""
    module, result = staging_of(project)
    result.loses_data = loses_data
    if not result.running:
        return result
    _apply(module, project, result, on_event or ignore)
    if result.failed:
        try:
            result.runs_now = bool(module.status(project).running)
        except ShipyardError:
            result.runs_now = None
    return result


def _apply(module: Any, project: Path, result: Rollout, emit: EventSink) -> None:
    """Backup (when data is lost), then the new code; a failure is kept in `result`."""
    try:
        if result.loses_data:
            emit(Event("backup", "Backing up the staging data before the data-losing change"))
            try:
                result.backup = module.backup(project, on_event=emit)
            except ShipyardError as exc:
                result.problem = (
                    f"the backup before the data-losing change failed ({exc.message.rstrip('.')})"
                    ", so nothing was changed on staging"
                )
                return
        emit(Event("staging", f"Applying the update to the running staging ({result.target})"))
        staging = module.apply_update(project, on_event=emit)
    except ShipyardError as exc:
        result.problem = exc.message.rstrip(".") + "."
        if exc.hint:
            result.problem += f" {exc.hint}"
        return
    except KeyboardInterrupt:
        result.problem = "cancelled (Ctrl-C) while staging was being updated."
        return
    result.applied = bool(staging.running)
    result.api_url = staging.api_url
    if not result.applied:
        result.problem = "it did not report healthy after the update."
