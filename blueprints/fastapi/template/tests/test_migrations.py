"""The migrations and the models describe the same schema, and only one migration runs at once."""

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from app.core.db import engine
from app.core.migration_lock import MIGRATION_LOCK_ID
from app.models import Base

PROJECT = Path(__file__).resolve().parent.parent
# Sessions waiting for the migration lock (an advisory lock's key is split over two columns).
_WAITING = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    " AND ((classid::bigint << 32) | objid::bigint) = :id"
)


async def test_models_match_the_migrations():
    def differences(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_a_migration_waits_while_another_holds_the_lock():
    if engine.dialect.name != "postgresql":
        pytest.skip("the migration lock is PostgreSQL's (SQLite allows one writer anyway)")
    async with engine.connect() as holder:
        await holder.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        upgrade = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "alembic", "upgrade", "head"),
            cwd=PROJECT,
            env=dict(os.environ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            # The migration is seen waiting for the lock, and not finished while it is held.
            waiting = 0
            for _ in range(600):
                waiting = await holder.scalar(text(_WAITING), {"id": MIGRATION_LOCK_ID})
                if waiting or upgrade.returncode is not None:
                    break
                await asyncio.sleep(0.05)
            assert waiting == 1
            assert upgrade.returncode is None
        finally:
            await holder.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
    output, _ = await asyncio.wait_for(upgrade.communicate(), 60)
    assert upgrade.returncode == 0, output.decode()
