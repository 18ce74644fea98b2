"""Monitoring: metrics and alerts for every request, Sentry when SENTRY_DSN is set, the /ready watcher.

`setup_monitoring(app)` is all app/main.py calls. The middleware sits inside
RequestIdMiddleware, so the request id is known to every log line, metric, alert and event.
"""

import asyncio
import fcntl
import logging
import time
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.alerts import alerter, state_dir
from app.core.config import settings
from app.core.db import engine
from app.core.logging import request_id

logger = logging.getLogger("app")
UNHANDLED_DETAIL = "Something went wrong on our side. It has been reported; please try again later."
# Probes that answer 503 on purpose while the database is away: the watcher reports that.
_NOT_COUNTED_FOR_BURSTS = {"/ready", "/health"}


def route_of(scope: Scope) -> str:
    """The route's template (/api/notes/{id}), never the raw path: one series per route."""
    route = scope.get("route")
    return str(getattr(route, "path", "")) or "unmatched"


class MonitoringMiddleware:
    """Counts and times every answer; an unhandled error becomes a 500, a log line and an alert."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        answered = answered_by_us = False
        if settings.sentry_dsn:
            import sentry_sdk

            sentry_sdk.get_isolation_scope().set_tag("request_id", request_id.get())

        async def watch(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            status, answered_by_us = 500, True
            self.unhandled(scope, exc)
            if answered:
                raise  # the answer had begun: only the server can end it now
            await self.answer_500(send)
        finally:
            route = route_of(scope)
            metrics.observe(scope["method"], route, status, time.perf_counter() - started)
            _pool_gauge()
        # An unhandled error has its own alert; a burst is of 5xx answers the routes gave.
        if status >= 500 and not answered_by_us and route_of(scope) not in _NOT_COUNTED_FOR_BURSTS:
            self.count_5xx(scope)

    def unhandled(self, scope: Scope, exc: Exception) -> None:
        rid = request_id.get()
        route, kind = route_of(scope), type(exc).__name__
        metrics.error(route, kind)
        logger.error(
            "unhandled error",
            exc_info=exc,
            extra={"fields": {"method": scope["method"], "route": route, "error": kind}},
        )
        capture_in_sentry(exc, rid)
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f"{frame.filename.rsplit('/app/', 1)[-1]}:{frame.lineno}" if frame else "?"
        message = str(exc).splitlines()[0][:300] if str(exc) else ""
        alerter.report(
            key=f"error:{kind}:{route}:{where}:{message}",
            title=f"{settings.app_name} ({settings.environment}): {kind} on {scope['method']} {route}",
            body=f"{kind}: {message}\nAt: {where}",
            request_id=rid,
        )

    def count_5xx(self, scope: Scope) -> None:
        """Every 5xx answer counts toward one shared group; it is an alert from
        `alert_5xx_burst` answers in the window on, whichever workers gave them."""
        alerter.report(
            key="5xx-burst",
            title=f"{settings.app_name} ({settings.environment}): many requests are failing",
            body=(
                f"At least {settings.alert_5xx_burst} answers with status 500 or above within "
                f"{round(settings.alert_window_seconds)} s (the first: {scope['method']} "
                f"{route_of(scope)})."
            ),
            request_id=request_id.get(),
            min_count=settings.alert_5xx_burst,
        )

    @staticmethod
    async def answer_500(send: Send) -> None:
        import json

        body = json.dumps({"detail": UNHANDLED_DETAIL}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _pool_gauge() -> None:
    pool: Any = engine.pool
    try:
        checked_out = int(pool.checkedout())
        metrics.pool(checked_out, checked_out + int(pool.checkedin()))
    except (AttributeError, TypeError):  # pools without counts (SQLite's static pool)
        pass


# --- Sentry ---------------------------------------------------------------------------------


def start_sentry() -> None:
    """Error monitoring when SENTRY_DSN is set: sampled traces, nothing secret in any event."""
    if not settings.sentry_dsn:
        return
    import sentry_sdk

    from app.core.scrub import scrub

    def before_send(event: Any, hint: Any) -> Any:
        return scrub(event)

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        before_send=before_send,
        before_send_transaction=before_send,
        before_breadcrumb=lambda crumb, hint: scrub(crumb),
        transport=recording_transport(),
    )


def recording_transport() -> Any:
    """Sentry's own HTTP transport, which also notes the request ids of the error events the
    ingest endpoint accepted (sentry.jsonl, GET /dev/sentry): the launch check's proof that
    an event arrived. An SDK without the hook sends all the same, and notes nothing."""
    from sentry_sdk.transport import HttpTransport

    if not hasattr(HttpTransport, "_handle_response"):
        return HttpTransport

    class RecordingTransport(HttpTransport):
        def _handle_response(self, response: Any, envelope: Any) -> None:
            super()._handle_response(response=response, envelope=envelope)
            ids = []
            for item in getattr(envelope, "items", None) or []:
                event = item.get_event() if item.type == "event" else None
                rid = ((event or {}).get("tags") or {}).get("request_id")
                if rid:
                    ids.append(str(rid))
            if ids:
                record_sentry(ids, int(response.status))

    return RecordingTransport


def record_sentry(request_ids: list[str], status: int) -> None:
    """Append the ingest endpoint's answer for these requests' events to sentry.jsonl."""
    import json

    entry = {"request_ids": request_ids, "status": status, "accepted": 200 <= status < 300}
    try:
        with open(state_dir() / "sentry.jsonl", "a") as log:
            log.write(json.dumps({**entry, "at": time.time()}) + "\n")
    except OSError:
        logger.exception("could not record a Sentry delivery")


def recent_sentry(limit: int = 50) -> list[dict[str, Any]]:
    """The latest events the ingest endpoint answered, newest first."""
    import json

    try:
        lines = (state_dir() / "sentry.jsonl").read_text().splitlines()[-limit:]
    except OSError:
        return []
    return [json.loads(line) for line in reversed(lines) if line.strip()]


def capture_in_sentry(exc: Exception, rid: str) -> None:
    if not settings.sentry_dsn:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        scope.set_tag("request_id", rid)  # also set per request; here for errors outside one
        sentry_sdk.capture_exception(exc)


# --- the /ready watcher -----------------------------------------------------------------------


async def database_answers() -> bool:
    try:
        async with asyncio.timeout(max(1.0, min(5.0, settings.ready_watch_seconds))):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def watch_ready() -> None:
    """One worker at a time (a file lock) asks /ready's question; alerts on a minute of "no"
    and again on recovery."""
    lock = open(state_dir() / "ready-watcher.lock", "w")  # noqa: SIM115 - held for the process
    failing_since: float | None = None
    alerted = False
    try:
        while True:
            await asyncio.sleep(settings.ready_watch_seconds)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # another worker watches
            now = time.monotonic()
            if await database_answers():
                if alerted and failing_since is not None:
                    alerter.send_in_background(
                        f"{settings.app_name} ({settings.environment}): recovered",
                        f"The app is ready again: the database answered after "
                        f"{round(now - failing_since)} s.",
                        "ready-watcher",
                    )
                failing_since, alerted = None, False
                continue
            failing_since = failing_since or now
            if not alerted and now - failing_since >= settings.ready_alert_after_seconds:
                alerted = True
                alerter.send_in_background(
                    f"{settings.app_name} ({settings.environment}): not ready",
                    f"The database has not answered for {round(now - failing_since)} s, so "
                    "requests that need it fail. A recovery message follows when it is back.",
                    "ready-watcher",
                )
    finally:
        lock.close()


def watching_ready() -> bool:
    if settings.watch_ready is not None:
        return settings.watch_ready
    return settings.environment in ("staging", "production")


# --- wiring -------------------------------------------------------------------------------------


def setup_monitoring(app: FastAPI) -> None:
    """Sentry, the middleware, and the watcher for the app's lifetime."""
    start_sentry()
    app.add_middleware(MonitoringMiddleware)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        watcher = asyncio.create_task(watch_ready()) if watching_ready() else None
        try:
            async with inner(app) as state:
                yield state
        finally:
            if watcher is not None:
                watcher.cancel()
            metrics.worker_stopped()

    app.router.lifespan_context = lifespan
