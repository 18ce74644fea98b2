"""What every object's policy module shares."""

from typing import Any

from fastapi import HTTPException
from sqlalchemy import ARRAY, ColumnElement, Integer, any_, bindparam, cast, func, select

from app.core.config import settings
from app.core.database import database
from app.models.users import User


# The signed-in caller in the rules' conditions. The conditions are built once, at import;
# a statement that uses one binds the caller's id under this name when it runs. No column
# can be called this (the spec's names start with a letter), so it never clashes with the
# values an UPDATE sets.
CALLER = bindparam("_caller_id")


def owner_of(column: Any, target: Any, lookup: str) -> ColumnElement[bool]:
    """owner_of(field): `column` points to a `target` record the caller owns.

    On PostgreSQL through `lookup`, the SECURITY DEFINER function the row-level security
    policies use (alembic/versions/0001_initial.py): the API runs as a role the policies
    bind, so a plain subquery on the target's table would be filtered by that table's own
    read rule, and owner_of does not depend on who may read the target (its owner may not
    be allowed to). The function reads the caller the transaction hands the database
    (app.user_id, app/core/db.py), the same user CALLER binds. On SQLite, the subquery.
    """
    if settings.is_sqlite:
        return column.in_(select(target.id).where(target.owner_id == CALLER))  # type: ignore[no-any-return]
    owned = cast(select(getattr(func, lookup)()).scalar_subquery(), ARRAY(Integer))
    return column == any_(owned)  # type: ignore[no-any-return]


def as_caller(user: User | None) -> dict[str, int | None]:
    """The parameters that bind the rules' conditions to this user."""
    return {"_caller_id": user.id if user is not None else None}


async def ref_owner(
    model: Any, record_id: int, readable: ColumnElement[bool], field: str, user: User | None
) -> int | None:
    """The owner of the record a reference field points to.

    A record that is absent and one the user may not read get the same 422, so a
    reference cannot be used to probe for hidden records.
    """
    query = select(model.owner_id).where(model.id == record_id, readable)
    row = await database.fetch_one(query, **as_caller(user))
    if row is None:
        raise HTTPException(
            status_code=422,
            detail=f"{field}: there is no record {record_id} you can use here",
        )
    return row["owner_id"]
