"""What every object's policy module shares."""

from typing import Any

from fastapi import HTTPException
from sqlalchemy import ColumnElement, select

from app.core.database import database


async def ref_owner(
    model: Any, record_id: int, readable: ColumnElement[bool], field: str
) -> int | None:
    """The owner of the record a reference field points to.

    A record that is absent and one the user may not read get the same 422, so a
    reference cannot be used to probe for hidden records.
    """
    row = await database.fetch_one(select(model.owner_id).where(model.id == record_id, readable))
    if row is None:
        raise HTTPException(
            status_code=422,
            detail=f"{field}: there is no record {record_id} you can use here",
        )
    return row["owner_id"]
