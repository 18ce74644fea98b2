"""`shipyard update` on real git repositories: merges, conflicts, refusals, abort and dry runs."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wizard.cli import app
from wizard.pipeline import create_project
from wizard.record import RECORD_FILE, read_record
from wizard.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
STUDIO = REPO / "examples" / "studio-booking.yaml"
BOOKING_CLASS = "      class: {type: ref, required: true, to: Class}\n"


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The studio example made by `shipyard new` once; each test works on a copy."""
    home = tmp_path_factory.mktemp("update-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        yield create_project(load_spec(STUDIO), tmp_path_factory.mktemp("made") / "studio")


@pytest.fixture
def project(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "studio"
    shutil.copytree(pristine, copy, symlinks=True)
    return copy


def git(project: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(project), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def update(project: Path, *args: str):
    return CliRunner().invoke(app, ["update", "-C", str(project), *args])


def edit_spec(project: Path, old: str, new: str) -> None:
    spec = project / "shipyard.yaml"
    text = spec.read_text()
    assert old in text, text
    spec.write_text(text.replace(old, new))


def add_note_field(project: Path) -> None:
    edit_spec(
        project, BOOKING_CLASS, BOOKING_CLASS + "      note: {type: string, max_length: 200}\n"
    )


def digest(project: Path) -> dict[str, str]:
    """Every file of the work tree (untracked ones too) and its bytes and mode."""
    found = {}
    for path in sorted(project.rglob("*")):
        if ".git" in path.relative_to(project).parts or not path.is_file():
            continue
        data = path.read_bytes() + oct(path.stat().st_mode).encode()
        found[path.relative_to(project).as_posix()] = hashlib.sha256(data).hexdigest()
    return found


def test_a_new_project_records_its_spec_and_keeps_its_render(pristine):
    record = read_record(pristine)
    assert record.spec == load_spec(pristine / "shipyard.yaml")
    assert record.blueprint == "fastapi" and len(record.blueprint_version) == 16
    assert git(pristine, "rev-parse", "refs/shipyard/rendered") == git(
        pristine, "rev-parse", "HEAD"
    )
    assert RECORD_FILE in git(pristine, "ls-files").split()


def test_a_new_field_reaches_the_code_and_hand_edits_survive(project):
    routes = project / "app/api/routes/booking.py"
    routes.write_text(routes.read_text() + "\n\n# Founder: bookings close at midnight.\n")
    (project / "app/mine.py").write_text('"""My own module."""\n')
    hooks = project / "app/hooks/booking.py"
    hooks.write_text(
        hooks.read_text().replace(
            '    """The checked values', '    values.setdefault("x", 1)\n    """The checked values'
        )
    )
    own_hooks = hooks.read_text()
    git(project, "add", "-A")
    git(project, "commit", "-qm", "My edits")
    add_note_field(project)  # left uncommitted: the update commits it with the code

    result = update(project)

    assert result.exit_code == 0, result.output
    assert "Booking.note added" in result.output
    model = (project / "app/models/booking.py").read_text()
    assert "note: Mapped[str | None] = mapped_column(String(200))" in model
    assert "# Founder: bookings close at midnight." in routes.read_text()
    assert (project / "app/mine.py").read_text() == '"""My own module."""\n'
    assert hooks.read_text() == own_hooks
    assert git(project, "status", "--porcelain") == ""
    log = git(project, "log", "--format=%s", "-3").splitlines()
    assert log == [
        "Update from shipyard.yaml: Booking.note added (string)",
        "My edits",
        "Create Studio Booking with Shipyard",
    ]
    assert read_record(project).spec == load_spec(project / "shipyard.yaml")
    kept = git(project, "show", "refs/shipyard/rendered:app/models/booking.py")
    assert kept == model
    again = update(project)
    assert again.exit_code == 0 and "Nothing to update" in again.output


def test_a_dirty_tree_is_refused_and_nothing_is_written(project):
    add_note_field(project)
    (project / "README.md").write_text("mine\n")
    before = digest(project)
    result = update(project)
    assert result.exit_code == 2
    assert "uncommitted changes (README.md)" in result.output
    assert "git stash -u" in result.output
    assert digest(project) == before


def test_overlapping_edits_conflict_and_abort_restores_the_tree(project):
    model = project / "app/models/booking.py"
    line = '    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)\n'
    model.write_text(model.read_text().replace(line, line.replace("index=True", "index=False")))
    git(project, "commit", "-qam", "No index")
    add_note_field(project)
    head = git(project, "rev-parse", "HEAD")
    before = digest(project)

    result = update(project)

    assert result.exit_code == 1, result.output
    assert "app/models/booking.py" in result.output and "Nothing was committed" in result.output
    text = model.read_text()
    assert "<<<<<<< yours (working tree)" in text and ">>>>>>> new render" in text
    assert git(project, "rev-parse", "HEAD") == head
    assert not list(project.rglob("*.rej")) and not list(project.rglob("*.orig"))
    # Another update waits for this one to be finished.
    assert update(project).exit_code == 2

    aborted = update(project, "--abort")
    assert aborted.exit_code == 0, aborted.output
    assert digest(project) == before
    assert git(project, "rev-parse", "HEAD") == head


def test_resolved_conflicts_are_committed_with_continue(project):
    model = project / "app/models/booking.py"
    line = '    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)\n'
    model.write_text(model.read_text().replace(line, line + "    # the class booked\n"))
    git(project, "commit", "-qam", "A comment")
    add_note_field(project)
    assert update(project).exit_code == 1
    assert update(project, "--continue").exit_code == 2  # markers are still there
    text = model.read_text().split("\n")
    resolved = [row for row in text if not row.startswith(("<<<<<<<", "=======", ">>>>>>>"))]
    model.write_text("\n".join(resolved))
    done = update(project, "--continue")
    assert done.exit_code == 0, done.output
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "log", "-1", "--format=%s").startswith("Update from shipyard.yaml")


def test_dry_run_prints_the_plan_as_json_and_writes_nothing(project):
    add_note_field(project)
    before = digest(project)
    ref = git(project, "rev-parse", "refs/shipyard/rendered")
    result = update(project, "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["dry_run"] is True
    assert [c["kind"] for c in plan["spec_changes"]] == ["field_added"]
    assert "app/models/booking.py" in plan["files"]["changed"]
    assert plan["files"]["conflicts"] == []
    assert digest(project) == before
    assert git(project, "rev-parse", "refs/shipyard/rendered") == ref
    assert not (
        Path(git(project, "rev-parse", "--absolute-git-dir").strip()) / "shipyard-update.json"
    ).exists()


def test_objects_added_and_removed_add_and_remove_their_files(project):
    edit_spec(
        project,
        "staging:\n",
        "  Review:\n    owner: creator\n    fields:\n"
        "      studio: {type: ref, to: Studio, required: true}\n"
        "      stars: {type: int, min: 1, max: 5}\n"
        "    permissions: {read: public, create: signed_in, update: owner, delete: owner}\n"
        "staging:\n",
    )
    result = update(project)
    assert result.exit_code == 0, result.output
    for package in ("models", "schemas", "policies", "api/routes", "hooks"):
        assert (project / "app" / package / "review.py").is_file()
    assert git(project, "status", "--porcelain") == ""

    spec = (project / "shipyard.yaml").read_text()
    start = spec.index("  Review:\n")
    (project / "shipyard.yaml").write_text(spec[:start] + spec[spec.index("staging:\n") :])
    refused = update(project)
    assert refused.exit_code == 2
    assert "Review removed" in refused.output and "--allow-data-loss" in refused.output
    removed = update(project, "--allow-data-loss")
    assert removed.exit_code == 0, removed.output
    assert not (project / "app/models/review.py").exists()
    assert (project / "app/hooks/review.py").is_file()  # the founder's code stays
    assert "Your hooks for a removed object, kept" in removed.output
    assert "app/hooks/review.py: its object left the spec: nothing calls" in removed.output
    assert git(project, "status", "--porcelain") == ""


def test_an_add_and_a_drop_of_one_type_needs_rename(project):
    edit_spec(project, "      city: string\n", "      town: string\n")
    before = digest(project)
    result = update(project, "--yes")
    assert result.exit_code == 2
    assert "Studio.city" in result.output and "Studio.town" in result.output
    assert "--rename Studio.city=town" in result.output
    assert digest(project) == before
    renamed = update(project, "--yes", "--rename", "Studio.city=town")
    assert renamed.exit_code == 0, renamed.output
    assert "Studio.city renamed to town" in renamed.output


# --- the migration from the spec diff, on a database holding records ------------------------

REVIEW = (
    "  Review:\n    owner: creator\n    fields:\n"
    "      studio: {type: ref, to: Studio, required: true}\n"
    "      stars: {type: int, min: 1, max: 5}\n"
    "      body: text\n"
    "    permissions: {read: public, create: signed_in, update: owner, delete: owner}\n"
)
NOW = "'2030-01-02 09:00:00'"


def sql(url: str, statement: str) -> list[tuple[str, ...]]:
    """Rows as text, from the SQLite file or PostgreSQL database at `url`."""
    if url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            rows = connection.execute(statement).fetchall()
        return [tuple("" if v is None else str(v) for v in row) for row in rows]
    psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    done = subprocess.run(
        [psql, "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", statement, url],
        capture_output=True,
        text=True,
        check=True,
    )
    return [tuple(line.split("|")) for line in done.stdout.splitlines()]


def migrate(project: Path, url: str, *target: str) -> None:
    import os
    import sys

    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "development"}
    done = subprocess.run(
        [sys.executable, "-m", "alembic", *(target or ("upgrade", "head"))],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def assert_row_level_security(project: Path, url: str) -> None:
    """On PostgreSQL: every object table FORCEd, with exactly the policies its spec compiles to."""
    if not url.startswith("postgres"):
        return
    from wizard.blueprints import blueprint_context

    context = blueprint_context(load_spec(project / "shipyard.yaml"))
    tables = {obj["table"] for obj in context["tables"]}
    expected = {(obj["table"], p["name"]) for obj in context["tables"] for p in obj["rls_policies"]}
    found = sql(url, "SELECT tablename, policyname FROM pg_policies WHERE schemaname = 'public'")
    assert set(found) == expected
    forced = sql(
        url,
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relrowsecurity AND relforcerowsecurity",
    )
    assert {name for (name,) in forced} == tables


def updated(project: Path, *args: str) -> str:
    result = update(project, "--yes", *args)
    assert result.exit_code == 0, result.output
    assert git(project, "status", "--porcelain") == ""
    return result.output


def database_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'staging.db'}"
    server = request.getfixturevalue("postgres")
    return server.create_database(f"update_{tmp_path.name[-8:].lower()}".replace("-", "_"))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_five_spec_edits_migrate_a_database_and_keep_its_records(project, tmp_path, request, kind):
    url = database_url(kind, tmp_path, request)
    migrate(project, url)
    sql(
        url,
        f"INSERT INTO studios (id, name, version, created_at, updated_at) VALUES (1, 'Loft', 1, {NOW}, {NOW})",
    )
    sql(
        url,
        f"INSERT INTO classes (id, studio_id, capacity, version, created_at, updated_at) VALUES (1, 1, 12, 1, {NOW}, {NOW})",
    )

    # 1. A new object referencing an old one, and a new field.
    edit_spec(project, "staging:\n", REVIEW + "staging:\n")
    add_note_field(project)
    updated(project)
    migrate(project, url)
    assert_row_level_security(project, url)  # reviews: ENABLEd, FORCEd, its policies
    sql(
        url,
        f"INSERT INTO reviews (id, studio_id, stars, body, version, created_at, updated_at) VALUES (1, 1, 4, 'Great', 1, {NOW}, {NOW})",
    )

    # 2. Two renames, one of them a reference: the values stay.
    edit_spec(
        project,
        "      studio: {type: ref, to: Studio, required: true}\n      stars:",
        "      venue: {type: ref, to: Studio, required: true}\n      rating:",
    )
    assert update(project, "--yes").exit_code == 2
    updated(project, "--rename", "Review.studio=venue", "--rename", "Review.stars=rating")
    migrate(project, url)
    assert sql(url, "SELECT venue_id, rating FROM reviews") == [("1", "4")]

    # 3. A rule change, a longer name, a field made required with a default, text to string.
    edit_spec(project, "update: owner | role:admin", "update: role:admin")
    edit_spec(project, "max_length: 120}", "max_length: 160}")
    edit_spec(
        project,
        "      city: string\n",
        "      city: {type: string, required: true, default: Berlin}\n",
    )
    edit_spec(project, "      body: text\n", "      body: {type: string, max_length: 500}\n")
    assert update(project, "--yes").exit_code == 2  # text to string may cut values
    said = updated(project, "--allow-data-loss")
    # squawk reads the migration's PostgreSQL SQL: a type change rewrites the table under lock.
    assert "squawk on 0005_" in said and "[changing-column-type]" in said, said
    migrate(project, url)
    assert_row_level_security(project, url)  # the studio's update_owner policy is gone
    assert sql(url, "SELECT name, city FROM studios") == [("Loft", "Berlin")]
    assert sql(url, "SELECT body FROM reviews") == [("Great",)]

    # 4. A field removal: refused without --allow-data-loss, with nothing changed.
    edit_spec(project, "      body: {type: string, max_length: 500}\n", "")
    before = digest(project)
    refused = update(project, "--yes")
    assert refused.exit_code == 2 and "Review.body removed" in refused.output
    assert digest(project) == before
    updated(project, "--allow-data-loss")
    migrate(project, url)
    assert sql(url, "SELECT venue_id, rating FROM reviews") == [("1", "4")]
    assert_row_level_security(project, url)

    versions = sorted(p.name for p in (project / "alembic/versions").glob("*.py"))
    assert len(versions) == 6, versions
    if kind == "sqlite":
        migrate(project, url, "downgrade", "0002_sign_in")
        migrate(project, url)
    # The project's own check that its models and migrations describe the same schema.
    from tests.rendered_suite import run_suite

    fresh = None if kind == "sqlite" else database_url(kind, tmp_path / "fresh", request)
    run_suite(project, fresh, ["tests/test_migrations.py"])


def test_login_methods_that_send_codes_create_and_drop_their_table(project, tmp_path):
    """login_codes exists while a login method sends one-time codes: dropping magic_link
    drops it, adding phone_otp creates it again, and the database follows (SQLite)."""
    url = f"sqlite:///{tmp_path / 'login.db'}"
    migrate(project, url)
    tables = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'login_codes'"
    assert sql(url, tables) == [("login_codes",)]
    edit_spec(project, "methods: [email_password, magic_link]", "methods: [email_password]")
    said = updated(project)
    assert "drop table login_codes (no login method sends codes any more" in said
    migrate(project, url)
    assert sql(url, tables) == []
    assert not (project / "app/models/login_codes.py").exists()
    edit_spec(project, "methods: [email_password]", "methods: [email_password, phone_otp]")
    said = updated(project)
    assert "create table login_codes (one-time sign-in codes for phone_otp)" in said
    migrate(project, url)
    assert sql(url, tables) == [("login_codes",)]
    migrate(project, url, "downgrade", "-1")
    assert sql(url, tables) == []


# --- what names `shipyard update` is true --------------------------------------------------


def test_restore_puts_back_the_blueprints_file_over_a_hand_edit(project):
    dockerfile = project / "Dockerfile"
    rendered = dockerfile.read_bytes()
    dockerfile.write_text(dockerfile.read_text().replace("USER ", "# USER "))
    git(project, "commit", "-qam", "Run as root")
    assert "Nothing to update" in update(project).output  # an edit is not undone unasked
    result = update(project, "--restore", "Dockerfile")
    assert result.exit_code == 0, result.output
    assert dockerfile.read_bytes() == rendered
    assert git(project, "log", "-1", "--format=%s").strip() == (
        "Restore Dockerfile as the fastapi blueprint renders it"
    )
    missing = update(project, "--restore", "no/such/file.py")
    assert missing.exit_code == 2 and "renders no such file" in missing.output


def test_every_restore_the_launch_checklist_suggests_names_a_rendered_file(pristine):
    import re

    text = (REPO / "checklists" / "launch.yaml").read_text() + (
        REPO / "wizard" / "staging" / "plan.py"
    ).read_text()
    suggested = re.findall(r"shipyard update((?: --restore \S+?)+)`", text)
    paths = [p for group in suggested for p in group.split(" --restore ") if p not in ("", "FILE")]
    assert len(paths) >= 4, suggested
    for path in paths:
        assert (pristine / path.strip()).is_file(), path


def test_edit_shows_the_plan_and_applies_it_when_asked(project, monkeypatch):
    def edit_spec(spec, folder):
        changed = spec.model_copy(deep=True)
        changed.objects["Studio"].fields["phone"] = type(changed.objects["Studio"].fields["city"])(
            type="string", max_length=30
        )
        return changed

    monkeypatch.setattr("wizard.commands.project.can_prompt", lambda: True)
    monkeypatch.setattr("wizard.tui.edit_spec", edit_spec)
    result = CliRunner().invoke(app, ["edit", "-C", str(project)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "Studio.phone added" in result.output and "Apply it now?" in result.output
    assert "phone" in (project / "app/models/studio.py").read_text()
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "log", "-1", "--format=%s").startswith("Update from shipyard.yaml")


@pytest.mark.slow
def test_a_removal_is_counted_refused_then_backed_up_and_applied_to_local_staging(project):
    """Local staging, running: the removal is refused naming the values it deletes (`python -m
    app count`); with --allow-data-loss the SQLite file is backed up first, then the API is
    restarted on the new code, the migration runs once and /health answers; records are kept."""
    import hashlib
    import sys
    import urllib.request

    from wizard.staging import local, remember_target

    python = project / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    # This interpreter already holds the rendered app's dependencies: nothing to install.
    wanted = hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()
    (project / ".venv" / local.STAMP_FILE).write_text(wanted + "\n")
    remember_target(project, "local")
    staging = local.up(project)
    try:
        url = f"sqlite:///{local.data_files(project)[0]}"
        for name, city in (("Loft", "'Berlin'"), ("Barn", "NULL"), ("Dome", "'Rome'")):
            sql(
                url,
                f"INSERT INTO studios (name, city, version, created_at, updated_at) VALUES ('{name}', {city}, 1, {NOW}, {NOW})",
            )
        edit_spec(project, "      city: string\n", "")
        assert git(project, "status", "--porcelain") == " M shipyard.yaml\n"

        refused = update(project, "--yes")
        assert refused.exit_code == 2, refused.output
        assert "Studio.city removed: it deletes or changes 2 values on staging" in refused.output
        plan = json.loads(update(project, "--dry-run", "--format", "json").output)
        assert plan["destructive"] == [
            {"change": "Studio.city removed", "target": "studios.city", "count": 2, "counted": True}
        ]
        assert plan["staging"]["running"] is True and "back up" in plan["staging"]["would"]
        pid = local.status(project).details["pid"]

        applied = update(project, "--yes", "--allow-data-loss")

        assert applied.exit_code == 0, applied.output
        assert "Data loss (allowed with --allow-data-loss)" in applied.output
        backups = list((project / "backups").glob("*.db"))
        assert len(backups) == 1 and backups[0].stat().st_mode & 0o077 == 0
        assert f"Backed up the staging data before the change: {backups[0]}" in applied.output
        sha = git(project, "rev-parse", "--short=12", "HEAD").strip()
        assert f"`git revert --no-edit {sha}`, then `shipyard down`" in applied.output
        assert "Staging (local) runs the new code" in applied.output
        assert sql(f"sqlite:///{backups[0]}", "SELECT city FROM studios ORDER BY name") == [
            ("",),
            ("Rome",),
            ("Berlin",),
        ]
        now = local.status(project)
        assert now.running and now.details["pid"] != pid and now.api_url == staging.api_url
        with urllib.request.urlopen(f"{now.api_url}/health", timeout=10) as response:
            assert response.status == 200
        assert sql(url, "SELECT name FROM studios ORDER BY name") == [
            ("Barn",),
            ("Dome",),
            ("Loft",),
        ]
        columns = [row[1] for row in sql(url, "PRAGMA table_info(studios)")]
        assert "city" not in columns
        assert git(project, "status", "--porcelain") == ""
    finally:
        local.down(project)


def test_at_a_terminal_a_possible_rename_is_asked(project, monkeypatch):
    monkeypatch.setattr("wizard.commands.update.can_prompt", lambda: True)
    edit_spec(project, "      city: string\n", "      town: string\n")
    result = CliRunner().invoke(app, ["update", "-C", str(project)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "Did you rename Studio.city to town?" in result.output
    assert "Studio.city renamed to town" in result.output
    migration = next((project / "alembic/versions").glob("0003_*.py")).read_text()
    assert 'new_column_name="town"' in migration


def test_per_object_templates_read_only_their_object():
    """`shipyard update` copies an unchanged object's files from the last render instead of
    rendering them again (blueprints.reusable): true only while those templates read `obj`."""
    from jinja2 import Environment, meta

    from wizard.blueprints import PER_OBJECT_PART, find_blueprint

    template = find_blueprint("fastapi") / "template"
    found = sorted(template.rglob(f"*{PER_OBJECT_PART}*"))
    assert len(found) >= 5, found
    env = Environment(keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    for path in found:
        names = meta.find_undeclared_variables(env.parse(path.read_text(encoding="utf-8")))
        # `_` is a throwaway (`{% set _ = list.append(x) %}` in a loop), never read.
        assert names <= {"obj", "_"}, (path.relative_to(template).as_posix(), names)
