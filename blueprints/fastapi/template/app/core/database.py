"""Single statements straight on the database driver: the record routes' fast path.

SQLAlchemy builds each statement, as everywhere else in the app, and compiles it once
per shape; on PostgreSQL, asyncpg runs the compiled SQL on a pooled connection of its
own. A read through an ORM session spends more CPU in the session, the identity map and
the result machinery than in everything else the request does, and a list or a get
needs none of them: its rows become JSON. Each statement commits on its own, so use
this only where one statement is the whole change; anything that must commit or roll
back together (updates, deletes, sign-in) keeps the session from app/core/db.py.

On SQLite (local runs, the tests' default) the same statements go through SQLAlchemy.
Rows come back as asyncpg decodes them, which for the column types the app has (text,
numbers, booleans, dates and times, JSON) is what SQLAlchemy returns too.
"""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import Executable
from sqlalchemy.engine import Compiled
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import settings
from app.core.db import CALLER_SETTING, CREATING_SETTING, caller, engine

Row = dict[str, Any]


def _begin_as(user_id: int | None, inserting: bool) -> str:
    """BEGIN and the transaction's caller for row-level security, in one round trip.

    Sent as one simple-protocol batch, which takes no bound values: the only value in its
    text is the caller's id, an int from the verified token, written here as digits (never
    text from a request). `app.creating` marks an INSERT returning its new row, which
    PostgreSQL checks against the read rule too (a rule may let someone create what they
    may not read back). Both settings are local to this transaction (set_config(..., true)),
    so they never stay on the pooled connection.
    """
    if user_id is not None and type(user_id) is not int:
        raise TypeError(f"the caller's id must be an int, not {type(user_id).__name__}")
    caller_id = "" if user_id is None else str(user_id)
    creating = "on" if inserting else ""
    return (
        f"BEGIN; SELECT set_config('{CALLER_SETTING}', '{caller_id}', true), "
        f"set_config('{CREATING_SETTING}', '{creating}', true)"
    )


class _Prepared:
    """A statement compiled for the driver, and what turns its values into arguments."""

    def __init__(self, compiled: Compiled, dialect: Any) -> None:
        self.sql = compiled.string
        self.compiled = compiled
        self.is_insert = bool(getattr(compiled, "isinsert", False))
        self.names: list[str] = list(compiled.positiontup or [])  # type: ignore[attr-defined]
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():  # type: ignore[attr-defined]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor
        # Columns whose default Python computes (created_at, version): SQLAlchemy fills
        # them in while it executes, which this path skips.
        self.defaults = {
            column.key: column.default
            for column in getattr(compiled, "insert_prefetch", ())
            if column.default is not None
        }

    def arguments(self, extracted: Any, params: dict[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(params, extracted_parameters=extracted)
        for key, default in self.defaults.items():
            if values.get(key) is None:
                values[key] = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
        arguments = []
        for name in self.names:
            value = values[name]
            processor = self.processors.get(name)
            arguments.append(value if processor is None or value is None else processor(value))
        return arguments


class Database:
    """`fetch_one` and `fetch_all` for statements that need no transaction around them."""

    def __init__(self, engine: AsyncEngine, pool_size: int) -> None:
        # Autocommit: no BEGIN and COMMIT round trips around a single statement.
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.direct = engine.dialect.driver == "asyncpg"
        self.pool_size = pool_size
        self._prepared: dict[Any, _Prepared] = {}
        self._pool: asyncio.Task[asyncpg.Pool] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def fetch_one(self, statement: Executable, /, **params: Any) -> Row | None:
        rows = await self.fetch_all(statement, **params)
        return rows[0] if rows else None

    async def fetch_all(self, statement: Executable, /, **params: Any) -> list[Row]:
        """The rows as dicts; `params` fill the statement's `bindparam()`s by name."""
        if not self.direct:
            async with self.engine.connect() as connection:
                result = await connection.execute(statement, params)
                return [dict(row) for row in result.mappings()]
        prepared, extracted = self._prepare(statement, params)
        arguments = prepared.arguments(extracted, params)
        pool = await self._driver_pool()
        user_id = caller.get()
        async with pool.acquire() as connection:
            if user_id is None and not prepared.is_insert:
                # Anonymous: nothing to set, one round trip.
                records = await connection.fetch(prepared.sql, *arguments)
            else:
                # In a transaction of its own, so the settings are never left on the pooled
                # connection (the sessions set the caller the same way, app/core/db.py):
                # BEGIN with the settings, the statement, COMMIT: three round trips.
                await connection.execute(_begin_as(user_id, prepared.is_insert))
                try:
                    records = await connection.fetch(prepared.sql, *arguments)
                except asyncpg.PostgresError:
                    # Anything else (a cancelled request) leaves the connection to the
                    # pool's release, which rolls back or closes it.
                    await connection.execute("ROLLBACK")
                    raise
                await connection.execute("COMMIT")
        return [dict(record) for record in records]

    async def close(self) -> None:
        """Close the driver's pool (at shutdown)."""
        task, self._pool = self._pool, None
        loop, self._loop = self._loop, None
        if task is None or loop is not asyncio.get_running_loop():
            return
        try:
            pool = await task
        except (OSError, asyncpg.PostgresError):
            return  # it never opened: nothing to close
        await pool.close()

    def _prepare(self, statement: Executable, params: dict[str, Any]) -> tuple[_Prepared, Any]:
        # The key SQLAlchemy's own statement cache uses (its dogpile caching example uses
        # it too): it names the statement's shape; the extracted parameters are this
        # statement's values, in the order the compiled statement expects them. As in
        # SQLAlchemy, the names of the values given decide an INSERT's columns.
        cache_key = statement._generate_cache_key()  # type: ignore[attr-defined]
        if cache_key is None:
            raise TypeError(f"cannot cache this statement: {statement}")
        columns = sorted(params)
        shape = (cache_key[0], *columns)
        prepared = self._prepared.get(shape)
        if prepared is None:
            dialect = self.engine.dialect
            compiled = statement.compile(dialect=dialect, column_keys=columns, cache_key=cache_key)  # type: ignore[call-arg]
            prepared = self._prepared[shape] = _Prepared(compiled, dialect)
        return prepared, cache_key[1]

    def _driver_pool(self) -> "asyncio.Task[asyncpg.Pool]":
        """asyncpg's pool, opened on first use in each event loop (tests may run several)."""
        loop = asyncio.get_running_loop()
        failed = self._pool is not None and self._pool.done() and (
            self._pool.cancelled() or self._pool.exception() is not None
        )
        if self._pool is None or self._loop is not loop or failed:
            url = self.engine.url.set(drivername="postgresql")
            pool = asyncpg.create_pool(
                url.render_as_string(hide_password=False),
                min_size=1,
                max_size=self.pool_size,
                init=_decode_json,
                reset=_nothing_to_reset,
            )
            self._pool, self._loop = loop.create_task(_opened(pool)), loop
        return self._pool


async def _decode_json(connection: asyncpg.Connection) -> None:
    """JSON columns as Python values, as SQLAlchemy's asyncpg dialect sets them up (its
    bind processors hand over JSON text)."""
    await connection.set_type_codec(
        "json",
        encoder=str.encode,
        decoder=lambda value: json.loads(value.decode()),
        schema="pg_catalog",
        format="binary",
    )


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """These statements leave no session state (SET, LISTEN, locks, cursors) behind, so a
    connection goes back to the pool as it is: asyncpg's default reset is a round trip
    (RESET ALL and more) on every release. An open transaction is still rolled back."""


async def _opened(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool
    return pool


database = Database(engine, settings.db_pool_size)
