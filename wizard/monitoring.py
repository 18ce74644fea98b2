"""Alerts and metrics of a project's backend: where alerts go, a test alert, the last hour.

The backend does the work (apprise, prometheus_client); Shipyard only writes ALERT_URL into
the git-ignored .env, asks the running app to send a test through its own settings
(`python -m app alert-test --json`), and reads GET /metrics with the project's METRICS_TOKEN.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from wizard import envfile
from wizard.checklist.monitoring import ALERT_URL, alert_url_problem
from wizard.errors import BadInput, ShipyardError

METRICS_TOKEN = "METRICS_TOKEN"
HISTORY_FILE = "metrics-history.json"
HOUR = 3600.0
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?P<labels>.*)\})?\s+(?P<value>\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def set_alert_url(project: Path, url: str, production: bool = False) -> Path:
    """Store the destination as ALERT_URL in project/.env, or in `shipyard deploy`'s production
    settings (.shipyard/production.env); refuses what apprise cannot read."""
    url = url.strip()
    problem = alert_url_problem(url)
    if problem:
        raise BadInput(
            f"That alert destination {problem}.",
            hint="For example: mailto://you:app-password@gmail.com, slack://TokenA/TokenB/TokenC, "
            "discord://WebhookID/Token, tgram://BotToken/ChatID or json://host:port/path "
            "(see https://github.com/caronc/apprise/wiki).",
        )
    if production:
        from wizard.checklist.monitoring import production_env
        from wizard.staging import state_dir

        state_dir(project)  # made, and git-ignored, when it is not there yet
        return envfile.set_value(project, ALERT_URL, url, production_env(project)[0])
    return envfile.set_value(project, ALERT_URL, url)


# --- asking the running app -------------------------------------------------------------------


def app_command(project: Path, args: list[str], timeout: float = 60) -> tuple[int, str]:
    """`python -m app ARGS` with the staging's settings: in the running Docker API container,
    else with the project's .venv and .env (local staging). Returns (exit code, stdout)."""
    from wizard.staging import default_target

    if default_target(project) == "docker":
        from wizard.staging import engine, services
        from wizard.staging.plan import load_plan

        plan = load_plan(project)
        container = services.find_container(engine.connect(), plan, "api")
        if container is None or container.status != "running":
            raise ShipyardError(
                "Staging is not running, so there is no app to send the alert.",
                hint="Start it with `shipyard up`, then try again.",
            )
        with engine.translate("run a command in the API container"):
            result = container.exec_run(["python", "-m", "app", *args], demux=True)
        out = (result.output[0] or b"").decode("utf-8", "replace") if result.output else ""
        return int(result.exit_code or 0), out
    from wizard.staging import local

    python = local.venv_python(project)
    if not python.exists():
        raise ShipyardError(
            "The project has no .venv yet, so there is no app to send the alert.",
            hint="Start staging once with `shipyard up --target local`, then try again.",
        )
    env = {**local._environment(project)}
    try:
        done = subprocess.run(
            [str(python), "-m", "app", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ShipyardError(
            f"`python -m app {' '.join(args)}` did not finish in {timeout:.0f} s."
        ) from None
    return done.returncode, done.stdout


def alert_test(project: Path) -> dict[str, object]:
    """Send a test alert through the app's own settings: {delivered, problem, destination}."""
    code, out = app_command(project, ["alert-test", "--json"])
    for line in reversed(out.strip().splitlines()):
        try:
            outcome = json.loads(line)
        except ValueError:
            continue
        if isinstance(outcome, dict) and "delivered" in outcome:
            return outcome
    raise ShipyardError(
        f"The app could not send a test alert (exit code {code}).",
        hint="It may predate alerts: apply the blueprint with `shipyard update`, then "
        "`shipyard up` and try again. `shipyard logs api` shows what the app said.",
    )


# --- the last hour, from the metrics ----------------------------------------------------------


@dataclass
class LastHour:
    """What `shipyard status` shows; `since` is when the counted window starts."""

    since: float
    requests: int
    errors_5xx: int
    p95_seconds: float | None
    latest_error: str | None
    latest_error_at: float | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def scrape(api_url: str, token: str, timeout: float = 5.0) -> str:
    answer = httpx.get(
        f"{api_url.rstrip('/')}/metrics",
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
    )
    if answer.status_code in (401, 403):
        raise ShipyardError(
            "The API refused METRICS_TOKEN from .env.",
            hint="Restart staging with `shipyard up` so that it reads the .env you have now.",
        )
    if answer.status_code != 200:
        raise ShipyardError(f"GET /metrics answered {answer.status_code}.")
    return answer.text


def parse(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Prometheus text exposition: (name, labels, value) per sample."""
    samples = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if not match or line.startswith("#"):
            continue
        labels = dict(_LABEL.findall(match["labels"] or ""))
        try:
            samples.append((match["name"], labels, float(match["value"])))
        except ValueError:
            continue
    return samples


def _totals(samples: list[tuple[str, dict[str, str], float]]) -> dict[str, float]:
    """Counters added over routes (this scrape's own route left out): the numbers to subtract."""
    totals: dict[str, float] = {"requests": 0.0, "5xx": 0.0}
    for name, labels, value in samples:
        if labels.get("route") == "/metrics":
            continue
        if name == "http_requests_total":
            totals["requests"] += value
            if labels.get("status", "").startswith("5"):
                totals["5xx"] += value
        elif name == "http_request_duration_seconds_bucket":
            key = f"le:{labels.get('le')}"
            totals[key] = totals.get(key, 0.0) + value
    return totals


def _p95(buckets: dict[str, float]) -> float | None:
    """The 95th percentile from cumulative histogram buckets, interpolated like Prometheus."""
    bounds = sorted(
        (math.inf if key[3:] == "+Inf" else float(key[3:]), count) for key, count in buckets.items()
    )
    if not bounds or bounds[-1][1] <= 0:
        return None
    rank = 0.95 * bounds[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in bounds:
        if count >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * ((rank - below) / (count - below or 1))
        lower, below = bound, count
    return lower


def last_hour(project: Path, api_url: str, now: float | None = None) -> LastHour:
    """Requests, 5xx answers, p95 latency and the latest error of the last hour.

    Counters count since the server started; each call keeps a sample in the project's
    .shipyard/ folder, and the window starts at the latest sample an hour old or older (or at
    the server's start, or the oldest sample, when that is later).
    """
    from wizard.staging import state_dir

    now = time.time() if now is None else now
    token = envfile.read_env(project).get(METRICS_TOKEN, "")
    if not token:
        raise ShipyardError(
            "There is no METRICS_TOKEN in .env, so Shipyard cannot read the metrics.",
            hint="Run `shipyard up` once (it adds one), then try again.",
        )
    samples = parse(scrape(api_url, token))
    totals = _totals(samples)
    started = max((v for n, _, v in samples if n == "app_start_time_seconds"), default=0.0)
    history_path = state_dir(project) / HISTORY_FILE
    try:
        history = json.loads(history_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        history = []
    history = [h for h in history if isinstance(h, dict) and h.get("started") == started]
    base: dict[str, float] = {}
    since = started or now
    older = [h for h in history if h["at"] <= now - HOUR]
    if started < now - HOUR and (older or history):
        chosen = older[-1] if older else history[0]
        base, since = chosen["totals"], chosen["at"]
    history = [h for h in history if h["at"] > now - 2 * HOUR] + [
        {"at": now, "started": started, "totals": totals}
    ]
    history_path.write_text(json.dumps(history[-200:]), encoding="utf-8")
    delta = {key: value - base.get(key, 0.0) for key, value in totals.items()}
    latest = max(
        ((v, labels) for n, labels, v in samples if n.startswith("http_last_unhandled_error")),
        key=lambda pair: pair[0],
        default=None,
    )
    error, error_at = None, None
    if latest is not None and latest[0] >= now - HOUR:
        error_at = latest[0]
        error = f"{latest[1].get('error', 'error')} on {latest[1].get('route', '?')}"
    return LastHour(
        since=since,
        requests=round(delta["requests"]),
        errors_5xx=round(delta["5xx"]),
        p95_seconds=_p95({k: v for k, v in delta.items() if k.startswith("le:")}),
        latest_error=error,
        latest_error_at=error_at,
    )
