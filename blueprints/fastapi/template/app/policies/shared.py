"""What every object's policy module shares."""

from typing import Any

from fastapi import HTTPException
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession


async def ref_owner(
    db: AsyncSession, model: Any, record_id: int, readable: ColumnElement[bool], field: str
) -> int | None:
    """The owner of the record a reference field points to.

    A record that is absent and one the user may not read get the same 422, so a
    reference cannot be used to probe for hidden records.
    """
    row = (await db.execute(select(model.owner_id).where(model.id == record_id, readable))).first()
    if row is None:
        raise HTTPException(
            status_code=422,
            detail=f"{field}: there is no record {record_id} you can use here",
        )
    return row.owner_id
