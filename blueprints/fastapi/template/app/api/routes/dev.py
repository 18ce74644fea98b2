"""Development helpers; not mounted when ENVIRONMENT=production."""

from fastapi import APIRouter
from sqlalchemy import select

from app.api.contract import errors
from app.api.deps import AdminUser, SessionDep
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
