"""Alerts to the founder through apprise (ALERT_URL): grouped, rate-limited, never in the way.

A request only records that something happened (a lock, a dict update); a background thread
sends. The first of a kind of trouble is sent `alert_delay_seconds` after it started (later
while it is still happening: once it pauses for two seconds, at most six delays after it
began), with how often it happened by then; the same trouble is then quiet for the rest of
`alert_window_seconds` and sent once more with the count if it went on. So 50 identical
errors in a minute are one alert that says 50.

The groups are shared by every worker of the server: each worker's thread adds what its
requests saw to alert-groups.json in `monitoring_dir` under a file lock, and whichever
thread finds a group due sends it, once. Replicas on other machines share nothing but the
database, so each of them groups its own errors (see the README).
"""

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.config import settings
from app.core.scrub import scrub_text

logger = logging.getLogger("app")
GROUPS_FILE = "alert-groups.json"


@dataclass
class Seen:
    """What this worker's requests saw of one kind of trouble since its thread last looked."""

    title: str
    body: str
    min_count: int
    count: int = 0
    request_ids: list[str] = field(default_factory=list)


@dataclass
class Alert:
    title: str
    body: str
    request_ids: list[str]
    count: int


def _keep_ids(ids: list[str], more: list[str]) -> list[str]:
    """The first two request ids and the latest one."""
    merged = list(dict.fromkeys([*ids, *more]))
    return merged if len(merged) <= 3 else [*merged[:2], merged[-1]]


class Alerter:
    """Collects trouble from any thread or event loop; one daemon thread per worker delivers it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._seen: dict[str, Seen] = {}
        self._now: list[Alert] = []
        self._thread: threading.Thread | None = None

    def report(self, key: str, title: str, body: str, request_id: str, min_count: int = 1) -> None:
        """Record one occurrence; returns at once. With `min_count`, the trouble is only worth
        an alert once it happened that often within the window (a burst of 5xx answers)."""
        with self._lock:
            seen = self._seen.get(key)
            if seen is None:
                seen = self._seen[key] = Seen(scrub_text(title), scrub_text(body), min_count)
            seen.count += 1
            seen.request_ids = _keep_ids(seen.request_ids, [request_id])
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
            self._seen.clear()
            self._now.clear()
        with suppress(OSError):
            (state_dir() / GROUPS_FILE).unlink(missing_ok=True)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.clear()  # before taking the news: a report from now on wakes us again
            with self._lock:
                seen, self._seen = self._seen, {}
                due, self._now = self._now, []
            wait = 60.0
            try:
                grouped, wait = merge(seen, time.time())
                due += grouped
            except Exception:  # an unreadable state dir must never stop the thread
                logger.exception("grouping alerts failed")
            for alert in due:
                try:
                    deliver(alert)
                except Exception:  # a broken destination must never stop the thread
                    logger.exception("sending an alert failed")
            self._wake.wait(wait)


@contextmanager
def _shared_groups() -> Iterator[dict[str, dict[str, Any]]]:
    """The groups every worker shares, read and written back under an exclusive file lock."""
    folder = state_dir()
    path = folder / GROUPS_FILE
    with open(folder / "alert-groups.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                groups: dict[str, dict[str, Any]] = json.loads(path.read_text())
            except (OSError, ValueError):
                groups = {}
            yield groups
            temporary = path.with_name(f".{GROUPS_FILE}.{os.getpid()}")
            temporary.write_text(json.dumps(groups))
            os.replace(temporary, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def merge(seen: dict[str, Seen], now: float) -> tuple[list[Alert], float]:
    """Add this worker's news to the shared groups; returns the alerts now due (each is
    handed to exactly one worker) and how long until a group next needs a look."""
    due: list[Alert] = []
    wait = 60.0
    with _shared_groups() as groups:
        for key, news in seen.items():
            group = groups.get(key)
            if group is not None and now >= group["window_end"]:
                _flush(group, now, due)
                group = None
            if group is None:
                group = groups[key] = {
                    "title": news.title,
                    "body": news.body,
                    "min_count": news.min_count,
                    "send_at": now + settings.alert_delay_seconds,
                    "first_at": now,
                    "window_end": now
                    + max(settings.alert_window_seconds, settings.alert_delay_seconds),
                    "count": 0,
                    "unsent": 0,
                    "sent": False,
                    "request_ids": [],
                }
            group["count"] += news.count
            group["last_at"] = now
            if group["sent"]:
                group["unsent"] += news.count
            group["request_ids"] = _keep_ids(group["request_ids"], news.request_ids)
        for key, group in list(groups.items()):
            if not _flush(group, now, due):
                del groups[key]
                continue
            # A group still short of its min_count waits for news (which wakes us) or its end;
            # one still bursting waits for a quiet moment.
            if group["sent"]:
                later = group["window_end"]
            elif now < group["send_at"]:
                later = group["send_at"]
            elif group["count"] < group["min_count"]:
                later = group["window_end"]
            else:
                later = min(group.get("last_at", now) + _quiet(), _latest_send(group))
            wait = min(wait, later - now)
    return due, max(wait, 0.01)


def _quiet() -> float:
    """How long a burst must pause before its first alert goes (it is still counting)."""
    return min(2.0, settings.alert_delay_seconds)


def _latest_send(group: dict[str, Any]) -> float:
    """A burst that never pauses is sent all the same, six delays (30 s) after it began."""
    first = group.get("first_at", group["send_at"] - settings.alert_delay_seconds)
    return first + 6 * settings.alert_delay_seconds


def _flush(group: dict[str, Any], now: float, due: list[Alert]) -> bool:
    """Move what is due of one group into `due`; False once its window is over."""
    ending = now >= group["window_end"]
    bursting = (
        not ending and now - group.get("last_at", 0.0) < _quiet() and now < _latest_send(group)
    )
    if (
        not group["sent"]
        and now >= group["send_at"]
        and group["count"] >= group["min_count"]
        and not bursting
    ):
        group["sent"] = True
        due.append(_alert(group, group["count"], first=True))
    if ending:
        if group["sent"] and group["unsent"]:
            due.append(_alert(group, group["unsent"], first=False))
        return False
    return True


def _alert(group: dict[str, Any], count: int, first: bool) -> Alert:
    window = round(settings.alert_window_seconds)
    times = "once" if count == 1 else f"{count} times"
    when = "so far" if first else f"more in the last {window} s"
    ids = list(group["request_ids"])
    body = f"{group['body']}\n\nHappened {times} {when}.\nRequest id: {', '.join(ids)}"
    return Alert(group["title"], body, ids, count)


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
