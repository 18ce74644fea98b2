"""Alerts to the founder through apprise (ALERT_URL): grouped, rate-limited, never in the way.

A request only records that something happened (a lock, a dict update); a background thread
sends. The first of a kind of trouble is sent `alert_delay_seconds` after it started, with
how often it happened by then; the same trouble is then quiet for the rest of
`alert_window_seconds` and sent once more with the count if it went on. So 50 identical
errors in a minute are one alert that says 50.
"""

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.core.config import settings
from app.core.scrub import scrub_text

logger = logging.getLogger("app")


@dataclass
class Group:
    """One kind of trouble within its window."""

    key: str
    title: str
    body: str
    send_at: float
    window_end: float
    request_ids: list[str] = field(default_factory=list)
    count: int = 0
    sent: bool = False
    unsent: int = 0  # counted after the first alert went out


@dataclass
class Alert:
    title: str
    body: str
    request_ids: list[str]
    count: int


class Alerter:
    """Collects trouble from any thread or event loop; one daemon thread delivers it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._groups: dict[str, Group] = {}
        self._now: list[Alert] = []
        self._thread: threading.Thread | None = None

    def report(self, key: str, title: str, body: str, request_id: str) -> None:
        """Record one occurrence; returns at once."""
        now = time.monotonic()
        with self._lock:
            group = self._groups.get(key)
            if group is None or now >= group.window_end:
                group = Group(
                    key,
                    scrub_text(title),
                    scrub_text(body),
                    send_at=now + settings.alert_delay_seconds,
                    window_end=now + max(settings.alert_window_seconds, settings.alert_delay_seconds),
                )
                self._groups[key] = group
            group.count += 1
            if group.sent:
                group.unsent += 1
            if len(group.request_ids) < 3:
                group.request_ids.append(request_id)
            else:
                group.request_ids[-1] = request_id  # the first two and the latest
            self._start()
        self._wake.set()

    def send_in_background(self, title: str, body: str, request_id: str = "-") -> None:
        """One alert of its own, not grouped (the /ready watcher's "not ready", "recovered")."""
        with self._lock:
            self._now.append(Alert(scrub_text(title), scrub_text(body), [request_id], 1))
            self._start()
        self._wake.set()

    def send_now(self, title: str, body: str, request_id: str) -> str:
        """Deliver one alert synchronously (`python -m app alert-test`); why not, or ""."""
        return deliver(Alert(scrub_text(title), scrub_text(body), [request_id], 1))

    def forget(self) -> None:
        """Drop what has not been sent yet (tests start each from nothing)."""
        with self._lock:
            self._groups.clear()
            self._now.clear()

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            due, wait = self._due()
            for alert in due:
                try:
                    deliver(alert)
                except Exception:  # a broken destination must never stop the thread
                    logger.exception("sending an alert failed")
            self._wake.wait(wait)
            self._wake.clear()

    def _due(self) -> tuple[list[Alert], float]:
        now = time.monotonic()
        wait = 60.0
        with self._lock:
            due, self._now = self._now, []
            for key, group in list(self._groups.items()):
                if not group.sent and now >= group.send_at:
                    group.sent = True
                    due.append(self._alert(group, group.count, first=True))
                if group.sent and now >= group.window_end:
                    if group.unsent:
                        due.append(self._alert(group, group.unsent, first=False))
                    del self._groups[key]
                    continue
                wait = min(wait, (group.window_end if group.sent else group.send_at) - now)
        return due, max(wait, 0.01)

    @staticmethod
    def _alert(group: Group, count: int, first: bool) -> Alert:
        window = round(settings.alert_window_seconds)
        times = "once" if count == 1 else f"{count} times"
        when = "so far" if first else f"more in the last {window} s"
        ids = list(dict.fromkeys(group.request_ids))
        body = f"{group.body}\n\nHappened {times} {when}.\nRequest id: {', '.join(ids)}"
        return Alert(group.title, body, ids, count)


def deliver(alert: Alert) -> str:
    """Send through apprise to ALERT_URL; logs (and records) whether the destination took it.

    Returns why it was not delivered, or "" when the destination accepted it."""
    url = settings.alert_url.strip()
    delivered = False
    problem = ""
    if not url:
        problem = "ALERT_URL is not set"
    else:
        import apprise  # imported here: only the alerts thread pays for loading its plugins

        destination = apprise.Apprise()
        if not destination.add(url):
            problem = "ALERT_URL is not an apprise URL"
        else:
            delivered = bool(destination.notify(title=alert.title, body=alert.body))
            problem = "" if delivered else "the destination refused the alert or did not answer"
    fields = {"alert": alert.title, "count": alert.count, "delivered": delivered}
    if problem:
        fields["problem"] = problem
    logger.warning("alert", extra={"fields": {**fields, "alert_request_ids": alert.request_ids}})
    _record({**fields, "request_ids": alert.request_ids, "at": time.time()})
    return problem


def state_dir() -> Path:
    """Shared by the workers of one server: the alerts log and the /ready watcher's lock."""
    path = Path(settings.monitoring_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _record(entry: dict[str, object]) -> None:
    """Append to alerts.jsonl (one short line per write, so workers never interleave)."""
    try:
        line = (json.dumps(entry, default=str) + "\n").encode()
        path = state_dir() / "alerts.jsonl"
        if path.is_file() and path.stat().st_size > 256_000:
            path.replace(path.with_suffix(".old"))  # keep it small: only recent alerts matter
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:
        logger.exception("could not record an alert")


def recent(limit: int = 50) -> list[dict[str, object]]:
    """The latest alerts any worker sent, newest first."""
    try:
        lines = (state_dir() / "alerts.jsonl").read_text().splitlines()[-limit:]
    except OSError:
        return []
    return [json.loads(line) for line in reversed(lines) if line.strip()]


alerter = Alerter()
