"""Development helpers; not mounted when ENVIRONMENT=production."""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from app.api.contract import errors
from app.api.deps import AdminUser, SessionDep
from app.core.alerts import recent
from app.core.logging import request_id
from app.core.monitoring import recent_sentry
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
async def provoke_error(
    admin: AdminUser,
    same: Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")] = None,
) -> None:
    """Fails with an unhandled error: the launch check then looks for its alert. Errors with
    the same `same` are identical (one group of alerts); without it each is its own."""
    which = f"group {same}" if same else f"request {request_id.get()}"
    raise DeliberateError(f"a deliberate error to test alerts ({which})")


@router.get("/alerts", include_in_schema=False)
async def sent_alerts(admin: AdminUser) -> list[dict[str, object]]:
    """The alerts this server sent lately, newest first, and whether each was delivered."""
    return recent()


@router.get("/sentry", include_in_schema=False)
async def sentry_deliveries(admin: AdminUser) -> list[dict[str, object]]:
    """The error events Sentry's ingest endpoint answered lately (status, request ids)."""
    return recent_sentry()
