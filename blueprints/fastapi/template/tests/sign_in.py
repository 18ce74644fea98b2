"""Helpers for the sign-in tests: read the outbox, call from another address, fill limits."""

import re
from contextlib import asynccontextmanager

from httpx import ASGITransport, AsyncClient
from sqlalchemy import update

from app.auth import limits
from app.core.db import SessionLocal
from app.main import app
from app.models import User

TOKEN = re.compile(r"token=([A-Za-z0-9_\-]+)")
CODE = re.compile(r"\b(\d{6})\b")


async def outbox(client, admin, to: str | None = None) -> list[dict]:
    """The messages GET /dev/outbox lists (newest first), optionally only those to `to`."""
    response = await client.get("/dev/outbox", headers=admin.headers)
    assert response.status_code == 200, response.text
    return [m for m in response.json() if to is None or m["to"] == to]


async def last_token(client, admin, to: str) -> str:
    return TOKEN.search((await outbox(client, admin, to))[0]["body"]).group(1)


async def last_code(client, admin, to: str) -> str:
    return CODE.search((await outbox(client, admin, to))[0]["body"]).group(1)


async def confirm_address(email: str) -> None:
    """What opening the sign-up email's link does: the address is confirmed."""
    async with SessionLocal() as db:
        await db.execute(
            update(User).where(User.email == email.lower()).values(email_verified=True)
        )
        await db.commit()


async def sign_up_confirmed(client, email: str, password: str):
    """Sign up through the API, then confirm the address (only confirmed accounts sign in
    with a password)."""
    response = await client.post("/auth/signup", json={"email": email, "password": password})
    if response.status_code == 202:
        await confirm_address(email)
    return response


@asynccontextmanager
async def client_from(ip: str):
    """A client whose requests come from `ip` (per-IP limits see it as another caller)."""
    transport = ASGITransport(app=app, client=(ip, 40000))
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def use_up(limit: limits.Limit, value: str, times: int) -> None:
    """Count `times` attempts against `limit` directly, as if they had been made."""
    for _ in range(times):
        await limits.hit(limit, value)


def retry_after(response) -> int:
    assert response.status_code == 429, response.text
    return int(response.headers["Retry-After"])
