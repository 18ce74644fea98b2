"""Delivery of emails and texts behind one small adapter.

Development and staging keep every message in the database (GET /dev/outbox shows
them); production logs that a message was due until a real sender (SMTP, an SMS
provider) is configured.
"""

from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import settings
from app.core.logging import logger
from app.models.outbox import OutboxMessage

Channel = Literal["email", "sms"]


class Outbox(Protocol):
    async def send(
        self, db: AsyncSession, channel: Channel, to: str, subject: str, body: str
    ) -> None: ...


class DatabaseOutbox:
    """Keeps messages where developers can read them; sends nothing."""

    async def send(
        self, db: AsyncSession, channel: Channel, to: str, subject: str, body: str
    ) -> None:
        db.add(OutboxMessage(channel=channel, recipient=to, subject=subject, body=body))
        logger.info("message kept in the outbox", extra={"fields": {"channel": channel}})


class LogOutbox:
    """Production without a configured sender: record that a message was due, never its body."""

    async def send(
        self, db: AsyncSession, channel: Channel, to: str, subject: str, body: str
    ) -> None:
        logger.warning(
            "no sender configured; message not delivered",
            extra={"fields": {"channel": channel, "subject": subject}},
        )


def get_outbox() -> Outbox:
    return LogOutbox() if settings.environment == "production" else DatabaseOutbox()
