"""What the launch check found: findings of each check, results per checklist item, the report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from wizard.errors import ExitCode

Status = Literal["fail", "error", "warn", "skipped", "acknowledged", "pass"]
# Worst first: the order the report shows items in, and how item results combine.
STATUS_ORDER: tuple[Status, ...] = ("fail", "error", "warn", "skipped", "acknowledged", "pass")
Severity = Literal["fail", "warn"]


class Skip(Exception):
    """Raised by a check that cannot run here; the message says why, in plain words.

    `asked` is False when the founder chose not to run this kind of check (--static):
    such a skip is listed but does not colour the item's result.
    """

    def __init__(self, reason: str, asked: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.asked = asked


class CouldNotRun(Exception):
    """Raised by a check when something the founder asked for is unreachable (exit code 2)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Finding:
    """One problem a check found, located as precisely as the check can."""

    message: str
    object: str | None = None
    action: str | None = None
    actor: str | None = None
    expected: str | None = None
    actual: str | None = None
    path: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "object": self.object,
            "action": self.action,
            "actor": self.actor,
            "expected": self.expected,
            "actual": self.actual,
            "path": self.path,
            "line": self.line,
        }


@dataclass(frozen=True)
class Coverage:
    """How much of what a check set out to try it did try (the permission matrix's cells).

    A check that found nothing but tried fewer than all is a warning, never a pass: what
    was not tried may still be wrong. `skipped` says where and why; `fix` what a founder
    can do so that the next run tries everything.
    """

    what: str  # e.g. "get/create/update/delete cells"
    probed: int
    total: int
    skipped: dict[str, str] = field(default_factory=dict)  # where -> why
    fix: str = ""

    @property
    def complete(self) -> bool:
        return self.probed >= self.total and not self.skipped

    def as_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "probed": self.probed,
            "total": self.total,
            "skipped": [{"where": where, "reason": why} for where, why in self.skipped.items()],
        }


@dataclass
class Outcome:
    """What one check returns: its findings (none = it passed) and a note of what it covered."""

    findings: list[Finding] = field(default_factory=list)
    note: str = ""
    # Set by a check whose findings are milder than its item's severity (founder's own edits).
    severity: Severity | None = None
    # Set by a check that counts what it tried: an incomplete one warns instead of passing.
    coverage: Coverage | None = None

    @classmethod
    def of(cls, findings: Iterable[Finding], note: str = "") -> Outcome:
        return cls(list(findings), note)


@dataclass
class CheckResult:
    """The verdict of one check of an item."""

    id: str
    status: Status
    severity: Severity
    reason: str = ""
    note: str = ""
    findings: list[Finding] = field(default_factory=list)
    fix: str = ""  # the check's own fix, when the checklist (or an incomplete probe) gives one
    counts: bool = True  # False for checks the founder chose not to run
    coverage: Coverage | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status,
            "severity": self.severity,
            "reason": self.reason or None,
            "note": self.note or None,
            "fix": self.fix or None,
            "coverage": self.coverage.as_dict() if self.coverage else None,
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass
class ItemResult:
    """The verdict on one checklist item."""

    id: str
    step: str
    step_title: str
    title: str
    severity: Severity
    status: Status
    explanation: str = ""
    fix: str = ""
    reason: str = ""  # why it was skipped, errored or acknowledged
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [
            f
            for c in self.checks
            if c.status in ("fail", "warn", "acknowledged")
            for f in c.findings
        ]

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "step": self.step,
            "title": self.title,
            "severity": self.severity,
            "status": self.status,
            "explanation": self.explanation,
            "fix": self.fix,
            "reason": self.reason or None,
            "checks": [c.as_dict() for c in self.checks],
        }


@dataclass
class Report:
    """Every item's result, in checklist order, plus where the check looked."""

    items: list[ItemResult]
    project: str | None = None
    url: str | None = None
    spec_file: str | None = None
    duration_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for item in self.items if item.status == status)

    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {status: self.count(status) for status in STATUS_ORDER}
        counts["total"] = len(self.items)
        return counts

    @property
    def exit_code(self) -> ExitCode:
        """1 when anything fails; else 2 when a check could not run; else 0."""
        if self.count("fail"):
            return ExitCode.FAILURE
        if self.count("error"):
            return ExitCode.BAD_INPUT
        return ExitCode.OK

    @property
    def failing(self) -> list[ItemResult]:
        return [item for item in self.items if item.status == "fail"]

    def failing_findings(self) -> list[tuple[ItemResult, CheckResult, Finding]]:
        return [
            (item, result, finding)
            for item in self.items
            for result in item.checks
            if result.status == "fail"
            for finding in result.findings
        ]

    @property
    def failing_objects(self) -> list[str]:
        """Objects named by any failing finding, in first-seen order."""
        seen: dict[str, None] = {}
        for _item, _check, finding in self.failing_findings():
            if finding.object:
                seen.setdefault(finding.object, None)
        return list(seen)


def worst(statuses: Iterable[Status]) -> Status:
    ranked = sorted(statuses, key=STATUS_ORDER.index)
    return ranked[0] if ranked else "pass"
