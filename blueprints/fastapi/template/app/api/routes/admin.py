"""What only admins do: grant roles."""

from fastapi import APIRouter

from app.api.contract import errors
from app.api.deps import AdminUser, SessionDep
from app.api.records import RecordId, not_found
from app.auth.sessions import recent_sessions
from app.models.users import User
from app.schemas.auth import RolesForm, UserOut

router = APIRouter(prefix="/admin", tags=["admin"])


@router.put("/users/{user_id}/roles", response_model=UserOut, responses=errors(401, 403, 404, 422))
async def set_roles(user_id: RecordId, form: RolesForm, admin: AdminUser, db: SessionDep) -> User:
    """Replace a user's roles (unknown roles are refused with a 422)."""
    user = await db.get(User, user_id)
    if user is None:
        raise not_found("user")
    user.roles = sorted(set(form.roles))
    await db.commit()
    recent_sessions.forget(user_id=user.id)
    return user
