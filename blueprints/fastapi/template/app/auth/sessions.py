"""Login sessions: every login method ends in start_session; refresh rotates, logout revokes."""

import hmac
import uuid
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import settings
from app.core.database import database
from app.core.db import utcnow
from app.core.security import (
    InvalidToken,
    create_access_token,
    decode_access_token,
    hash_token,
    new_token,
)
from app.models.users import Session, User
from app.schemas.auth import TokenPair


async def start_session(db: AsyncSession, user: User) -> TokenPair:
    """Open a session for a user who just proved who they are; the caller commits."""
    session_id = uuid.uuid4().hex
    refresh_token = f"{session_id}.{new_token()}"
    db.add(
        Session(
            id=session_id,
            user_id=user.id,
            refresh_hash=hash_token(refresh_token),
            expires_at=utcnow() + timedelta(days=settings.refresh_token_days),
        )
    )
    await db.flush()
    return TokenPair(
        access_token=create_access_token(user.id, session_id), refresh_token=refresh_token
    )


class RecentSessions:
    """Access tokens this worker checked in the last few seconds, with their user.

    Most requests then need neither the token's signature checked again nor the session
    looked up: Parse Server does the same (its cacheTTL, 5 s). The price is bounded: a
    session revoked or a role changed through another worker is honoured here for up to
    SESSION_CACHE_SECONDS; through this worker, at once. 0 turns the cache off.
    """

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, tuple[datetime, User, str]] = {}

    def get(self, token: str) -> tuple[User, str] | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        until, user, session_id = entry
        if until <= utcnow():
            del self._entries[token]
            return None
        return user, session_id

    def remember(self, token: str, user: User, session_id: str, expires: datetime) -> None:
        seconds = settings.session_cache_seconds
        if seconds <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()  # simpler than LRU, and refilled within seconds
        until = min(utcnow() + timedelta(seconds=seconds), expires)
        self._entries[token] = (until, user, session_id)

    def clear(self) -> None:
        self._entries.clear()

    def forget(self, *, session_id: str | None = None, user_id: int | None = None) -> None:
        stale = [
            token
            for token, (_, user, sid) in self._entries.items()
            if sid == session_id or user.id == user_id
        ]
        for token in stale:
            del self._entries[token]


recent_sessions = RecentSessions()


# The token check: one indexed statement, compiled once (app/core/database.py).
SIGNED_IN_USER = (
    select(*User.__table__.columns)
    .join(Session, Session.user_id == User.id)
    .where(
        Session.id == bindparam("session_id"),
        Session.revoked_at.is_(None),
        User.id == bindparam("user_id"),
        User.is_active,
    )
)


async def user_for_access_token(token: str) -> tuple[User, str] | None:
    """The user behind a valid access token whose session is still open: one indexed query,
    unless this worker checked the same token a moment ago.

    The user is not attached to any database session: routes read it (id, roles) and load
    whatever they change in their own session.
    """
    if (recent := recent_sessions.get(token)) is not None:
        return recent
    try:
        claims = decode_access_token(token)
    except InvalidToken:
        return None
    row = await database.fetch_one(
        SIGNED_IN_USER, session_id=claims.session_id, user_id=claims.user_id
    )
    if row is None:
        return None
    user = User(**row)
    recent_sessions.remember(token, user, claims.session_id, claims.expires_at)
    return user, claims.session_id


async def rotate(db: AsyncSession, refresh_token: str) -> TokenPair | None:
    """Trade a refresh token for a new pair. Each refresh token works once: presenting
    an old one again means a copy leaked, so the whole session is revoked."""
    session_id = refresh_token.partition(".")[0]
    session = await db.get(Session, session_id) if session_id else None
    if session is None or session.revoked_at is not None or session.expires_at <= utcnow():
        return None
    presented = hash_token(refresh_token)
    if not hmac.compare_digest(session.refresh_hash, presented):
        await revoke(db, session_id)
        await db.commit()
        return None
    user = await db.get(User, session.user_id)
    if user is None or not user.is_active:
        return None
    fresh = f"{session_id}.{new_token()}"
    # Conditional on the old hash, so two concurrent refreshes cannot both succeed.
    result = await db.execute(
        update(Session)
        .where(Session.id == session_id, Session.refresh_hash == presented)
        .values(refresh_hash=hash_token(fresh))
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    await db.commit()
    return TokenPair(access_token=create_access_token(user.id, session_id), refresh_token=fresh)


async def revoke(db: AsyncSession, session_id: str) -> None:
    recent_sessions.forget(session_id=session_id)
    await db.execute(
        update(Session)
        .where(Session.id == session_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
