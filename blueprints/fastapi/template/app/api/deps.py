"""Dependencies every route uses: the database session and the signed-in user."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.sessions import recent_sessions, user_for_access_token
from app.core.db import StatementSessionLocal, get_session
from app.models.users import User

SessionDep = Annotated[AsyncSession, Depends(get_session)]
_bearer = HTTPBearer(auto_error=False)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


async def get_optional_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """The caller, or None without a token. A bad, expired or revoked token is a 401."""
    if credentials is None:
        return None
    found = recent_sessions.get(credentials.credentials)
    if found is None:
        # A session of its own, closed before the route runs: a request holds one database
        # connection at a time (app/core/admission.py relies on it).
        async with StatementSessionLocal() as db:
            found = await user_for_access_token(db, credentials.credentials)
    if found is None:
        raise _unauthorized("Your sign-in has expired or was revoked; sign in again.")
    user, session_id = found
    request.state.session_id = session_id
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


async def get_current_user(user: OptionalUser) -> User:
    if user is None:
        raise _unauthorized("Sign in first.")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(403, "Only admins may do this.")
    return user


AdminUser = Annotated[User, Depends(get_admin)]
