"""The launch check without a running API: spec checks, project files, the runner and the reports."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wizard.checklist import load_checklist, parse_checklist
from wizard.checklist import report as reports
from wizard.checklist.context import CheckContext, registered
from wizard.checklist.files import dockerfile_problems, key_problem
from wizard.checklist.runner import build_context, run_checklist
from wizard.cli import app
from wizard.spec import parse_spec

SPEC = """
app: {name: notes, title: Notes}
login: {methods: [email_password]}
roles: [editor]
objects:
  Note:
    owner: creator
    fields:
      title: {type: string, required: true, max_length: 80}
      body: text
    permissions:
      read: owner | role:editor
      create: signed_in
      update: owner
      delete: owner
"""


def spec_with(**changes: str):
    text = SPEC
    for old, new in changes.items():
        text = text.replace(old.replace("_", " "), new)
    return parse_spec(text)


def outcome(check_id: str, ctx: CheckContext):
    return registered()[check_id](ctx)


def test_every_check_in_the_checklist_is_implemented():
    wanted = {c.id for _, _, c in load_checklist().checks()}
    assert wanted <= set(registered()), wanted - set(registered())


# --- the spec -----------------------------------------------------------------------------


def test_clean_spec_passes_the_rule_checks():
    ctx = CheckContext(spec=parse_spec(SPEC))
    for check_id in ("spec.ownership_defined", "spec.every_action_has_rule", "spec.public_writes"):
        assert outcome(check_id, ctx).findings == [], check_id


def test_missing_rule_and_owner_are_named():
    spec = parse_spec(SPEC.replace("    owner: creator\n", "").replace("      delete: owner\n", ""))
    ctx = CheckContext(spec=spec)
    [rule] = outcome("spec.every_action_has_rule", ctx).findings
    assert (rule.object, rule.action) == ("Note", "delete")
    [owner] = outcome("spec.ownership_defined", ctx).findings
    assert owner.object == "Note"


def test_explicit_nobody_is_not_flagged():
    spec = parse_spec(SPEC.replace("delete: owner", "delete: nobody"))
    assert outcome("spec.every_action_has_rule", CheckContext(spec=spec)).findings == []


@pytest.mark.parametrize("action", ["create", "update", "delete"])
def test_public_writes_are_flagged(action):
    spec = parse_spec(SPEC.replace(f"{action}: ", f"{action}: public | ", 1))
    [finding] = outcome("spec.public_writes", CheckContext(spec=spec)).findings
    assert (finding.object, finding.action) == ("Note", action)


def test_public_read_is_not_a_public_write():
    spec = parse_spec(SPEC.replace("read: owner | role:editor", "read: public"))
    assert outcome("spec.public_writes", CheckContext(spec=spec)).findings == []


def test_role_listed_but_unused_is_flagged():
    spec = parse_spec(SPEC.replace("roles: [editor]", "roles: [editor, coach]"))
    [finding] = outcome("spec.roles_used", CheckContext(spec=spec)).findings
    assert "coach" in finding.message


def test_text_without_limit_and_sms_are_warned():
    ctx = CheckContext(spec=parse_spec(SPEC))
    [finding] = outcome("spec.text_limits", ctx).findings
    assert "body" in finding.message
    sms = parse_spec(SPEC.replace("[email_password]", "[email_password, phone_otp]"))
    assert outcome("spec.sms_cost", CheckContext(spec=sms)).findings


# --- project files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, problem",
    [
        ("change-me", "placeholder"),
        ("", "empty"),
        ("development-only-secret-do-not-use-in-production", "placeholder"),
        ("abc123", "fewer than 32"),
        ("a" * 64, "repetitive"),
        ("0123456789abcdef" * 2, "fewer than 32"),  # 32 hex characters are only 16 bytes
    ],
)
def test_weak_signing_keys_are_refused(value, problem):
    assert problem in (key_problem(value) or "")


@pytest.mark.parametrize(
    "value",
    [
        "kX2v9Qm1Zb7Lr4Tt0YpWc8Ne3Hs6Ua5Jd1Fg2Ko7Bi9Vx4Ml",  # token_urlsafe(36)-like
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",  # 32 bytes hex
    ],
)
def test_strong_signing_keys_pass(value):
    assert key_problem(value) is None


DOCKERFILE = """
FROM python:3.12-slim AS build
RUN pip wheel .
FROM python:3.12-slim
COPY . .
USER 10001:10001
HEALTHCHECK --interval=10s \\
  CMD ["python", "-c", "print(1)"]
CMD ["uvicorn", "app.main:app"]
"""


def test_dockerfile_non_root_with_healthcheck_passes():
    assert dockerfile_problems(DOCKERFILE) == []


@pytest.mark.parametrize(
    "edit, kind",
    [
        (("USER 10001:10001", "USER root"), "user"),
        (("USER 10001:10001\n", ""), "user"),
        (
            (
                'HEALTHCHECK --interval=10s \\\n  CMD ["python", "-c", "print(1)"]',
                "HEALTHCHECK NONE",
            ),
            "healthcheck",
        ),
        (
            ('HEALTHCHECK --interval=10s \\\n  CMD ["python", "-c", "print(1)"]\n', ""),
            "healthcheck",
        ),
    ],
)
def test_dockerfile_problems(edit, kind):
    problems = dockerfile_problems(DOCKERFILE.replace(*edit))
    assert [p[0] for p in problems] == [kind]


def test_user_in_an_earlier_stage_does_not_count():
    text = "FROM a AS b\nUSER app\nFROM c\nHEALTHCHECK CMD true\n"
    assert [p[0] for p in dockerfile_problems(text)] == ["user"]


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small stand-in project: spec, .gitignore, .env, Dockerfile, one commit."""
    root = tmp_path / "notes"
    root.mkdir()
    (root / "shipyard.yaml").write_text(SPEC)
    (root / ".gitignore").write_text(".env\n.venv/\n")
    (root / ".env").write_text(
        "ENVIRONMENT=development\nSECRET_KEY=kX2v9Qm1Zb7Lr4Tt0YpWc8Ne3Hs6Ua5Jd1Fg2Ko7Bi9Vx4Ml\n"
        "CORS_ORIGINS=http://localhost:5173\n"
    )
    (root / "Dockerfile").write_text(DOCKERFILE)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def static_results(project: Path) -> dict[str, str]:
    ctx = build_context(project=project, live=False)
    report = run_checklist(ctx)
    return {c.id: c.status for item in report.items for c in item.checks}


def test_clean_stand_in_project_passes_the_file_checks(project):
    results = static_results(project)
    for check_id in (
        "project.env_ignored",
        "project.no_committed_secrets",
        "project.signing_key_strength",
        "project.cors_production",
        "project.dockerfile_non_root",
        "project.dockerfile_healthcheck",
    ):
        assert results[check_id] == "pass", check_id
    # No venv and nothing rendered here: the code checks say why they could not run.
    assert results["project.migrations_current"] == "skipped"


def test_env_in_history_is_found_even_after_removal(project):
    (project / ".gitignore").write_text(".venv/\n")
    git(project, "add", ".env", ".gitignore")
    git(project, "commit", "-q", "-m", "oops")
    git(project, "rm", "-q", "--cached", ".env")
    (project / ".gitignore").write_text(".env\n.venv/\n")
    git(project, "add", ".gitignore")
    git(project, "commit", "-q", "-m", "remove it again")
    ctx = build_context(project=project, live=False)
    found = outcome("project.no_committed_secrets", ctx).findings
    assert any(f.path == ".env" for f in found)
    assert outcome("project.env_ignored", ctx).findings == []


def test_signing_key_copied_into_a_committed_file_is_found(project):
    key = "kX2v9Qm1Zb7Lr4Tt0YpWc8Ne3Hs6Ua5Jd1Fg2Ko7Bi9Vx4Ml"
    (project / "settings.py").write_text(f'SECRET_KEY = "{key}"\n')
    git(project, "add", "settings.py")
    git(project, "commit", "-q", "-m", "hardcode")
    ctx = build_context(project=project, live=False)
    [finding] = outcome("project.no_committed_secrets", ctx).findings
    assert "SECRET_KEY" in finding.message


def test_cors_wildcard_in_env_or_compose_fails(project):
    env = (project / ".env").read_text().replace("http://localhost:5173", "*")
    (project / ".env").write_text(env)
    (project / "compose.yaml").write_text(
        "services:\n  api:\n    environment:\n      CORS_ORIGINS: '*'\n    user: root\n"
    )
    ctx = build_context(project=project, live=False)
    assert len(outcome("project.cors_production", ctx).findings) == 2
    assert outcome("project.dockerfile_non_root", ctx).findings


# --- runner and reports ---------------------------------------------------------------------


def test_acknowledged_warning_shows_as_acknowledged_and_fail_cannot_be(project):
    text = SPEC.replace("roles: [editor]", "roles: [editor, coach]")
    text += "acknowledged:\n  roles: coaches arrive next month\n  project.env_ignored: we know\n"
    (project / "shipyard.yaml").write_text(text)
    (project / ".gitignore").write_text(".venv/\n")
    report = run_checklist(build_context(project=project, live=False))
    items = {item.id: item for item in report.items}
    assert items["roles"].status == "acknowledged"
    assert items["roles"].checks[1].reason == "coaches arrive next month"
    assert items["env-secrets"].status == "fail"  # a failure is never waved through
    assert report.exit_code == 1


def test_unknown_check_is_skipped_with_a_reason():
    checklist = parse_checklist(
        "version: 1\nsteps:\n  - id: one\n    title: One\n    items:\n"
        "      - {id: later, title: Later, why: w, severity: fail, checks: [live.not_yet]}\n"
    )
    report = run_checklist(CheckContext(spec=parse_spec(SPEC)), checklist)
    [item] = report.items
    assert item.status == "skipped"
    assert "cannot run the live.not_yet check" in item.reason
    assert report.exit_code == 0


def test_a_broken_check_is_an_error_not_a_pass(monkeypatch):
    from wizard.checklist import context

    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(context.CHECKS, "spec.app_title", broken)
    report = run_checklist(CheckContext(spec=parse_spec(SPEC)))
    item = next(i for i in report.items if i.id == "app-title")
    assert item.status == "error"
    assert "boom" in item.reason
    assert report.exit_code == 2


def failing_report(project: Path):
    (project / ".gitignore").write_text(".venv/\n")
    (project / "shipyard.yaml").write_text(SPEC.replace("delete: owner", "delete: public"))
    return run_checklist(build_context(project=project, live=False))


def test_json_report_schema(project):
    data = json.loads(reports.to_json(failing_report(project)))
    assert data["schema"] == "shipyard.check/1"
    assert data["exit_code"] == 1
    assert set(data["summary"]) == {
        "fail",
        "error",
        "warn",
        "skipped",
        "acknowledged",
        "pass",
        "total",
    }
    assert {f["item"] for f in data["failing"]} == {"env-secrets"}
    step = data["steps"][0]
    assert set(step) == {"id", "title", "status", "items"}
    item = step["items"][0]
    assert set(item) == {
        "id",
        "step",
        "title",
        "severity",
        "status",
        "explanation",
        "fix",
        "reason",
        "checks",
    }
    check = item["checks"][0]
    assert set(check) == {"id", "status", "severity", "reason", "note", "fix", "findings"}
    public = next(i for s in data["steps"] for i in s["items"] if i["id"] == "public-writes")
    [finding] = public["checks"][0]["findings"]
    assert (finding["object"], finding["action"]) == ("Note", "delete")


def test_text_report_puts_failures_first_with_their_fix(project):
    text = reports.to_text(failing_report(project))
    first_step = text.split("\n== ", 2)[1]
    assert first_step.startswith("Secrets and deployment ==")
    assert "FAIL  Secrets stay out of Git" in first_step
    assert "Fix: Make sure .gitignore lists .env" in first_step
    assert text.rstrip().endswith("Some items fail: fix them before launch.")


def test_junit_report(project):
    root = ET.fromstring(reports.to_junit(failing_report(project)).split("\n", 1)[1])
    assert root.tag == "testsuites" and root.get("failures") == "1"
    failures = root.findall(".//failure")
    assert len(failures) == 1
    assert ".env is not listed in .gitignore" in (failures[0].text or "")


def test_cli_check_exit_codes_and_formats(project, tmp_path, monkeypatch):
    runner = CliRunner()
    clean = runner.invoke(app, ["check", "-C", str(project), "--static", "--ci"])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)["exit_code"] == 0
    (project / ".gitignore").write_text(".venv/\n")
    failing = runner.invoke(app, ["check", "-C", str(project), "--static", "--format", "text"])
    assert failing.exit_code == 1
    assert "FAIL" in failing.stdout
    junit = tmp_path / "out" / "report.xml"
    junit.parent.mkdir()
    result = runner.invoke(
        app, ["check", "-C", str(project), "--static", "--format", "junit", "-o", str(junit)]
    )
    assert result.exit_code == 1
    assert ET.parse(junit).getroot().tag == "testsuites"


def test_cli_check_could_not_run(tmp_path):
    runner = CliRunner()
    nothing = runner.invoke(app, ["check", "-C", str(tmp_path), "--ci"])
    assert nothing.exit_code == 2
    assert "no shipyard.yaml" in nothing.stderr
    spec = tmp_path / "shipyard.yaml"
    spec.write_text(SPEC)
    unreachable = runner.invoke(
        app, ["check", "--spec", str(spec), "--url", "http://127.0.0.1:9", "--ci"]
    )
    assert unreachable.exit_code == 2
    data = json.loads(unreachable.stdout)
    health = next(i for s in data["steps"] for i in s["items"] if i["id"] == "staging-target")
    assert health["status"] == "error"
    assert "could not reach" in health["reason"]
