"""What every object's routes share: paging, versions (ETag / If-Match) and refusals."""

import re
from functools import lru_cache
from typing import Annotated, Any, NoReturn

from fastapi import Header, HTTPException, Path, Query
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Row, database
from app.models.users import User
from app.policies.shared import as_caller
from app.schemas.common import INT_MAX

# UPDATE ... RETURNING hands back the new row: no second SELECT, no stale identity map.
RETURNING_OPTIONS = {"synchronize_session": False, "populate_existing": True}


# Paging, as plain query parameters: a dependency of their own would cost a request more.
Limit = Annotated[int, Query(ge=1, le=100, description="How many records, at most (1-100)")]
Offset = Annotated[int, Query(ge=0, le=INT_MAX, description="How many to skip, newest first")]
RecordId = Annotated[int, Path(ge=1, le=INT_MAX, description="The record's id")]
IfMatch = Annotated[str | None, Header(description='The version you edited, as an ETag: "3"')]
# ASCII digits only: str.isdigit() also takes "²", which int() then refuses.
_VERSION = re.compile(r'(?:W/)?("?)([0-9]{1,10})\1', re.ASCII)


def require_sign_in(user: User | None, rule_is_public: bool) -> None:
    """Anonymous callers get 401 for anything the rule does not open to the public."""
    if user is None and not rule_is_public:
        raise HTTPException(401, "Sign in first.", headers={"WWW-Authenticate": "Bearer"})


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None, body_version: int | None) -> int | None:
    """The version the client edited, from If-Match or the body; None means "don't check"."""
    if if_match is None or if_match.strip() == "*":
        return body_version
    found = _VERSION.fullmatch(if_match.strip())
    if found is None or int(found[2]) > INT_MAX:
        raise HTTPException(422, 'If-Match: expected a version like "3"')
    return int(found[2])


async def count_rows(
    model: Any, readable: ColumnElement[bool], rows: list[Row], offset: int, user: User | None
) -> int:
    """The total for a list page. The page query carries it as a window count; only an
    empty page past the first needs this second, cheap COUNT."""
    if rows:
        return int(rows[0]["total"])
    if offset == 0:
        return 0
    counted = select(func.count().label("total")).select_from(model).where(readable)
    found = await database.fetch_one(counted, **as_caller(user))
    return int(found["total"]) if found else 0


@lru_cache(maxsize=1024)
def filtered(statement: Select[Any], condition: ColumnElement[bool]) -> Select[Any]:
    """`statement.where(condition)`, built once per pair: building a statement costs more
    than running it. The policies hand out a few conditions built once (true(), false(),
    one per rule, with the caller bound by name), so a route has only a handful of pairs.
    """
    return statement.where(condition)


def not_found(label: str) -> HTTPException:
    return HTTPException(404, f"There is no {label} with that id, or you may not see it.")


async def explain_refusal(
    db: AsyncSession,
    user: User | None,
    model: Any,
    record_id: int,
    readable: ColumnElement[bool],
    allowed: ColumnElement[bool],
    action: str,
    label: str,
    rule: str,
) -> NoReturn:
    """An UPDATE or DELETE touched no row: say why, as 404, 403 or 409."""
    query = select(model.version, allowed.label("allowed")).where(model.id == record_id, readable)
    row = (await db.execute(query, as_caller(user))).first()
    if row is None:
        raise not_found(label)
    if not row.allowed:
        raise HTTPException(
            403, f"You may see this {label} but not {action} it: the rule is '{rule}'."
        )
    raise HTTPException(
        409,
        f"This {label} was changed by someone else (it is now version {row.version}). "
        "Load it again, then make your change.",
        headers={"ETag": etag(row.version)},
    )
