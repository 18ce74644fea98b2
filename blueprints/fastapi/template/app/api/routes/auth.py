"""Routes every login method shares: refresh the tokens, sign out, who am I."""

from fastapi import APIRouter, HTTPException, Request, Response

from app.api.contract import errors
from app.api.deps import CurrentUser, SessionDep
from app.auth import limits, sessions
from app.models.users import User
from app.schemas.auth import RefreshForm, TokenPair, UserOut

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/refresh", response_model=TokenPair, responses=errors(400, 401, 422, 429))
async def refresh(form: RefreshForm, request: Request, db: SessionDep) -> TokenPair:
    """A new access token and a new refresh token; the one sent is used up."""
    await limits.hit(limits.REFRESH_PER_IP, limits.client_ip(request))
    pair = await sessions.rotate(db, form.refresh_token)
    if pair is None:
        raise HTTPException(
            401, "This sign-in has ended; sign in again.", headers={"WWW-Authenticate": "Bearer"}
        )
    return pair


@router.post("/logout", status_code=204, responses=errors(401))
async def logout(request: Request, user: CurrentUser, db: SessionDep) -> Response:
    """End this session: its access and refresh tokens stop working at once."""
    await sessions.revoke(db, request.state.session_id)
    await db.commit()
    return Response(status_code=204)


@router.get("/me", response_model=UserOut, responses=errors(401))
async def me(user: CurrentUser) -> User:
    return user
