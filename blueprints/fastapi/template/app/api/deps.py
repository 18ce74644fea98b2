"""Dependencies every route uses: the database session and the signed-in user."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.sessions import user_for_access_token
from app.core.db import caller, get_session
from app.models.users import User

SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


class BearerUser(HTTPBearer):
    """The caller, from the bearer token, or None without one; a bad, expired or revoked
    token is a 401. A security scheme itself, so /docs offers "Authorize", and a request
    finds its user in one dependency rather than two."""

    async def __call__(self, request: Request) -> User | None:  # type: ignore[override]
        credentials = await super().__call__(request)
        caller.set(None)  # until the token is checked, the database sees an anonymous caller
        if credentials is None:
            return None
        # One statement, finished before the route runs: a request holds one database
        # connection at a time (app/core/admission.py relies on it).
        found = await user_for_access_token(credentials.credentials)
        if found is None:
            raise _unauthorized("Your sign-in has expired or was revoked; sign in again.")
        user, session_id = found
        request.state.session_id = session_id
        caller.set(user.id)
        return user


OptionalUser = Annotated[User | None, Depends(BearerUser(auto_error=False, scheme_name="HTTPBearer"))]


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
