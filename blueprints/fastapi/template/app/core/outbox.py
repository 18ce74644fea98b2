"""Where routes send emails and texts from: `await get_outbox().send(db, channel, to, subject, body)`.

The postman in app/delivery does the work: outside production it keeps a copy of
every message for GET /dev/outbox, and it hands messages to SMTP or the SMS
provider when they are configured. A message that cannot be sent raises
app.delivery.DeliveryFailed.
"""

from app.delivery import Channel, Postman, get_postman

Outbox = Postman

__all__ = ["Channel", "Outbox", "get_outbox"]


def get_outbox() -> Outbox:
    return get_postman()
