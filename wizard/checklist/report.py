"""The launch check report as text for people, JSON for machines and JUnit XML for CI systems.

The JSON schema is documented in docs/check-report.md; its "schema" key changes
only when a key is removed or changes meaning.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from itertools import groupby

from wizard import __version__
from wizard.checklist.results import STATUS_ORDER, Finding, ItemResult, Report, Status

SCHEMA = "shipyard.check/1"
MAX_FINDINGS_SHOWN = 12

LABEL = {
    "fail": "FAIL",
    "error": "ERROR",
    "warn": "WARN",
    "skipped": "SKIP",
    "acknowledged": "ACK",
    "pass": "ok",
}
_COLOUR = {
    "fail": "31",
    "error": "31",
    "warn": "33",
    "skipped": "36",
    "acknowledged": "32",
    "pass": "32",
}


def to_dict(report: Report) -> dict[str, object]:
    """The report as plain data (the JSON format)."""
    failing = [
        {
            "item": item.id,
            "check": check.id,
            "object": finding.object,
            "action": finding.action,
            "actor": finding.actor,
            "message": finding.message,
        }
        for item, check, finding in report.failing_findings()
    ]
    return {
        "schema": SCHEMA,
        "shipyard_version": __version__,
        "spec_file": report.spec_file,
        "project": report.project,
        "url": report.url,
        "exit_code": int(report.exit_code),
        "duration_seconds": report.duration_seconds,
        "summary": report.summary,
        "failing_objects": report.failing_objects,
        "failing": failing,
        "notes": list(report.notes),
        "steps": [
            {
                "id": step_id,
                "title": items[0].step_title,
                "status": _worst(items),
                "items": [item.as_dict() for item in items],
            }
            for step_id, items in _steps(report)
        ],
    }


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


def _steps(report: Report) -> list[tuple[str, list[ItemResult]]]:
    """Items grouped by step, in checklist order."""
    return [
        (step_id, list(items)) for step_id, items in groupby(report.items, key=lambda i: i.step)
    ]


@dataclass(frozen=True)
class StepResults:
    """One checklist step's items as the reports show them: worst first."""

    id: str
    title: str
    status: Status
    items: list[ItemResult]


def ordered_steps(report: Report) -> list[StepResults]:
    """Steps with their worst result first, and each step's items worst first.

    The text report and the TUI screen both show the report in this order.
    """
    steps = [
        StepResults(
            step_id,
            items[0].step_title,
            _worst(items),  # type: ignore[arg-type]
            sorted(items, key=lambda i: _rank(i.status)),
        )
        for step_id, items in _steps(report)
    ]
    return sorted(steps, key=lambda step: _rank(step.status))


SUMMARY_NAMES: tuple[tuple[Status, str], ...] = (
    ("fail", "failing"),
    ("error", "could not run"),
    ("warn", "warnings"),
    ("skipped", "skipped"),
    ("acknowledged", "acknowledged"),
    ("pass", "passed"),
)


def summary_line(
    report: Report,
    names: tuple[tuple[Status, str], ...] = SUMMARY_NAMES,
    every: bool = False,
    sep: str = ", ",
) -> str:
    """The counts, e.g. "1 failing, 13 passed"; `every` keeps zeros (except "could not run")."""
    summary = report.summary
    return sep.join(
        f"{summary[status]} {name}"
        for status, name in names
        if summary[status] or (every and status != "error")
    )


def where(report: Report) -> str:
    """What was checked: the project folder, else the spec file."""
    return report.project or report.spec_file or "the spec"


def verdict(report: Report) -> str:
    """The report's last line, matching its exit code."""
    return {
        0: "Nothing fails.",
        1: "Some items fail: fix them before launch.",
        2: "Some checks could not run.",
    }[int(report.exit_code)]


def _worst(items: list[ItemResult]) -> str:
    return min((item.status for item in items), key=STATUS_ORDER.index, default="pass")


def _rank(status: str) -> int:
    return STATUS_ORDER.index(status)  # type: ignore[arg-type]


def describe(finding: Finding) -> str:
    """A finding in one line: its message, what was expected, and where."""
    text = finding.message
    if finding.expected is not None and finding.actual is not None:
        text += f" (expected {finding.expected}, got {finding.actual})"
    if finding.path and finding.path not in text:
        where = f"{finding.path}:{finding.line}" if finding.line else finding.path
        text += f" [{where}]"
    return text


def to_text(report: Report, colour: bool = False) -> str:
    """The readable report: steps with failures first, each failing item with its fix."""

    def paint(status: str, text: str) -> str:
        return f"\x1b[{_COLOUR[status]}m{text}\x1b[0m" if colour else text

    lines = [f"Launch check of {where(report)}"]
    lines.append(
        f"Live API: {report.url}" if report.url else "Live API: none (live probes skipped)"
    )
    lines.append(summary_line(report) or "nothing to check")
    for step in ordered_steps(report):
        lines += ["", paint(step.status, f"== {step.title} ==")]
        for item in step.items:
            lines += _item_lines(item, paint)
    for note in report.notes:
        lines += ["", f"Note: {note}"]
    lines += ["", verdict(report)]
    return "\n".join(lines) + "\n"


def _item_lines(item: ItemResult, paint) -> list[str]:  # type: ignore[no-untyped-def]
    label = paint(item.status, f"{LABEL[item.status]:<5}")
    lines = [f"  {label} {item.title} [{item.id}]"]
    if item.status == "pass":
        return lines
    for check in item.checks:
        if check.status == "pass":
            continue
        head = f"        {check.id}: {LABEL[check.status].lower()}"
        if check.reason:
            head += f" - {check.reason}"
        lines.append(head)
        if check.note and check.note != check.reason:
            lines.append(f"          ({check.note})")  # e.g. how many permission cells were probed
        shown = check.findings[:MAX_FINDINGS_SHOWN] if check.status != "pass" else []
        lines += [f"          - {describe(finding)}" for finding in shown]
        if len(check.findings) > len(shown):
            lines.append(
                f"          ... and {len(check.findings) - len(shown)} more (see --format json)"
            )
        if check.fix and check.status in ("fail", "warn"):
            said = any(f"Fix: {check.fix}" == line.strip() for line in lines)
            lines.append("          Fix: as above." if said else f"          Fix: {check.fix}")
    if (
        item.status in ("fail", "warn")
        and item.fix
        and not all(c.fix for c in item.checks if c.status in ("fail", "warn"))
    ):  # the item's fix, for the checks that have none of their own
        lines.append(f"        Fix: {item.fix}")
    if item.status in ("fail", "warn") and item.explanation:
        lines.append(f"        Why: {item.explanation}")
    return lines


def to_junit(report: Report) -> str:
    """JUnit XML: one testsuite per checklist step, one testcase per item."""
    suites = ET.Element("testsuites", name="shipyard check", time=str(report.duration_seconds))
    summary = report.summary
    suites.set("tests", str(summary["total"]))
    suites.set("failures", str(summary["fail"]))
    suites.set("errors", str(summary["error"]))
    suites.set("skipped", str(summary["skipped"] + summary["acknowledged"]))
    for step_id, items in _steps(report):
        suite = ET.SubElement(suites, "testsuite", name=step_id)
        suite.set("tests", str(len(items)))
        suite.set("failures", str(sum(i.status == "fail" for i in items)))
        suite.set("errors", str(sum(i.status == "error" for i in items)))
        suite.set("skipped", str(sum(i.status in ("skipped", "acknowledged") for i in items)))
        for item in items:
            case = ET.SubElement(suite, "testcase", classname=f"shipyard.{step_id}", name=item.id)
            body = "\n".join(
                [
                    f"{check.id}: {describe(finding)}"
                    for check in item.checks
                    if check.status in ("fail", "warn", "acknowledged")
                    for finding in check.findings
                ]
                + [  # a warning without findings: what could not be probed
                    f"{check.id}: {check.reason}"
                    for check in item.checks
                    if check.status == "warn" and not check.findings and check.reason
                ]
            )
            if item.status == "fail":
                failure = ET.SubElement(
                    case, "failure", message=f"{item.title}: {item.fix}", type="fail"
                )
                failure.text = body
            elif item.status == "error":
                ET.SubElement(case, "error", message=item.reason or "could not run")
            elif item.status in ("skipped", "acknowledged"):
                ET.SubElement(case, "skipped", message=item.reason or item.status)
            if item.status == "warn":
                out = ET.SubElement(case, "system-out")
                fixes = [c.fix for c in item.checks if c.fix and c.status == "warn"]
                fix = " ".join(fixes or [item.fix])
                out.text = f"warning: {item.title}\n{body}\nFix: {fix}"
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
