"""Alembic runs migrations with the app's own engine settings."""

import asyncio
from logging.config import fileConfig

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import context
from app.core.config import settings
from app.core.migration_lock import MIGRATION_LOCK_ID
from app.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=settings.sqlalchemy_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=settings.is_sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=settings.is_sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two deploys (or replicas) that migrate at once run one after the other: the
            # second waits here, then finds the schema at head and has nothing to do. The lock
            # is the transaction's, so it is released when the migrations commit or fail.
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        context.run_migrations()
        if connection.dialect.name == "postgresql":
            _grant_api_role(connection)


def _grant_api_role(connection: Connection) -> None:
    """The API's own role (API_DATABASE_URL): created when missing, owning nothing and
    unable to bypass row-level security, and granted the rows of every table, never the
    tables themselves. Migrations run as the owner (DATABASE_URL), so they can do this."""
    if not settings.api_database_url.strip():
        return
    url = make_url(settings.api_sqlalchemy_url)
    role = url.username
    if not role or role == connection.scalar(text("SELECT current_user")):
        return
    found = connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        # format() quotes the name and the password: neither becomes SQL of its own.
        create = connection.scalar(
            text("SELECT format('CREATE ROLE %I LOGIN NOBYPASSRLS PASSWORD %L', CAST(:role AS text), CAST(:pw AS text))"),
            {"role": role, "pw": url.password or ""},
        )
        connection.exec_driver_sql(create)
    elif found.rolsuper or found.rolbypassrls:
        raise RuntimeError(
            f"API_DATABASE_URL's role {role} can bypass row-level security "
            "(superuser or BYPASSRLS): give the API a role of its own without either"
        )
    quoted = connection.dialect.identifier_preparer.quote(role)
    for grant in (
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"REVOKE ALL ON alembic_version FROM {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
    ):
        connection.exec_driver_sql(grant)


async def run_migrations_online() -> None:
    engine = create_async_engine(settings.sqlalchemy_url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
