"""Run the launch checklist: find the spec, project and live API, evaluate every item, report."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from pathlib import Path
from urllib.parse import urlsplit

from wizard.checklist.context import CheckContext, registered
from wizard.checklist.model import Checklist, Item, load_checklist
from wizard.checklist.results import (
    CheckResult,
    CouldNotRun,
    ItemResult,
    Outcome,
    Report,
    Severity,
    Skip,
    Status,
    worst,
)
from wizard.errors import BadInput, Cancelled, ShipyardError
from wizard.events import Event, EventSink, ignore
from wizard.paths import as_typed

SPEC_FILE = "shipyard.yaml"
ADMIN_EMAIL_ENV = "SHIPYARD_ADMIN_EMAIL"
ADMIN_PASSWORD_ENV = "SHIPYARD_ADMIN_PASSWORD"
KINDS = ("spec", "project", "live")
# Probes that trip rate limits run after every other check, so the others can still sign in.
LAST = ("live.account_enumeration", "live.brute_force")
_PHASES = {
    "spec": "Checking the launch spec",
    "project": "Checking the project's files, git history and code",
    "live": "Probing the live API at {url} (test accounts, every permission cell)",
}


def build_context(
    project: Path | None = None,
    spec_file: Path | None = None,
    url: str | None = None,
    *,
    live: bool = True,
    environ: Mapping[str, str] | None = None,
    on_event: EventSink | None = None,
) -> CheckContext:
    """Load the spec, find the project and decide which API to probe (staging, or --url)."""
    from wizard.spec import load_spec

    environ = dict(os.environ if environ is None else environ)
    if project is not None:
        project = Path(project).resolve()
        if not project.is_dir():
            raise BadInput(
                f"{project} is not a folder.", hint="Pass the project folder with -C DIR."
            )
    if spec_file is None and project is not None and (project / SPEC_FILE).is_file():
        spec_file = project / SPEC_FILE
    if spec_file is None:
        raise BadInput(
            "There is no shipyard.yaml to check.",
            hint="Run `shipyard check` inside a project Shipyard created, or pass --spec FILE.",
        )
    spec = load_spec(spec_file)
    ctx = CheckContext(spec=spec, project=project, environ=environ, on_event=on_event or ignore)
    ctx.cache["spec_file"] = str(spec_file)
    if not live:
        ctx.url_missing_reason = "live probes were turned off (--static)"
        ctx.cache["kinds"] = ("spec", "project")
    elif url:
        ctx.url, ctx.url_given = _web_address(url), True
    elif project is not None:
        ctx.url, ctx.url_missing_reason, target = _staging_url(project)
        if ctx.url:
            ctx.cache["staging_target"] = target
    _find_admin(ctx)
    return ctx


def _web_address(url: str) -> str:
    """The --url as given (without a trailing slash), or BadInput when it is no http(s) address."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url.strip():
        raise BadInput(
            f"--url {url!r} is not the web address of an API.",
            hint="Pass it with http:// or https:// and the host, like https://api.example.com "
            "or http://127.0.0.1:8000.",
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise BadInput(
            f"--url {url!r} has a port that is not a number.",
            hint="Pass it like http://127.0.0.1:8000.",
        ) from None
    return url.strip().rstrip("/")


def _staging_url(project: Path) -> tuple[str | None, str, str]:
    """The running staging's API URL (or None and why there is none), and its target."""
    from wizard import staging

    target = ""
    try:
        target = staging.default_target(project)
        current = staging.target_module(target).status(project)
    except ShipyardError as exc:
        return None, f"staging could not be inspected: {exc.message}", target
    except Exception as exc:  # the Docker SDK raises its own kinds when no engine answers
        return None, f"staging could not be inspected: {exc}", target
    if current.running and current.api_url:
        return current.api_url.rstrip("/"), "", target
    return None, "staging is not running (start it with `shipyard up`, or pass --url URL)", target


def _find_admin(ctx: CheckContext) -> None:
    """Admin credentials from the environment, else from staging (the project's .env)."""
    email = ctx.environ.get(ADMIN_EMAIL_ENV, "").strip()
    password = ctx.environ.get(ADMIN_PASSWORD_ENV, "")
    if email and password:
        ctx.admin, ctx.admin_source = (email, password), f"{ADMIN_EMAIL_ENV}/{ADMIN_PASSWORD_ENV}"


def run_checklist(
    ctx: CheckContext,
    checklist: Checklist | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> Report:
    """Evaluate every item of the checklist that has checks; never raises for a failing check."""
    checklist = checklist or load_checklist()
    kinds = tuple(k for k in kinds if k in ctx.cache.get("kinds", KINDS))
    checks = registered()
    outcomes: dict[str, Outcome | Exception] = {}
    started = time.monotonic()
    items: list[ItemResult] = []
    wanted = list(dict.fromkeys(c.id for _, _, c in checklist.checks()))
    # One kind after the other (spec, project, live), so each phase is announced once.
    order = sorted(
        (c for c in wanted if c not in LAST), key=lambda c: _kind_rank(c.split(".", 1)[0])
    ) + [c for c in LAST if c in wanted]
    try:
        outcomes.update(_run_all(ctx, checks, order, kinds))
        for step, item in checklist.all_items():
            if not item.checks:
                continue
            results = []
            for spec_check in item.checks:
                result = _verdict(
                    ctx, item, spec_check.id, item.severity_of(spec_check), outcomes[spec_check.id]
                )
                # An incomplete probe's own fix (how to try every cell) comes before the checklist's.
                result.fix = result.fix or " ".join(str(spec_check.params.get("fix", "")).split())
                # Commands the texts name are spelled to run as typed (`shipyard` may not be on PATH).
                result.fix, result.reason = as_typed(result.fix), as_typed(result.reason)
                results.append(result)
            items.append(_item_result(step.id, step.title, item, results))
    except KeyboardInterrupt:
        before = len(ctx.cache.get("notes", []))
        made_records = callable(ctx.cache.get("cleanup"))
        _tidy_up(ctx)
        problems = ctx.cache.get("notes", [])[before:]
        message = (
            "Cancelled: the launch check stopped before it finished, so there is no report; "
            "it changed none of the project's files"
        )
        if problems:
            message += f", but {'; '.join(problems)}"
        elif made_records:
            message += " and deleted the records its probes had made"
        raise Cancelled(message + ".") from None
    finally:
        _tidy_up(ctx)
    return Report(
        items,
        project=str(ctx.project) if ctx.project else None,
        url=ctx.url,
        spec_file=ctx.cache.get("spec_file"),
        duration_seconds=round(time.monotonic() - started, 2),
        notes=list(ctx.cache.get("notes", [])),
    )


def _tidy_up(ctx: CheckContext) -> None:
    """Delete what the probes created (once) and close the connections."""
    cleanup = ctx.cache.pop("cleanup", None)
    if callable(cleanup):
        ctx.on_event(Event("cleanup", "Deleting what the probes created"))
        try:
            cleanup()
        except Exception as exc:  # the results stand even if tidying up failed
            ctx.cache.setdefault("notes", []).append(f"cleaning up after the probes failed: {exc}")
    bare = ctx.cache.pop("bare_api", None)
    if bare is not None:
        bare.close()


# The project checks run the project's own code (a scratch migration, the app in production
# settings, a fresh render): seconds each, mostly spent in child processes, and none reads
# another's result or talks to staging. They run side by side; spec and live checks run one
# after the other (the live probes share one signed-in session, and timing probes need quiet).
PARALLEL_KINDS = frozenset({"project"})
PARALLEL_CHECKS = 4


def _run_all(
    ctx: CheckContext, checks: dict, order: list[str], kinds: tuple[str, ...]
) -> dict[str, Outcome | Exception]:
    outcomes: dict[str, Outcome | Exception] = {}
    for kind, group in groupby(order, key=lambda check_id: check_id.split(".", 1)[0]):
        ids = list(group)
        if kind not in PARALLEL_KINDS or kind not in kinds or len(ids) < 2:
            for check_id in ids:
                outcomes[check_id] = _run_one(ctx, checks, check_id, kinds)
            continue
        _announce(ctx, kind)
        pool = ThreadPoolExecutor(max_workers=PARALLEL_CHECKS, thread_name_prefix="check")
        try:
            futures = {i: pool.submit(_run_one, ctx, checks, i, kinds) for i in ids}
            for check_id in ids:  # in checklist order, whatever finishes first
                outcomes[check_id] = futures[check_id].result()
        finally:
            # Interrupted: the children got the same Ctrl-C; start nothing new, and let the
            # ones running clean up their scratch folders.
            pool.shutdown(wait=True, cancel_futures=True)
    return outcomes


def _announce(ctx: CheckContext, kind: str) -> None:
    if ctx.cache.get("phase") != kind:
        ctx.cache["phase"] = kind
        ctx.on_event(Event("check", _PHASES[kind].format(url=ctx.url or "")))


def _kind_rank(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


def _run_one(
    ctx: CheckContext, checks: dict, check_id: str, kinds: tuple[str, ...]
) -> Outcome | Exception:
    kind = check_id.split(".", 1)[0]
    if kind not in kinds:
        return Skip(f"{kind} checks were not asked for", asked=False)
    function = checks.get(check_id)
    if function is None:
        return Skip(f"this version of Shipyard cannot run the {check_id} check yet")
    _announce(ctx, kind)
    try:
        return function(ctx)
    except (Skip, CouldNotRun) as exc:
        return exc
    except ShipyardError as exc:
        return CouldNotRun(exc.message)
    except Exception as exc:  # a bug in one check must not hide the others' results
        return CouldNotRun(f"the check itself broke: {type(exc).__name__}: {exc}")


def _verdict(
    ctx: CheckContext, item: Item, check_id: str, severity: Severity, outcome: Outcome | Exception
) -> CheckResult:
    if isinstance(outcome, Skip):
        return CheckResult(
            check_id,
            "skipped",
            severity,
            reason=outcome.reason,
            counts=outcome.asked,  # type: ignore[arg-type]
        )
    if isinstance(outcome, CouldNotRun):
        return CheckResult(check_id, "error", severity, reason=outcome.reason)  # type: ignore[arg-type]
    assert isinstance(outcome, Outcome)
    if outcome.severity == "warn":
        severity = "warn"
    status: Status = "pass"
    reason = fix = ""
    coverage = outcome.coverage
    if outcome.findings:
        status = "fail" if severity == "fail" else "warn"
    elif coverage is not None and not coverage.complete:
        # Nothing wrong was seen, but not everything was tried: a warning, never a pass.
        status, reason, fix = "warn", outcome.note, coverage.fix
    if status == "warn":
        acknowledged = _acknowledgement(ctx, item.id, check_id)
        if acknowledged is not None:
            status, reason = "acknowledged", acknowledged
    return CheckResult(
        check_id,
        status,
        severity,
        reason=reason,
        note=outcome.note,  # type: ignore[arg-type]
        findings=list(outcome.findings),
        fix=fix,
        coverage=coverage,
    )


def _acknowledgement(ctx: CheckContext, item_id: str, check_id: str) -> str | None:
    acknowledged = ctx.spec.acknowledged if ctx.spec else {}
    for key in (check_id, item_id):
        if key in acknowledged:
            return acknowledged[key]
    return None


def _item_result(
    step_id: str, step_title: str, item: Item, results: list[CheckResult]
) -> ItemResult:
    counted = [result for result in results if result.counts]
    status = worst(result.status for result in counted) if counted else "skipped"
    reasons = [f"{r.id}: {r.reason}" for r in counted or results if r.status == status and r.reason]
    return ItemResult(
        id=item.id,
        step=step_id,
        step_title=step_title,
        title=item.title,
        severity=item.severity,
        status=status,
        explanation=as_typed(" ".join(item.why.split())),
        fix=as_typed(" ".join(item.fix.split())),
        reason=as_typed("; ".join(reasons)),
        checks=results,
    )
