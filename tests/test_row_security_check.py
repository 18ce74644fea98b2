"""The launch check's database items on real PostgreSQL, with seeded faults.

A rendered project is migrated on a throwaway server the way Docker staging migrates it
(DATABASE_URL as the owner, API_DATABASE_URL as the API's role, which the migrations
create), the app reads its catalog (`app.core.row_security`, what the check runs inside
staging), and each fault — a dropped policy, a table without FORCE, the API's role given
BYPASSRLS — must be caught by its own item and by no other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wizard.blueprints import render
from wizard.checklist import row_security
from wizard.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
STUDIO = REPO / "examples" / "studio-booking.yaml"

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def staged(tmp_path_factory, postgres):
    """(project, env, run_sql): studio-booking migrated on PostgreSQL with its API role."""
    project = tmp_path_factory.mktemp("rls-check") / "studio-booking"
    render(load_spec(STUDIO), project)
    owner_url = postgres.create_database("rls_check")
    api_url = owner_url.replace("postgres@", "rls_check_api:api-password@")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DATABASE_URL=owner_url, API_DATABASE_URL=api_url, PYTHONPATH=str(project))
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    def run_sql(statement: str) -> None:
        script = (
            "import asyncio, asyncpg, sys\n"
            "async def main():\n"
            "    connection = await asyncpg.connect(sys.argv[1])\n"
            "    await connection.execute(sys.argv[2])\n"
            "    await connection.close()\n"
            "asyncio.run(main())\n"
        )
        subprocess.run([sys.executable, "-c", script, owner_url, statement], check=True)

    return project, env, run_sql


def catalog(staged) -> dict:
    project, env, _ = staged
    done = subprocess.run(
        [sys.executable, "-c", row_security._SCRIPT],
        cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith(row_security._MARK))
    return json.loads(line[len(row_security._MARK) :])


def findings(report: dict) -> dict[str, list[str]]:
    spec = load_spec(STUDIO)
    return {
        "forced": [f.message for f in row_security.table_findings(spec, report, forced=True)],
        "policies": [f.message for f in row_security.table_findings(spec, report, forced=False)],
        "role": [f.message for f in row_security.role_findings(report)],
    }


def test_migrated_staging_passes_every_database_item(staged):
    report = catalog(staged)
    assert report["api_role"]["name"] == "rls_check_api"
    assert findings(report) == {"forced": [], "policies": [], "role": []}


@pytest.mark.parametrize(
    ("fault", "undo", "item", "words"),
    [
        (
            'DROP POLICY read_owner_of_class ON "bookings"',
            'CREATE POLICY read_owner_of_class ON "bookings" FOR SELECT '
            'USING ("class_id" = any((select rls_owned_classes())::integer[]))',
            "policies",
            "bookings: the policy read_owner_of_class (FOR SELECT)",
        ),
        (
            'ALTER TABLE "classes" NO FORCE ROW LEVEL SECURITY',
            'ALTER TABLE "classes" FORCE ROW LEVEL SECURITY',
            "forced",
            "classes: row-level security is not FORCEd",
        ),
        (
            "ALTER ROLE rls_check_api BYPASSRLS",
            "ALTER ROLE rls_check_api NOBYPASSRLS",
            "role",
            "has BYPASSRLS",
        ),
    ],
    ids=["dropped-policy", "no-force", "bypassrls"],
)
def test_each_seeded_fault_is_caught_by_its_own_item(staged, fault, undo, item, words):
    _, _, run_sql = staged
    run_sql(fault)
    try:
        found = findings(catalog(staged))
    finally:
        run_sql(undo)
    assert [m for m in found[item] if words in m], found
    assert all(not messages for name, messages in found.items() if name != item), found
