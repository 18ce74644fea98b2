"""What PostgreSQL itself enforces, read from its catalog: `python -m app row-security`.

For each table, whether row-level security is on and FORCEd and which policies it has;
for the role the API connects as (API_DATABASE_URL), whether it could skip them all
(superuser, BYPASSRLS) or owns any table. Shipyard's launch check compares this with the
spec's rules. On SQLite there is no row-level security: the API's checks are the only ones.
"""

from typing import Any

from sqlalchemy import text

from app.core.config import settings
from app.core.db import engine

_TABLES = text(
    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
    "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY c.relname"
)
_POLICIES = text(
    "SELECT tablename, policyname, cmd, permissive FROM pg_policies "
    "WHERE schemaname = 'public' ORDER BY tablename, policyname"
)
_ROLE = text(
    "SELECT r.rolname, r.rolsuper, r.rolbypassrls, "
    "(SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid "
    " AND c.relnamespace = 'public'::regnamespace) AS owns "
    "FROM pg_roles r WHERE r.rolname = current_user"
)


async def report() -> dict[str, Any]:
    """The catalog's answer, as JSON-able data."""
    if settings.is_sqlite:
        await engine.dispose()
        return {"database": "sqlite"}
    async with engine.connect() as connection:
        tables = {
            name: {"enabled": enabled, "forced": forced, "policies": []}
            for name, enabled, forced in await connection.execute(_TABLES)
        }
        for table, name, command, permissive in await connection.execute(_POLICIES):
            if table in tables:
                tables[table]["policies"].append(
                    {"name": name, "command": command, "permissive": permissive == "PERMISSIVE"}
                )
        role = (await connection.execute(_ROLE)).one()
    await engine.dispose()
    return {
        "database": "postgresql",
        "api_role": {
            "name": role.rolname,
            "superuser": role.rolsuper,
            "bypassrls": role.rolbypassrls,
            "owns_tables": role.owns,
            "own_url": settings.api_sqlalchemy_url != settings.sqlalchemy_url,
        },
        "tables": tables,
    }
