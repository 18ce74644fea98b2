"""What every object's policy module shares."""

from typing import Any

from fastapi import HTTPException
from sqlalchemy import ColumnElement, bindparam, select

from app.core.database import database
from app.models.users import User


# The signed-in caller in the rules' conditions. The conditions are built once, at import;
# a statement that uses one binds the caller's id under this name when it runs. No column
# can be called this (the spec's names start with a letter), so it never clashes with the
# values an UPDATE sets.
CALLER = bindparam("_caller_id")


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
