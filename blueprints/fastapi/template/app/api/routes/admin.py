"""What only admins do: see who has an account, and grant roles."""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from app.api.contract import errors
from app.api.deps import AdminUser, SessionDep
from app.api.records import Limit, Offset, RecordId, not_found
from app.auth.sessions import recent_sessions
from app.models.users import User
from app.schemas.auth import RolesForm, UserList, UserOut

router = APIRouter(prefix="/admin", tags=["admin"])
Email = Annotated[str | None, Query(max_length=320, description="Only the account with this email")]


@router.get("/users", response_model=UserList, responses=errors(401, 403, 422))
async def list_users(
    admin: AdminUser, db: SessionDep, email: Email = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, object]:
    """Everyone with an account and their roles, newest first (`shipyard users` shows it)."""
    query = select(User)
    if email is not None:
        query = query.where(User.email == email.strip().lower())
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    page = query.order_by(User.id.desc()).limit(limit).offset(offset)
    return {"items": (await db.scalars(page)).all(), "total": total or 0}


@router.put("/users/{user_id}/roles", response_model=UserOut, responses=errors(400, 401, 403, 404, 422))
async def set_roles(user_id: RecordId, form: RolesForm, admin: AdminUser, db: SessionDep) -> User:
    """Replace a user's roles (unknown roles are refused with a 422)."""
    user = await db.get(User, user_id)
    if user is None:
        raise not_found("user")
    user.roles = sorted(set(form.roles))
    await db.commit()
    recent_sessions.forget(user_id=user.id)
    return user
