"""app/core/database.py: single statements, compiled once per shape, run on the driver."""

from datetime import timedelta

from sqlalchemy import bindparam, insert, select

from app.core.database import database
from app.core.db import engine
from app.models.users import User


async def test_one_compiled_shape_serves_every_value(people) -> None:
    # Same statement shape, different values: the cached compilation must not keep the first.
    for actor in ("owner", "other", "admin"):
        user = people[actor].user
        row = await database.fetch_one(select(User.email).where(User.id == user.id))
        assert row == {"email": user.email}


async def test_bound_parameters_are_filled_by_name(people) -> None:
    query = select(User.id).where(User.email == bindparam("email"))
    for actor in ("owner", "other"):
        user = people[actor].user
        assert await database.fetch_all(query, email=user.email) == [{"id": user.id}]
    assert await database.fetch_one(query, email="nobody@example.com") is None


async def test_an_insert_gets_the_defaults_the_model_computes(clock) -> None:
    clock.advance(timedelta(days=3))
    row = await database.fetch_one(
        insert(User).values(email="new@example.com").returning(User.id, User.created_at, User.is_active)
    )
    assert row is not None
    assert row["created_at"] == clock.now()
    assert row["is_active"] is True


def test_postgresql_runs_on_the_driver_and_sqlite_through_sqlalchemy() -> None:
    assert database.direct == (engine.dialect.name == "postgresql")
