"""Development helpers; not mounted when ENVIRONMENT=production."""

from fastapi import APIRouter
from sqlalchemy import select

from app.api.contract import errors
from app.api.deps import AdminUser, SessionDep
from app.core.alerts import recent
from app.core.logging import request_id
from app.models.outbox import OutboxMessage
from app.schemas.auth import OutboxItem

router = APIRouter(prefix="/dev", tags=["dev"])


@router.get("/outbox", response_model=list[OutboxItem], responses=errors(401, 403))
async def outbox(admin: AdminUser, db: SessionDep) -> list[OutboxMessage]:
    """The emails and texts the app "sent", newest first."""
    messages = await db.scalars(
        select(OutboxMessage).order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
    )
    return list(messages.all())


class DeliberateError(RuntimeError):
    """Raised on purpose, to prove that an error reaches the alert destination."""


@router.post("/error", include_in_schema=False)
async def provoke_error(admin: AdminUser) -> None:
    """Fails with an unhandled error: the launch check then looks for its alert."""
    raise DeliberateError(f"a deliberate error to test alerts (request {request_id.get()})")


@router.get("/alerts", include_in_schema=False)
async def sent_alerts(admin: AdminUser) -> list[dict[str, object]]:
    """The alerts this server sent lately, newest first, and whether each was delivered."""
    return recent()
