"""Passwords (argon2id), access tokens (JWT, HS256 only) and hashed opaque tokens."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.config import settings
from app.core.db import utcnow

# OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
_hasher = PasswordHasher(memory_cost=19456, time_cost=2, parallelism=1)
_ALGORITHMS = ["HS256"]
# A real hash of a random password: verifying against it costs the same as a real check,
# so an unknown email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: str
    expires_at: datetime


class InvalidToken(Exception):
    """The token is malformed, expired, or not ours."""


def create_access_token(user_id: int, session_id: str) -> str:
    now = utcnow()
    payload = {
        "sub": str(user_id),
        "sid": session_id,
        "aud": settings.app_name,
        "iss": settings.app_name,
        "iat": now,
        "exp": now + timedelta(minutes=settings.access_token_minutes),
        # Unique, so a token handed out after a change (a refresh after a role grant) is one
        # no worker has remembered yet, even within the same second (app/auth/sessions.py).
        "jti": secrets.token_urlsafe(8),
    }
    return jwt.encode(payload, settings.secret_key, algorithm=_ALGORITHMS[0])


def decode_access_token(token: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=_ALGORITHMS,
            audience=settings.app_name,
            issuer=settings.app_name,
            options={"require": ["exp", "sub", "sid", "aud", "iss"]},
        )
        return AccessClaims(
            user_id=int(payload["sub"]),
            session_id=str(payload["sid"]),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidToken(str(error)) from error


def new_token() -> str:
    """A random, URL-safe token for refresh tokens and email links."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256 digests: a leaked table reveals no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
