"""Checks that trouble reaches the founder: an alert destination, an optional error monitor."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wizard import envfile
from wizard.checklist.context import CheckContext, check
from wizard.checklist.results import Finding, Outcome, Skip

ALERT_URL = "ALERT_URL"
SENTRY_DSN = "SENTRY_DSN"
# An apprise URL: a service's scheme (mailto, slack, discord, tgram, json, ...) and its details.
_APPRISE_URL = re.compile(r"^[a-z][a-z0-9+]*://\S+$")


def setting(ctx: CheckContext, key: str) -> tuple[str, str]:
    """The value of a setting and where it came from: the environment wins over .env."""
    value = (ctx.environ.get(key) or "").strip()
    if value:
        return value, "the environment"
    return envfile.read_env(ctx.need_project()).get(key, "").strip(), envfile.ENV_FILE


def alert_url_problem(url: str) -> str | None:
    """Why `url` cannot be an alert destination, without repeating it (it holds a secret)."""
    if not _APPRISE_URL.match(url):
        return (
            "is not an apprise URL: it should look like mailto://..., slack://..., "
            "discord://... or json://host/path"
        )
    return None


def production_env(project: Path) -> tuple[Path, dict[str, str] | None]:
    """`shipyard deploy`'s production settings (.shipyard/production.env), None before one."""
    from wizard.deploy.plan import SECRETS_FILE
    from wizard.staging import STATE_DIR

    path = project / STATE_DIR / SECRETS_FILE
    if not path.is_file():
        return path, None
    return path, envfile.parse_env(path.read_text(encoding="utf-8"))


def dsn_problem(dsn: str) -> str | None:
    """Why `dsn` is not an error monitor's DSN (https://KEY@HOST/PROJECT), without repeating it."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("http", "https") or not parts.username or not parts.path.strip("/"):
        return "is not a DSN: it should look like https://KEY@ORG.ingest.sentry.io/PROJECT"
    return None


@check("project.alert_destination")
def alert_destination(ctx: CheckContext) -> Outcome:
    """Production has somewhere to send alerts: ALERT_URL is set and looks like an apprise URL.

    Production's settings are `shipyard deploy`'s .shipyard/production.env once there is one;
    before that, the project's .env (what staging and a hand-made server start from).
    """
    project = ctx.need_project()
    prod_path, production = production_env(project)
    url, where = setting(ctx, ALERT_URL)
    if production is not None and not (ctx.environ.get(ALERT_URL) or "").strip():
        url = production.get(ALERT_URL, "").strip()
        where = str(prod_path.relative_to(project))
    if not url:
        return Outcome.of(
            [
                Finding(
                    f"no {ALERT_URL} is set in {where if production is not None else envfile.ENV_FILE}: "
                    "an error in production would reach no one",
                    path=where if production is not None else envfile.ENV_FILE,
                )
            ]
        )
    problem = alert_url_problem(url)
    if problem:
        return Outcome.of([Finding(f"{ALERT_URL} in {where} {problem}", path=where)])
    return Outcome.of([], f"alerts go to a {url.split('://', 1)[0]}:// destination ({where})")


@check("project.error_monitoring")
def error_monitoring(ctx: CheckContext) -> Outcome:
    """SENTRY_DSN is optional; when set it must be a DSN (https://KEY@HOST/PROJECT)."""
    dsn, where = setting(ctx, SENTRY_DSN)
    if not dsn:
        return Outcome.of([], f"{SENTRY_DSN} is not set: errors are logged and alerted only")
    parts = urlsplit(dsn)
    if dsn_problem(dsn):
        return Outcome.of(
            [
                Finding(
                    f"{SENTRY_DSN} in {where} is not a DSN: it should look like "
                    "https://KEY@ORG.ingest.sentry.io/PROJECT",
                    path=envfile.ENV_FILE,
                )
            ]
        )
    return Outcome.of([], f"errors are sent to {parts.hostname} ({where})")


ALERT_WAIT_SECONDS = 15.0


@check("live.alert_delivered")
def alert_delivered(ctx: CheckContext) -> Outcome:
    """An error provoked on staging (POST /dev/error, admins only) reaches ALERT_URL."""
    from wizard.checklist.live import json_of, session

    if ctx.project is not None and not setting(ctx, ALERT_URL)[0]:
        raise Skip(f"no {ALERT_URL} is set, so an alert could reach no one")
    live = session(ctx)
    admin = live.personas.get("admin")
    if admin is None:
        raise Skip(f"provoking an error needs admin credentials: {live.admin_problem}")
    rid = f"shipyard-check-{secrets.token_hex(6)}"
    started = time.monotonic()
    answer = live.api.call("POST", "/dev/error", admin, headers={"X-Request-ID": rid})
    if answer.status_code == 404:
        return Outcome.of(
            [
                Finding(
                    "the API has no POST /dev/error, so no error could be provoked: it predates "
                    "alerts (run `shipyard update`) or runs with ENVIRONMENT=production"
                )
            ]
        )
    findings = []
    if answer.status_code != 500:
        findings.append(Finding(f"POST /dev/error answered {answer.status_code}", expected="500"))
    if answer.headers.get("x-request-id") != rid:
        findings.append(Finding("the error's answer does not carry its X-Request-ID"))
    while time.monotonic() - started < ALERT_WAIT_SECONDS:
        sent = json_of(live.api.call("GET", "/dev/alerts", admin))
        mine = [
            entry
            for entry in (sent if isinstance(sent, list) else [])
            if isinstance(entry, dict) and rid in (entry.get("request_ids") or [])
        ]
        if mine:
            if mine[0].get("delivered"):
                seconds = time.monotonic() - started
                note = f"the alert for request {rid} reached ALERT_URL in {seconds:.1f} s"
                if _sentry_dsn(ctx):
                    sentry_note, finding = _sentry_event_arrived(live, admin, rid, started)
                    note += f"; {sentry_note}" if sentry_note else ""
                    findings += [finding] if finding else []
                return Outcome.of(findings, note)
            problem = mine[0].get("problem") or "the destination did not take it"
            findings.append(Finding(f"the alert for a provoked error was not delivered: {problem}"))
            return Outcome.of(findings)
        time.sleep(0.5)
    findings.append(
        Finding(f"no alert was sent within {ALERT_WAIT_SECONDS:.0f} s of an unhandled error")
    )
    return Outcome.of(findings)


def _sentry_dsn(ctx: CheckContext) -> str:
    if ctx.project is None:
        return (ctx.environ.get(SENTRY_DSN) or "").strip()
    return setting(ctx, SENTRY_DSN)[0]


def _sentry_event_arrived(
    live: Any, admin: Any, rid: str, started: float
) -> tuple[str, Finding | None]:
    """With a DSN, the provoked error's event must have been accepted by the monitoring
    endpoint: the app notes the endpoint's answer for each event (GET /dev/sentry)."""
    from wizard.checklist.live import json_of

    while time.monotonic() - started < ALERT_WAIT_SECONDS:
        answer = live.api.call("GET", "/dev/sentry", admin)
        if answer.status_code == 404:
            return "", Finding(
                "the API does not say whether its error monitor took events (no GET "
                "/dev/sentry): run `shipyard update`"
            )
        sent = json_of(answer)
        mine = [
            entry
            for entry in (sent if isinstance(sent, list) else [])
            if isinstance(entry, dict) and rid in (entry.get("request_ids") or [])
        ]
        if mine:
            status = mine[0].get("status")
            if mine[0].get("accepted"):
                seconds = time.monotonic() - started
                return (
                    f"its {SENTRY_DSN} endpoint accepted the event (HTTP {status}) in {seconds:.1f} s",
                    None,
                )
            return "", Finding(
                f"the error monitor ({SENTRY_DSN}) refused the provoked error's event "
                f"(HTTP {status}): check the DSN in .env"
            )
        time.sleep(0.5)
    return "", Finding(
        f"{SENTRY_DSN} is set, but no event for the provoked error reached it within "
        f"{ALERT_WAIT_SECONDS:.0f} s (`shipyard logs api` shows what the SDK said)"
    )


@check("live.metrics_private")
def metrics_private(ctx: CheckContext) -> Outcome:
    """GET /metrics is refused to anonymous callers and to signed-in users who are not admins."""
    from wizard.checklist.live import Api, session

    api = Api(ctx.need_url(), ctx.timeout, ctx.url_given)
    try:
        anonymous = api.call("GET", "/metrics")
    finally:
        api.close()
    findings = []
    if anonymous.status_code == 200:
        findings.append(
            Finding(
                "GET /metrics answers without signing in: anyone can read the app's metrics",
                actor="anonymous",
                expected="401, 403 or 404",
                actual="200",
            )
        )
    note = f"GET /metrics answered {anonymous.status_code} to an anonymous caller"
    try:
        other = session(ctx).persona("other")
    except Skip:
        return Outcome.of(findings, note)
    signed_in = session(ctx).api.call("GET", "/metrics", other)
    if signed_in.status_code == 200:
        findings.append(
            Finding(
                "GET /metrics answers any signed-in user, not only admins",
                actor="other",
                expected="403 or 404",
                actual="200",
            )
        )
    return Outcome.of(findings, f"{note}, {signed_in.status_code} to a signed-in user")
