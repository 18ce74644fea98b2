"""Single-use tokens sent by email: stored hashed, short-lived, spent on first use."""

from datetime import timedelta

from sqlalchemy import insert, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import settings
from app.core.db import UTCDateTime, utcnow
from app.core.security import hash_token, new_token
from app.models.users import Token, User


async def issue(
    db: AsyncSession, user_id: int, purpose: str, lifetime: timedelta | None = None
) -> str:
    """Create a token for `purpose` and return it in clear (only the email ever sees it).
    It lasts `lifetime`, or EMAIL_TOKEN_HOURS when not given."""
    token = new_token()
    db.add(
        Token(
            user_id=user_id,
            purpose=purpose,
            token_hash=hash_token(token),
            expires_at=utcnow() + (lifetime or timedelta(hours=settings.email_token_hours)),
        )
    )
    await db.flush()
    return token


async def issue_for_address(
    db: AsyncSession, email: str, purpose: str, lifetime: timedelta
) -> str | None:
    """A token for the active account that uses `email`, or None when no account does.

    The work is the same either way, so the time taken says nothing about who has an
    account: a token is drawn and hashed, and one INSERT ... SELECT writes its row only
    if the address has an account (looking the account up first and inserting only for a
    known one made those requests measurably slower)."""
    token = new_token()
    if db.get_bind().dialect.name == "postgresql":
        # Otherwise the commit waits for the disk when the token was written, and not when
        # nothing was: milliseconds that would tell who has an account. A crash in the
        # moment after the commit may lose the token; its owner asks for another link.
        await db.execute(text("SET LOCAL synchronous_commit TO OFF"))
    account = select(
        User.id,
        literal(purpose),
        literal(hash_token(token)),
        literal(utcnow() + lifetime, UTCDateTime()),
    ).where(User.email == email, User.is_active)
    issued = await db.scalar(
        insert(Token)
        .from_select(["user_id", "purpose", "token_hash", "expires_at"], account)
        .returning(Token.id)
    )
    return token if issued is not None else None


async def spend(db: AsyncSession, token: str, purpose: str) -> int | None:
    """Use a token up; returns its user's id, or None if it is unknown, used or expired."""
    user_id = await db.scalar(
        update(Token)
        .where(
            Token.token_hash == hash_token(token),
            Token.purpose == purpose,
            Token.used_at.is_(None),
            Token.expires_at > utcnow(),
        )
        .values(used_at=utcnow())
        .returning(Token.user_id)
    )
    return user_id


async def pending(db: AsyncSession, user_id: int, purpose: str) -> int:
    """How many unused tokens a user holds (tests and rate limits use it)."""
    rows = await db.scalars(
        select(Token.id).where(
            Token.user_id == user_id, Token.purpose == purpose, Token.used_at.is_(None)
        )
    )
    return len(rows.all())
