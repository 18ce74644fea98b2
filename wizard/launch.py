"""The whole pipeline unattended: render and commit, publish when asked, staging up, launch check.

Each step is the same function the single commands call; a failure stops the run and the
summary names the step, so CI logs say where it broke and what to do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.errors import ExitCode, ShipyardError
from wizard.events import Event, EventSink, ignore
from wizard.spec import LaunchSpec, dump_spec, load_spec

SCHEMA = "shipyard.launch/1"
STEPS = ("render", "publish", "up", "check")


@dataclass
class StepResult:
    """How one step went: ok, failed or skipped, with a sentence and what it produced."""

    name: str
    status: str
    detail: str = ""
    hint: str = ""
    seconds: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "hint": self.hint or None,
            "seconds": self.seconds,
            **({"data": self.data} if self.data else {}),
        }


@dataclass
class LaunchSummary:
    """Everything `shipyard launch` did, for people (text) and for CI (JSON)."""

    project: Path
    steps: list[StepResult] = field(default_factory=list)
    check: Any = None  # the launch check's Report, when the check ran
    exit_code: ExitCode = ExitCode.OK

    @property
    def failed_step(self) -> str | None:
        return next((step.name for step in self.steps if step.status == "failed"), None)

    def as_dict(self) -> dict[str, Any]:
        from wizard.checklist import report

        return {
            "schema": SCHEMA,
            "project": str(self.project),
            "ok": self.exit_code == ExitCode.OK,
            "exit_code": int(self.exit_code),
            "failed_step": self.failed_step,
            "steps": [step.as_dict() for step in self.steps],
            "check": report.to_dict(self.check) if self.check is not None else None,
        }

    def text(self) -> str:
        lines = [f"Launch of {self.project}"]
        for step in self.steps:
            mark = {"ok": "ok  ", "failed": "FAIL", "skipped": "skip"}.get(step.status, step.status)
            lines.append(f"  {mark} {step.name:<8} {step.detail}")
            if step.status == "failed" and step.hint:
                lines.append(f"       {step.hint}")
        if self.failed_step:
            lines.append(f"Stopped at step '{self.failed_step}'.")
        else:
            lines.append("Everything is done.")
        return "\n".join(lines) + "\n"


def launch(
    spec: LaunchSpec,
    dest: Path,
    *,
    github: str | None = None,
    remote: str | None = None,
    public: bool = False,
    target: str | None = None,
    check: bool = True,
    on_event: EventSink | None = None,
) -> LaunchSummary:
    """Run every step in order; stops at the first failure. Never raises ShipyardError."""
    emit = on_event or ignore
    summary = LaunchSummary(Path(dest).resolve())
    project = summary.project

    def step(name: str, work: Any) -> bool:
        started = time.monotonic()
        emit(Event(name, f"Step {name}"))
        try:
            result: StepResult = work()
        except ShipyardError as exc:
            result = StepResult(name, "failed", exc.message, exc.hint or "")
            summary.exit_code = exc.exit_code
        result.name = name
        result.seconds = round(time.monotonic() - started, 2)
        summary.steps.append(result)
        return result.status != "failed"

    if not step("render", lambda: _render(spec, project, emit)):
        return summary
    if github or remote:
        if not step("publish", lambda: _publish(project, github, remote, public, emit)):
            return summary
    else:
        summary.steps.append(StepResult("publish", "skipped", "no --github or --remote given"))
    staging: dict[str, Any] = {}
    if not step("up", lambda: _up(project, target or spec.staging.target, staging, emit)):
        return summary
    if not check:
        summary.steps.append(StepResult("check", "skipped", "--no-check was given"))
        return summary

    def run_check() -> StepResult:
        result, report = _check(project, staging.get("api_url"), emit)
        summary.check = report
        if report.exit_code != ExitCode.OK:
            summary.exit_code = report.exit_code
        return result

    step("check", run_check)
    return summary


def _render(spec: LaunchSpec, project: Path, emit: EventSink) -> StepResult:
    from wizard.pipeline import SPEC_FILE, create_project

    existing = project / SPEC_FILE
    if existing.is_file() and (project / ".git").exists():
        if dump_spec(load_spec(existing)) == dump_spec(spec):
            return StepResult("render", "ok", f"{project} already holds this spec; kept as it is")
        raise ShipyardError(
            f"{project} already holds a project with a different shipyard.yaml.",
            hint="Launch into a new folder, or apply the edited spec with `shipyard update`.",
        )
    created = create_project(spec, project, on_event=emit)
    from wizard import repo

    head = repo.branch_head(created)
    return StepResult("render", "ok", f"rendered and committed {created}", data={"commit": head})


def _publish(
    project: Path, github: str | None, remote: str | None, public: bool, emit: EventSink
) -> StepResult:
    from wizard.publish import publish

    published = publish(
        project, github_name=github, remote=remote, public=public, prompts=False, on_event=emit
    )
    where = published.web_url or published.remote_url
    return StepResult("publish", "ok", f"pushed to {where}", data=published.as_dict())


def _up(project: Path, target: str, staging: dict[str, Any], emit: EventSink) -> StepResult:
    from wizard.staging import target_module

    result = target_module(target).up(project, on_event=emit)
    staging.update(result.as_dict())
    return StepResult(
        "up", "ok", f"staging ({target}) answers at {result.api_url}", data=result.as_dict()
    )


def _check(project: Path, url: str | None, emit: EventSink) -> tuple[StepResult, Any]:
    from wizard.checklist.runner import build_context, run_checklist

    ctx = build_context(project=project, on_event=emit)
    if url and not ctx.url:
        ctx.url = url
    report = run_checklist(ctx)
    counts = report.summary
    detail = (
        f"{counts['fail']} failing, {counts['warn']} warnings, {counts['skipped']} skipped, "
        f"{counts['pass']} passed"
    )
    status = "ok" if report.exit_code == ExitCode.OK else "failed"
    hint = (
        "Run `shipyard check` in the project for the full report with fixes."
        if status == "failed"
        else ""
    )
    return StepResult("check", status, detail, hint), report
