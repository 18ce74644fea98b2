"""Monitoring and alerts: the checklist step, its static checks and the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from wizard.checklist import load_checklist
from wizard.checklist.context import CheckContext, registered
from wizard.checklist.runner import build_context, run_checklist

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
    assert [item.id for item in step.items] == ["alert-destination", "error-monitoring"]
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
