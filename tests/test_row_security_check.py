"""The launch check's database items and the database's own answers, on real PostgreSQL.

A rendered project is migrated on a throwaway server the way Docker staging migrates it
(DATABASE_URL as the owner, API_DATABASE_URL as the API's role, which the migrations
create). The owner is an ordinary role (LOGIN CREATEROLE, owning its database), as on a
managed PostgreSQL, not a superuser, which would skip every policy. Two specs: the studio
example and a random one (tests/random_specs.py) that nobody wrote by hand.

- The app reads its catalog (`app.core.row_security`, what the check runs inside staging),
  and each fault — a dropped policy, a table without FORCE, the API's role given
  BYPASSRLS — must be caught by its own item and by no other.
- Connected as the API's own role: with no caller, an owner-only table that has rows shows
  none and takes no row; with a caller, exactly that caller's rows; a create's
  `app.creating` lets through the new row only.
- The rendered project's own permission matrix and row-level security tests pass on
  PostgreSQL for the random spec, whose owner_of points to an object its owner may not read.
- The owner's maintenance path (`python -m app count`, which `shipyard update` asks before
  dropping data) still sees every row through FORCE.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.random_specs import random_spec
from tests.throwaway_postgres import SUPERUSER
from wizard.blueprints import blueprint_context, render
from wizard.checklist import row_security
from wizard.spec import LaunchSpec, load_spec

REPO = Path(__file__).resolve().parent.parent
STUDIO = REPO / "examples" / "studio-booking.yaml"
RANDOM_FROM = 5000  # the first random spec from here on that has an owner-only object

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def owner_only(spec: LaunchSpec) -> str | None:
    """An object only its owner reads and anyone signed in (never anyone at all) creates,
    owned by its creator, with no required reference (its rows need no parent)."""
    for name, obj in spec.objects.items():
        read = [t.kind for t in obj.permissions.rule("read").terms]
        create = {t.kind for t in obj.permissions.rule("create").terms}
        required_refs = any(f.required for f in obj.ref_fields.values())
        if (
            obj.owner == "creator"
            and read == ["owner"]
            and create & {"signed_in", "owner"}
            and "public" not in create
            and not required_refs
        ):
            return name
    return None


def hidden_owner_of(spec: LaunchSpec) -> str | None:
    """A rule owner_of(f) where f points to an object its owner may not read: the API's
    owner_of must not depend on the target's read rule, in the database either."""
    for name, obj in spec.objects.items():
        for action in ("read", "update", "delete"):
            for term in obj.permissions.rule(action).terms:
                if term.kind != "owner_of":
                    continue
                target = spec.objects[obj.fields[term.arg or ""].to or ""]
                read = {t.kind for t in target.permissions.rule("read").terms}
                if not read & {"owner", "public", "signed_in"}:
                    return f"{name}: {action}: owner_of({term.arg})"
    return None


def unseen_spec() -> LaunchSpec:
    for seed in range(RANDOM_FROM, RANDOM_FROM + 2000):
        _, spec = random_spec(seed)
        if owner_only(spec) and hidden_owner_of(spec):
            return spec
    raise AssertionError(f"no random spec from seed {RANDOM_FROM} has what these tests need")


def sql_as_superuser(url: str, statement: str) -> None:
    script = (
        "import asyncio, asyncpg, sys\n"
        "async def main():\n"
        "    connection = await asyncpg.connect(sys.argv[1])\n"
        "    await connection.execute(sys.argv[2])\n"
        "    await connection.close()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", script, url, statement], check=True)


@pytest.fixture(scope="module", params=["studio-booking", "random"])
def staged(request, tmp_path_factory, postgres):
    """A project migrated on PostgreSQL by an ordinary owner role, with its API role."""
    spec = load_spec(STUDIO) if request.param == "studio-booking" else unseen_spec()
    project = tmp_path_factory.mktemp("rls-check") / spec.app.name
    render(spec, project)
    name = "rls_" + request.param.replace("-", "_")
    server = postgres.url("postgres")
    sql_as_superuser(server, f"CREATE ROLE {name}_owner LOGIN CREATEROLE PASSWORD 'owner-pw'")
    sql_as_superuser(server, f"CREATE DATABASE {name} OWNER {name}_owner")
    superuser_url = postgres.url(name)
    owner_url = superuser_url.replace(f"{SUPERUSER}@", f"{name}_owner:owner-pw@", 1)
    api_url = superuser_url.replace(f"{SUPERUSER}@", f"{name}_api:api-password@", 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DATABASE_URL=owner_url, API_DATABASE_URL=api_url, PYTHONPATH=str(project))
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return {
        "spec": spec,
        "project": project,
        "env": env,
        "role": f"{name}_api",
        "urls": {"owner": owner_url, "api": api_url, "superuser": superuser_url},
    }


def catalog(staged) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "app", "row-security"],
        cwd=staged["project"], env=staged["env"], capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def findings(staged, report: dict) -> dict[str, list[str]]:
    spec = staged["spec"]
    return {
        "forced": [f.message for f in row_security.table_findings(spec, report, forced=True)],
        "policies": [f.message for f in row_security.table_findings(spec, report, forced=False)],
        "role": [f.message for f in row_security.role_findings(report)],
    }


def test_migrated_staging_passes_every_database_item(staged):
    report = catalog(staged)
    assert report["api_role"]["name"] == staged["role"]
    assert findings(staged, report) == {"forced": [], "policies": [], "role": []}


def seeded_faults(staged) -> dict[str, tuple[str, str, str, str]]:
    """fault id -> (fault SQL, undo SQL, the item that must catch it, words it must say)."""
    tables = [obj for obj in blueprint_context(staged["spec"])["tables"] if obj["rls_policies"]]
    table = tables[0]["table"]
    policy = next(p for p in tables[0]["rls_policies"] if p["name"] != "owner_lookup")
    role = staged["role"]
    return {
        "dropped-policy": (
            f'DROP POLICY {policy["name"]} ON "{table}"',
            policy["sql"],
            "policies",
            f"{table}: the policy {policy['name']} (FOR {policy['command']})",
        ),
        "no-force": (
            f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY',
            f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
            "forced",
            f"{table}: row-level security is not FORCEd",
        ),
        "bypassrls": (
            f"ALTER ROLE {role} BYPASSRLS",
            f"ALTER ROLE {role} NOBYPASSRLS",
            "role",
            "has BYPASSRLS",
        ),
    }


@pytest.mark.parametrize("fault", ["dropped-policy", "no-force", "bypassrls"])
def test_each_seeded_fault_is_caught_by_its_own_item(staged, fault):
    statement, undo, item, words = seeded_faults(staged)[fault]
    superuser = staged["urls"]["superuser"]
    sql_as_superuser(superuser, statement)
    try:
        found = findings(staged, catalog(staged))
    finally:
        sql_as_superuser(superuser, undo)
    assert [m for m in found[item] if words in m], found
    assert all(not messages for name, messages in found.items() if name != item), found


# --- the database's own answers, connected as the API's role --------------------------------

_VALUES = {
    "integer": 1,
    "double precision": 1.5,
    "boolean": True,
    "date": date(2027, 3, 1),
    "timestamp with time zone": datetime(2027, 3, 1, 10, tzinfo=UTC),
    "character varying": "ab",
    "text": "ab",
    "json": "[]",
}


async def insert(connection, table: str, values: dict[str, Any]) -> int:
    """A row of `table` with `values` and a plain value in every other required column."""
    columns = await connection.fetch(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
        "'public' AND table_name = $1 AND is_nullable = 'NO' AND column_default IS NULL",
        table,
    )
    row = {c["column_name"]: _VALUES[c["data_type"]] for c in columns} | values
    names = ", ".join(f'"{name}"' for name in row)
    marks = ", ".join(f"${n}" for n in range(1, len(row) + 1))
    return await connection.fetchval(
        f'INSERT INTO "{table}" ({names}) VALUES ({marks}) RETURNING id', *row.values()
    )


async def as_caller(connection, user_id: int | None, creating: bool = False) -> None:
    """The caller as the API hands it over: local to the transaction."""
    await connection.execute(
        "SELECT set_config('app.user_id', $1, true), set_config('app.creating', $2, true)",
        "" if user_id is None else str(user_id),
        "on" if creating else "",
    )


async def database_answers(urls: dict[str, str], table: str) -> dict[str, Any]:
    import asyncpg

    owner = await asyncpg.connect(urls["owner"])
    try:
        people = {
            who: await insert(owner, "users", {"email": f"{who}@example.com", "roles": roles})
            for who, roles in (("a", "[]"), ("b", "[]"), ("admin", '["admin"]'))
        }
        mine: dict[str, set[int]] = {"a": set(), "b": set()}
        async with owner.transaction():  # FORCEd on the owner too: rows go in as the admin
            await as_caller(owner, people["admin"])
            for who, count in (("a", 3), ("b", 2)):
                for _ in range(count):
                    mine[who].add(await insert(owner, table, {"owner_id": people[who]}))
    finally:
        await owner.close()

    api = await asyncpg.connect(urls["api"])
    answers: dict[str, Any] = {"mine": mine}
    try:
        answers["no caller sees"] = await api.fetchval(f'SELECT count(*) FROM "{table}"')
        refused = []
        for owner_id in (people["a"], None):
            try:
                await insert(api, table, {"owner_id": owner_id})
                refused.append(False)
            except asyncpg.InsufficientPrivilegeError:
                refused.append(True)
        answers["no caller inserts refused"] = refused
        for who in ("a", "b"):
            async with api.transaction():
                await as_caller(api, people[who])
                rows = await api.fetch(f'SELECT id FROM "{table}"')
            answers[f"{who} sees"] = {r["id"] for r in rows}
        # app.creating on, before this connection ever took an id: nothing, and no error.
        async with api.transaction():
            await as_caller(api, None, creating=True)
            answers["creating without an insert sees"] = await api.fetchval(
                f'SELECT count(*) FROM "{table}"'
            )
        # A's create: the new row comes back, and B's rows stay out of sight.
        transaction = api.transaction()
        await transaction.start()
        try:
            await as_caller(api, people["a"], creating=True)
            answers["created"] = await insert(api, table, {"owner_id": people["a"]})
            rows = await api.fetch(f'SELECT id FROM "{table}" WHERE owner_id = $1', people["b"])
            answers["creating sees of b"] = {r["id"] for r in rows}
        finally:
            await transaction.rollback()
    finally:
        await api.close()
    return answers


def test_the_api_role_sees_only_its_callers_rows_of_an_owner_only_table(staged):
    name = owner_only(staged["spec"])
    if name is None:
        pytest.skip("this spec has no owner-only object; the random spec has one")
    table = next(
        o["table"] for o in blueprint_context(staged["spec"])["tables"] if o["name"] == name
    )
    answers = asyncio.run(database_answers(staged["urls"], table))
    mine = answers["mine"]
    assert answers["no caller sees"] == 0  # the table holds 5 rows
    assert answers["no caller inserts refused"] == [True, True]
    assert answers["a sees"] == mine["a"] and answers["b sees"] == mine["b"]
    assert answers["creating without an insert sees"] == 0
    assert answers["created"] and answers["creating sees of b"] == set()

    # The owner's maintenance path still counts every row through FORCE.
    done = subprocess.run(
        [sys.executable, "-m", "app", "count", table, "--json"],
        cwd=staged["project"], env=staged["env"], capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {table: 5}


def test_the_api_as_its_role_agrees_with_the_matrix_and_the_database(staged, postgres):
    """The rendered permission matrix and row-level security tests, on PostgreSQL, for the
    random spec (studio-booking's whole suite runs on PostgreSQL in test_rendered_projects).
    Its owner_of rule points to an object its owner may not read: the API's filter must
    not be narrowed by the target's read policy (app/policies/shared.py owner_of)."""
    if staged["spec"].app.name == "studio-booking":
        pytest.skip("studio-booking's whole suite runs on PostgreSQL in test_rendered_projects")
    from tests.rendered_suite import run_suite

    suite = ["tests/test_permissions.py", "tests/test_row_level_security.py"]
    run_suite(staged["project"], postgres.create_database("rls_random_suite"), suite)
