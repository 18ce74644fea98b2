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
from wizard.paths import shipyard_command
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
    assert set(check) == {
        "id",
        "status",
        "severity",
        "reason",
        "note",
        "fix",
        "coverage",
        "findings",
    }
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


def test_cli_check_plain_prints_text_even_when_redirected(project):
    # CliRunner's stdout is not a terminal, like `> file` or `| tee`: --plain still wins.
    result = CliRunner().invoke(app, ["check", "-C", str(project), "--static", "--plain"])
    assert result.exit_code == 0, result.output
    assert not result.stdout.lstrip().startswith("{")
    assert "PASS" in result.stdout or "pass" in result.stdout
    # An explicit --format still decides.
    explicit = CliRunner().invoke(
        app, ["check", "-C", str(project), "--static", "--plain", "--format", "json"]
    )
    assert json.loads(explicit.stdout)["exit_code"] == 0


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
    # A CI log says why in one sentence on stderr, without reading the JSON.
    assert "Error: the launch check could not run everything:" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr


@pytest.mark.parametrize(
    "url",
    ["localhost:8000", "htp//api.example.com", "http://", "ftp://api.example.com", "http://a:8x"],
)
def test_a_malformed_url_is_refused_before_anything_runs(tmp_path, url):
    spec = tmp_path / "shipyard.yaml"
    spec.write_text(SPEC)
    result = CliRunner().invoke(app, ["check", "--spec", str(spec), "--url", url, "--ci"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"Error: --url {url!r}" in result.stderr
    assert "http://127.0.0.1:8000" in result.stderr
    assert "Traceback" not in result.stderr


def test_checks_run_one_kind_after_the_other(project):
    said: list[str] = []
    ctx = build_context(project=project, live=False, on_event=lambda e: said.append(e.message))
    run_checklist(ctx)
    assert said == [
        "Checking the launch spec",
        "Checking the project's files, git history and code",
    ]


def test_ctrl_c_mid_check_tidies_up_and_says_what_is_left(project, monkeypatch):
    from wizard.checklist import context

    tidied: list[bool] = []

    def interrupted(ctx):
        ctx.cache["cleanup"] = lambda: tidied.append(True)
        raise KeyboardInterrupt

    context.registered()  # the real checks first, so that this one replaces its own
    monkeypatch.setitem(context.CHECKS, "project.env_ignored", interrupted)
    result = CliRunner().invoke(app, ["check", "-C", str(project), "--static", "--ci"])
    assert result.exit_code == 130
    assert tidied == [True]
    assert result.stdout == ""
    assert (
        "Cancelled: the launch check stopped before it finished, so there is no report; it "
        "changed none of the project's files and deleted the records its probes had made."
    ) in result.stderr
    assert "Traceback" not in result.stderr


# --- the live permission matrix: a pass only when every cell was probed --------------------

NO_ADMIN = (
    "giving a role needs admin credentials: no admin credentials: "
    "set SHIPYARD_ADMIN_EMAIL and SHIPYARD_ADMIN_PASSWORD"
)
PERMISSIONS_ONLY = (
    "version: 1\nsteps:\n  - id: permissions\n    title: Permissions\n    items:\n"
    "      - id: permissions\n        title: Who may do what\n        why: w\n"
    "        severity: fail\n        fix: Give the action a rule.\n"
    "        checks: [live.permission_matrix, live.list_filtering]\n"
)


def fake_api(spec, limited=(), leaky=()):
    """An API that answers every cell as the spec's matrix expects (the bearer token names
    the persona), except that personas in `limited` are rate limited (429) and the
    (actor, action) pairs in `leaky` are allowed what the rules deny."""
    import itertools

    import httpx

    from wizard.spec.matrix import expect

    made: list[int] = []
    ids = itertools.count(1)
    verbs = {("GET", 2): "list", ("POST", 2): "create", ("GET", 3): "get"}
    verbs |= {("PATCH", 3): "update", ("DELETE", 3): "delete"}

    def handler(request: httpx.Request) -> httpx.Response:
        actor = request.headers.get("Authorization", "Bearer anonymous").split()[-1]
        if actor in limited:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"detail": "Slow down"})
        parts = request.url.path.strip("/").split("/")
        action = verbs[(request.method, len(parts))]
        expected = expect(spec, "Note", actor, action)
        allowed = expected.allowed or (actor, action) in leaky
        if action == "list" and (allowed or expected.outcome == "hidden"):
            items = [{"id": i} for i in made] if allowed else []
            return httpx.Response(200, json={"items": items, "total": len(items)})
        if not allowed:
            return httpx.Response(expected.status, json={"detail": "no"})
        if action == "create":
            made.append(next(ids))
            return httpx.Response(201, json={"id": made[-1]})
        if action == "delete":
            return httpx.Response(204)
        return httpx.Response(200, json={"id": int(parts[2])})

    return httpx.MockTransport(handler)


def probed_session(ctx, everyone=False, **fake):
    """A live session on the fake API: owner, other and anonymous signed in; no admin and
    so no role holder (unless `everyone`)."""
    import httpx

    from wizard.checklist.live import Api, Persona, Session

    api = Api("http://api.test")
    api.client = httpx.Client(base_url=api.url, transport=fake_api(ctx.spec, **fake))
    live = Session(ctx, ctx.spec, api)
    names = ["owner", "other", *(["role:editor", "admin"] if everyone else [])]
    for name in names:
        live.personas[name] = Persona(name, token=name, user_id=len(live.personas))
    if not everyone:
        live.admin_problem = NO_ADMIN.split(": ", 1)[1]
        live.unavailable = {"admin": live.admin_problem, "role:editor": NO_ADMIN}
    ctx.cache["live_session"] = live
    return live


def matrix_check(spec_text=SPEC, everyone=False, **fake):
    ctx = CheckContext(spec=parse_spec(spec_text), url="http://api.test", url_given=True)
    probed_session(ctx, everyone, **fake)
    report = run_checklist(ctx, parse_checklist(PERMISSIONS_ONLY))
    [item] = report.items
    return report, item, {c.id: c for c in item.checks}


def test_every_cell_probed_passes():
    report, item, checks = matrix_check(everyone=True)
    assert item.status == "pass", reports.to_text(report)
    assert checks["live.permission_matrix"].note == "probed 20 of 20 get/create/update/delete cells"
    assert checks["live.list_filtering"].note == "probed 5 of 5 list cells"
    assert checks["live.permission_matrix"].coverage.complete
    assert report.exit_code == 0


def test_cells_skipped_without_admin_are_a_warning_with_counts_and_a_fix():
    report, item, checks = matrix_check()
    matrix = checks["live.permission_matrix"]
    assert (item.status, matrix.status) == ("warn", "warn")
    assert report.exit_code == 0  # nothing was seen to leak
    assert matrix.findings == []
    assert matrix.reason.startswith("probed 12 of 20 get/create/update/delete cells; not probed: ")
    assert "Note as role:editor (giving a role needs admin credentials" in matrix.reason
    # `shipyard up`, spelled as it runs here (by its full path when PATH does not find it).
    assert "SHIPYARD_ADMIN_EMAIL" in matrix.fix and f"{shipyard_command()} up" in matrix.fix
    assert checks["live.list_filtering"].status == "warn"
    assert checks["live.list_filtering"].reason.startswith("probed 3 of 5 list cells")
    text = reports.to_text(report)
    assert "live.permission_matrix: warn - probed 12 of 20" in text
    assert "live.list_filtering: warn - probed 3 of 5 list cells" in text
    assert "Fix: Give the check an admin account of this API" in text
    data = json.loads(reports.to_json(report))
    [check] = [c for c in data["steps"][0]["items"][0]["checks"] if c["id"] == matrix.id]
    assert check["coverage"]["probed"] == 12 and check["coverage"]["total"] == 20
    assert {s["where"] for s in check["coverage"]["skipped"]} == {
        "Note as role:editor",
        "Note as admin",
    }
    junit = reports.to_junit(report)
    assert "probed 12 of 20" in junit


def test_rate_limited_cells_are_skipped_not_failed_and_the_fix_says_wait():
    report, _item, checks = matrix_check(limited=("other",))
    matrix = checks["live.permission_matrix"]
    assert matrix.status == "warn" and matrix.findings == []
    assert matrix.coverage.probed == 8 and matrix.coverage.total == 20
    assert "Note update as other" in matrix.coverage.skipped
    assert "429" in matrix.coverage.skipped["Note update as other"]
    assert "wait a few minutes" in matrix.fix and "SHIPYARD_ADMIN_EMAIL" in matrix.fix
    assert report.exit_code == 0


def test_a_leak_fails_even_when_cells_were_skipped():
    report, item, checks = matrix_check(leaky={("other", "update")})
    matrix = checks["live.permission_matrix"]
    assert (item.status, matrix.status) == ("fail", "fail")
    assert report.exit_code == 1
    [leak] = matrix.findings
    assert (leak.object, leak.action, leak.actor) == ("Note", "update", "other")
    assert report.failing_objects == ["Note"]
    assert matrix.coverage.probed == 12  # the skipped cells are still told
    text = reports.to_text(report)
    assert "LEAK: the other test user could update Note" in text
    assert "(probed 12 of 20 get/create/update/delete cells; not probed: " in text


def test_no_cell_probed_is_could_not_run():
    report, _item, checks = matrix_check(limited=("owner",))
    matrix = checks["live.permission_matrix"]
    assert matrix.status == "error"
    assert "none of the 20 get/create/update/delete cells could be probed" in matrix.reason
    assert "429" in matrix.reason and "wait a few minutes" in matrix.reason
    assert report.exit_code == 2


@pytest.mark.parametrize(
    "key, expected",
    [
        ("live.permission_matrix", {"live.permission_matrix": "acknowledged"}),
        ("permissions", {"live.permission_matrix": "acknowledged", "live.list_filtering": "ack"}),
    ],
)
def test_skipped_cells_can_be_acknowledged(key, expected):
    spec = SPEC + f"acknowledged:\n  {key}: CI has no admin account; staging is checked in full\n"
    report, item, checks = matrix_check(spec)
    for check_id, status in expected.items():
        assert checks[check_id].status.startswith(status), check_id
        assert checks[check_id].reason == "CI has no admin account; staging is checked in full"
    assert item.status == ("acknowledged" if key == "permissions" else "warn")
    # The acknowledgement does not hide how much was probed.
    assert "(probed 12 of 20 get/create/update/delete cells" in reports.to_text(report)


def test_fix_texts_name_a_command_that_runs_as_typed(project, monkeypatch):
    import sys

    spec = project / "shipyard.yaml"
    spec.write_text(SPEC.replace("roles: [editor]", "roles: [editor, coach]"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no `shipyard` on it
    result = CliRunner().invoke(app, ["check", "-C", str(project), "--static", "--ci"])
    assert result.exit_code == 0, result.output
    roles = next(
        item
        for step in json.loads(result.stdout)["steps"]
        for item in step["items"]
        if item["id"] == "roles"
    )
    [used] = [c for c in roles["checks"] if c["id"] == "spec.roles_used"]
    assert used["status"] == "warn"
    # The check's own fix, for what it found (a role no rule names), not granting the role;
    # and the command it names spelled by the full path, as errors and hints spell it.
    assert "name every listed role in some rule" in used["fix"]
    # Run from elsewhere with -C: each command names the project too.
    assert f"`{sys.executable} -m wizard update -C {project}`" in used["fix"]
    assert f"`{sys.executable} -m wizard grant EMAIL ROLE -C {project}`" in roles["fix"]
    assert "`shipyard " not in json.dumps(roles)
