"""The database: async engine, sessions, the declarative base and shared column types."""

from collections.abc import AsyncIterator
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from app.core.clock import clock
from app.core.config import settings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Now, by the app's clock (tests move it instead of sleeping)."""
    return clock.now()


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# No pre-ping: it would cost a round trip on every request. Connections are recycled
# instead, and a connection the database dropped fails one request, not all.
# A fixed pool per worker (DB_POOL_SIZE): requests beyond it wait for a connection rather
# than opening and closing extra ones, each of which costs several round trips to set up.
# app/core/admission.py lets in no more requests than the pool has connections; the small
# overflow covers the moment a request holds two (a sign-in limit counter beside its session).
# The API's own database role (API_DATABASE_URL): on PostgreSQL it owns nothing and row-level
# security applies to it; migrations run as the tables' owner (alembic/env.py).
engine = create_async_engine(
    settings.api_sqlalchemy_url,
    pool_recycle=1800,
    **({} if settings.is_sqlite else {"pool_size": settings.db_pool_size, "max_overflow": 2}),
)

if settings.is_sqlite:

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
        # SQLite ignores foreign keys unless asked, per connection.
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # Safe with WAL (only a power cut can lose the last commits) and much faster.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


SessionLocal = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

# Who the request is for, as PostgreSQL's row-level security policies read it: the signed-in
# user's id, set by app/api/deps.py, None when anonymous. Each transaction hands it to the
# database with set_config(..., true): local to that transaction, so a pooled connection
# never carries one request's caller into the next (a session-wide SET would).
caller: ContextVar[int | None] = ContextVar("caller", default=None)
CALLER_SETTING = "app.user_id"
CREATING_SETTING = "app.creating"  # the direct path's INSERTs only (app/core/database.py)


def caller_statement(user_id: int):  # type: ignore[no-untyped-def]
    """SELECT set_config('app.user_id', <id>, true), the id a bound value."""
    return select(func.set_config(CALLER_SETTING, str(user_id), True))


if not settings.is_sqlite:

    @event.listens_for(Session, "after_begin")
    def _set_caller(_session, _transaction, connection) -> None:  # type: ignore[no-untyped-def]
        # No caller: nothing to set, a new transaction starts without one.
        user_id = caller.get()
        if user_id is not None:
            connection.execute(caller_statement(user_id))


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session
