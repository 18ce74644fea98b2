"""Round trips per request in a rendered backend: a guard against quietly added queries.

Renders a spec, runs the app in a child interpreter (in-process ASGI, no server) and counts
the SQL statements each request sends, the token check included. On SQLite every statement
goes through SQLAlchemy; on PostgreSQL the record routes' statements go straight to asyncpg
(app/core/database.py), so asyncpg's own query log counts those, a pool's reset included.
No timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wizard import blueprints
from wizard.spec import load_spec

REPO_ROOT = Path(__file__).resolve().parent.parent

# Runs inside the rendered project. Prints {"counts": {request: n}, "statements": {...}}.
DRIVER = textwrap.dedent(
    """
    import asyncio, json, sys
    from alembic import command
    from alembic.config import Config

    command.upgrade(Config("alembic.ini"), "head")

    from httpx import ASGITransport, AsyncClient
    from sqlalchemy import event, update

    from app.__main__ import create_admin
    from app.core.db import SessionLocal, engine
    from app.models import User
    from app.main import app

    PASSWORD = "correct horse battery staple"
    plan = json.loads(sys.argv[1])
    sent = []


    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        sent.append(" ".join(statement.split())[:160])


    import asyncpg

    open_pool = asyncpg.create_pool

    def logged_pool(*args, init=None, **kwargs):
        async def log_queries(connection):
            if init is not None:
                await init(connection)
            connection.add_query_logger(lambda record: sent.append(" ".join(record.query.split())[:160]))
        return open_pool(*args, init=log_queries, **kwargs)

    asyncpg.create_pool = logged_pool


    async def main():
        await create_admin("admin@example.com", PASSWORD)
        counts, statements, ids = {}, {}, {}
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://app") as client:
            async def token(email):
                if email != "admin@example.com":
                    r = await client.post("/auth/signup", json={"email": email, "password": PASSWORD})
                    assert r.status_code == 202, r.text
                    # What opening the sign-up email's link does (only confirmed accounts
                    # sign in with a password).
                    async with SessionLocal() as db:
                        await db.execute(
                            update(User).where(User.email == email).values(email_verified=True)
                        )
                        await db.commit()
                r = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
                assert r.status_code == 200, r.text
                return {"Authorization": "Bearer " + r.json()["access_token"]}

            people = {"admin": await token("admin@example.com"), "user": await token("user@example.com")}
            for step in plan:
                path = step["path"].format(**ids)
                body = {k: (ids[v[1:]] if isinstance(v, str) and v.startswith("$") else v)
                        for k, v in step.get("body", {}).items()}
                headers = people.get(step.get("as", ""), {})
                sent.clear()
                if step["method"] == "POST":
                    r = await client.post(path, json=body, headers=headers)
                else:
                    r = await client.get(path, headers=headers)
                assert r.status_code == step["status"], (step, r.status_code, r.text)
                if "save" in step:
                    ids[step["save"]] = r.json()["id"]
                if "count" in step:
                    counts[step["count"]] = len(sent)
                    statements[step["count"]] = list(sent)
        print(json.dumps({"counts": counts, "statements": statements}))

    asyncio.run(main())
    """
)

STUDIO_PLAN = [
    {
        "method": "POST",
        "path": "/api/studios",
        "as": "admin",
        "body": {"name": "Loft"},
        "status": 201,
        "save": "studio",
    },
    {
        "method": "POST",
        "path": "/api/classes",
        "as": "admin",
        "status": 201,
        "save": "cls",
        "body": {"studio": "$studio", "starts_at": "2027-03-01T10:00:00Z", "capacity": 8},
    },
    # A booking checks who owns its class (its create rule reads it), then inserts.
    {
        "method": "POST",
        "path": "/api/bookings",
        "as": "user",
        "body": {"class": "$cls"},
        "status": 201,
        "save": "booking",
        "count": "create",
    },
    {
        "method": "GET",
        "path": "/api/bookings/{booking}",
        "as": "user",
        "status": 200,
        "count": "get",
    },
    {
        "method": "GET",
        "path": "/api/bookings?limit=20",
        "as": "user",
        "status": 200,
        "count": "list",
    },
    {"method": "GET", "path": "/api/studios/{studio}", "status": 200, "count": "public get"},
    {"method": "GET", "path": "/api/studios?limit=20", "status": 200, "count": "public list"},
]

BENCH_PLAN = [
    {
        "method": "POST",
        "path": "/api/bookings",
        "as": "user",
        "status": 201,
        "save": "booking",
        "count": "create",
        "body": {"title": "Yoga", "starts_at": "2027-03-01T10:00:00Z", "seats": 2},
    },
    {
        "method": "GET",
        "path": "/api/bookings/{booking}",
        "as": "user",
        "status": 200,
        "count": "get",
    },
    {
        "method": "GET",
        "path": "/api/bookings?limit=20",
        "as": "user",
        "status": 200,
        "count": "list",
    },
]

# At most this many statements per request. The user's first request (the create) checks
# the token's session; later ones within SESSION_CACHE_SECONDS reuse that check.
CASES = {
    "studio": (
        REPO_ROOT / "examples" / "studio-booking.yaml",
        STUDIO_PLAN,
        {"create": 3, "get": 1, "list": 1, "public get": 1, "public list": 1},
    ),
    "bench": (REPO_ROOT / "bench" / "booking.yaml", BENCH_PLAN, {"create": 2, "get": 1, "list": 1}),
}


# On PostgreSQL a signed-in request's statement on the direct path carries its caller for
# row-level security in a transaction of its own: BEGIN with set_config(..., true) in one
# batch, the statement, COMMIT (app/core/database.py). Anonymous ones need no caller and stay one.
CALLER_ROUND_TRIPS = 2
SIGNED_IN_DIRECT_STATEMENTS = {
    "studio": {"create": 2, "get": 1, "list": 1},
    "bench": {"create": 1, "get": 1, "list": 1},
}


def count_statements(case: str, tmp_path: Path, database_url: str) -> None:
    spec_file, plan, limits = CASES[case]
    if database_url.startswith("postgres"):
        signed_in = SIGNED_IN_DIRECT_STATEMENTS[case]
        limits = {
            name: limit + CALLER_ROUND_TRIPS * signed_in.get(name, 0)
            for name, limit in limits.items()
        }
    project = tmp_path / "project"
    blueprints.render(load_spec(spec_file), project)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "development",
        "SECRET_KEY": "query-count-test-" + "k" * 40,
        "PYTHONPATH": str(project),
    }
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(plan)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    counts, statements = result["counts"], result["statements"]
    too_many = {
        name: {"sent": counts[name], "allowed": limit, "statements": statements[name]}
        for name, limit in limits.items()
        if counts[name] > limit
    }
    assert not too_many, json.dumps(too_many, indent=2)


@pytest.mark.parametrize("case", sorted(CASES))
def test_statements_per_request(case: str, tmp_path: Path) -> None:
    count_statements(case, tmp_path, f"sqlite:///{tmp_path / 'app.db'}")


@pytest.mark.postgres
@pytest.mark.parametrize("case", sorted(CASES))
def test_statements_per_request_on_postgresql(case: str, tmp_path: Path, postgres) -> None:
    count_statements(case, tmp_path, postgres.create_database(f"counts_{case}"))
