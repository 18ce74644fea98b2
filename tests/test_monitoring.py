"""Monitoring and alerts: the checklist step, its static checks and the report."""

from __future__ import annotations

import gzip
import json
import os
import re
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wizard import envfile, monitoring
from wizard.checklist import load_checklist
from wizard.checklist.context import CheckContext, registered
from wizard.checklist.runner import build_context, run_checklist
from wizard.cli import app
from wizard.errors import ExitCode

SPEC = """
app: {name: notes, title: Notes}
login: {methods: [email_password]}
objects:
  Note:
    owner: creator
    fields:
      title: {type: string, required: true, max_length: 80}
    permissions: {read: owner, create: signed_in, update: owner, delete: owner}
"""


# The settings in .env whose values must never appear in an alert or an error event.
SECRET_KEYS = {"SECRET_KEY", "POSTGRES_PASSWORD", "POSTGRES_API_PASSWORD", "METRICS_TOKEN"}


def project_with(tmp_path: Path, env: str) -> Path:
    (tmp_path / ".env").write_text("ENVIRONMENT=production\n" + env)
    (tmp_path / "shipyard.yaml").write_text(SPEC)
    return tmp_path


def run(check_id: str, project: Path, environ: dict[str, str] | None = None):
    ctx = CheckContext(project=project, environ=environ or {})
    return registered()[check_id](ctx)


def test_the_checklist_has_a_monitoring_step_with_both_items():
    step = load_checklist().step("monitoring")
    assert step.title == "Monitoring and alerts"
    assert [item.id for item in step.items] == [
        "alert-destination",
        "metrics-private",
        "error-monitoring",
    ]
    assert "ALERT_URL" in step.item("alert-destination").why
    assert "shipyard alert set" in step.item("alert-destination").fix


def test_no_alert_destination_is_a_warning_naming_env(tmp_path):
    [finding] = run("project.alert_destination", project_with(tmp_path, "")).findings
    assert "no ALERT_URL" in finding.message and finding.path == ".env"


@pytest.mark.parametrize(
    "url", ["json://127.0.0.1:9/hook", "mailto://me:pw@gmail.com", "slack://a/b/c"]
)
def test_an_apprise_url_passes_and_is_not_repeated(tmp_path, url):
    outcome = run("project.alert_destination", project_with(tmp_path, f"ALERT_URL={url}\n"))
    assert outcome.findings == []
    assert url.split("://")[1] not in outcome.note  # it holds a secret
    assert url.split("://")[0] in outcome.note


def test_a_malformed_alert_url_is_named_without_its_value(tmp_path):
    env = "ALERT_URL=hooks.slack.com/services/T000/B000/sekrit\n"
    [finding] = run("project.alert_destination", project_with(tmp_path, env)).findings
    assert "not an apprise URL" in finding.message and "sekrit" not in finding.message


def test_the_environment_counts_as_a_destination(tmp_path):
    project = project_with(tmp_path, "")
    outcome = run("project.alert_destination", project, {"ALERT_URL": "tgram://bot/chat"})
    assert outcome.findings == [] and "the environment" in outcome.note


def test_error_monitoring_is_optional_but_a_set_dsn_must_be_one(tmp_path):
    assert run("project.error_monitoring", project_with(tmp_path, "")).findings == []
    good = project_with(tmp_path, "SENTRY_DSN=https://abc@o1.ingest.sentry.io/42\n")
    assert "o1.ingest.sentry.io" in run("project.error_monitoring", good).note
    bad = project_with(tmp_path, "SENTRY_DSN=not-a-dsn\n")
    [finding] = run("project.error_monitoring", bad).findings
    assert "not a DSN" in finding.message


def test_shipyard_check_reports_the_monitoring_items(tmp_path):
    project = project_with(tmp_path, "")
    report = run_checklist(build_context(project=project, live=False, environ={}))
    by_id = {item.id: item for item in report.items}
    assert by_id["alert-destination"].status == "warn"
    assert by_id["alert-destination"].step_title == "Monitoring and alerts"
    assert by_id["error-monitoring"].status == "pass"


# --- shipyard alert set ---------------------------------------------------------------------


def local_project(tmp_path: Path) -> Path:
    (tmp_path / ".env").write_text("ENVIRONMENT=development\nALERT_URL=\nSECRET_KEY=kept\n")
    os.chmod(tmp_path / ".env", 0o644)
    (tmp_path / "shipyard.yaml").write_text(SPEC + "staging: {target: local}\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'notes'\n")
    (tmp_path / "app").mkdir()
    return tmp_path


def test_alert_set_stores_the_url_in_env_only(tmp_path):
    project = local_project(tmp_path)
    url = "json://127.0.0.1:9/hook?token=sekrit"
    result = CliRunner().invoke(app, ["alert", "set", url, "-C", str(project)])
    assert result.exit_code == 0, result.output
    assert envfile.read_env(project) == {
        "ENVIRONMENT": "development",
        "ALERT_URL": url,
        "SECRET_KEY": "kept",
    }
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600
    assert "sekrit" not in result.stderr and "shipyard alert test" in result.stderr
    again = CliRunner().invoke(
        app, ["alert", "set", "mailto://a:b@example.com", "-C", str(project)]
    )
    assert again.exit_code == 0
    assert (project / ".env").read_text().count("ALERT_URL=") == 1


def test_alert_set_refuses_what_apprise_cannot_read(tmp_path):
    project = local_project(tmp_path)
    result = CliRunner().invoke(
        app, ["alert", "set", "hooks.slack.com/services/sekrit", "-C", str(project)]
    )
    assert result.exit_code == int(ExitCode.BAD_INPUT)
    assert "not an apprise URL" in result.stderr and "sekrit" not in result.stderr
    assert envfile.read_env(project)["ALERT_URL"] == ""


def test_p95_is_interpolated_from_the_buckets_like_prometheus():
    text = (
        'http_request_duration_seconds_bucket{le="0.1",method="GET",route="/a"} 90\n'
        'http_request_duration_seconds_bucket{le="0.5",method="GET",route="/a"} 100\n'
        'http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/a"} 100\n'
        'http_requests_total{method="GET",route="/a",status="200"} 97\n'
        'http_requests_total{method="GET",route="/a",status="503"} 3\n'
        'http_requests_total{method="GET",route="/metrics",status="200"} 7\n'
    )
    totals = monitoring._totals(monitoring.parse(text))
    assert (totals["requests"], totals["5xx"]) == (100, 3)
    p95 = monitoring._p95({k: v for k, v in totals.items() if k.startswith("le:")})
    assert p95 == pytest.approx(0.3)


# --- on a running staging: alert set, alert test, the launch check, status -----------------


class Webhook:
    """A local HTTP receiver for apprise's json:// alerts (one JSON body per alert)."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        received = self.messages

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SentryIngest:
    """A local endpoint speaking Sentry's envelope protocol: POST /api/PROJECT/envelope/,
    gzip- or brotli-compressed, a header line then (item header, payload) line pairs."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        bodies, paths = self.bodies, self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    raw = gzip.decompress(raw)
                elif encoding == "br":
                    import brotli

                    raw = brotli.decompress(raw)
                paths.append(self.path)
                bodies.append(raw)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.dsn = f"http://publickey@{host}:{self.server.server_address[1]}/7"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        found = []
        for body in self.bodies:
            lines = body.split(b"\n")
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                if json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow
def test_alerts_reach_a_webhook_from_a_running_staging(tmp_path, monkeypatch):
    """A spec nobody wrote by hand, on local staging: alert set, alert test, the launch
    check's provoked error (within 10 s, with its request id), and status from the metrics."""
    from random_specs import random_spec
    from test_check_live import new_project

    from wizard.checklist.model import Checklist
    from wizard.staging import local

    text, _ = random_spec(105)
    project = new_project(text, tmp_path / "app")
    webhook = Webhook()
    ingest = SentryIngest()
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["alert", "set", webhook.url, "-C", str(project)]).exit_code == 0
        envfile.set_value(project, "SENTRY_DSN", ingest.dsn)
        local.up(project)
        tested = runner.invoke(app, ["alert", "test", "-C", str(project)])
        assert tested.exit_code == 0, tested.output
        assert "test alert" in webhook.messages[-1]["title"]

        monitoring_step = Checklist(version=1, steps=[load_checklist().step("monitoring")])
        report = run_checklist(build_context(project=project), monitoring_step)
        by_id = {item.id: item for item in report.items}
        assert by_id["alert-destination"].status == "pass", by_id["alert-destination"]
        [live] = [c for c in by_id["alert-destination"].checks if c.id == "live.alert_delivered"]
        assert live.status == "pass", live
        assert by_id["metrics-private"].status == "pass", by_id["metrics-private"]
        seconds = float(re.search(r"in ([\d.]+) s", live.note)[1])
        assert seconds < 10
        [alert] = [m for m in webhook.messages if "DeliberateError" in m["title"]]
        rid = re.search(r"shipyard-check-[0-9a-f]{12}", alert["message"])[0]
        # With a DSN the item passes only once the error monitor's endpoint took the event.
        assert "SENTRY_DSN endpoint accepted the event (HTTP 200)" in live.note, live.note
        [event] = [e for e in ingest.events() if e.get("tags", {}).get("request_id") == rid]
        assert event["exception"]["values"][-1]["type"] == "DeliberateError"
        assert all(path == "/api/7/envelope/" for path in ingest.paths), ingest.paths
        secrets = [v for k, v in envfile.read_env(project).items() if k in SECRET_KEYS and v]
        for raw in ingest.bodies:
            assert not any(secret.encode() in raw for secret in secrets)
        for message in webhook.messages:
            assert not any(secret in json.dumps(message) for secret in secrets)

        status = runner.invoke(app, ["status", "-C", str(project), "--json"])
        assert status.exit_code == 0, status.output
        hour = json.loads(status.stdout)["last_hour"]
        assert hour["requests"] >= 3 and hour["errors_5xx"] >= 1, hour
        assert hour["latest_error"] == "DeliberateError on /dev/error"
        assert hour["p95_seconds"] is not None
        text_status = runner.invoke(app, ["status", "-C", str(project)])
        assert "Latest error: DeliberateError on /dev/error" in text_status.stdout
    finally:
        local.down(project)
        webhook.close()
        ingest.close()


def test_production_is_judged_by_the_deploy_settings_once_there_are_some(tmp_path):
    project = local_project(tmp_path)
    envfile.set_value(project, "ALERT_URL", "json://127.0.0.1:9/staging-hook")
    assert run("project.alert_destination", project).findings == []
    (project / ".shipyard").mkdir()
    (project / ".shipyard" / "production.env").write_text("SECRET_KEY=x\n")
    [finding] = run("project.alert_destination", project).findings
    assert "no ALERT_URL is set in .shipyard/production.env" in finding.message
    result = CliRunner().invoke(
        app, ["alert", "set", "--production", "slack://a/b/c", "-C", str(project)]
    )
    assert result.exit_code == 0, result.output
    production = (project / ".shipyard" / "production.env").read_text()
    assert production == "SECRET_KEY=x\nALERT_URL=slack://a/b/c\n"
    outcome = run("project.alert_destination", project)
    assert outcome.findings == [] and "slack://" in outcome.note
    assert envfile.read_env(project)["ALERT_URL"] == "json://127.0.0.1:9/staging-hook"
