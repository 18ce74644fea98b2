"""`python -m app create-admin` never promotes a password the operator did not set.

A red-team run pre-registered the founder's address with a password of its own; create-admin
then answered "it is now an admin" and the stranger's password logged in with roles ['admin'].
"""

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from app.__main__ import Refused, create_admin
from app.auth.sessions import start_session
from app.core.security import hash_password, verify_password
from app.models import User
from tests.conftest import PROJECT

FOUNDER = "founder@example.com"
STRANGER_PASSWORD = "the stranger's own password"
FOUNDER_PASSWORD = "the founder's chosen password"


async def existing(db, *, verified: bool) -> tuple[int, str]:
    """An account someone else made for FOUNDER, with a live session; (its id, access token)."""
    user = User(
        email=FOUNDER,
        password_hash=hash_password(STRANGER_PASSWORD),
        email_verified=verified,
        roles=[],
    )
    db.add(user)
    await db.flush()
    tokens = await start_session(db, user)
    await db.commit()
    return user.id, tokens.access_token


async def reread(db, user_id: int) -> User:
    return await db.get(User, user_id, populate_existing=True)


@pytest.mark.parametrize("verified", [False, True])
async def test_an_existing_account_is_refused_and_left_alone(client, db, verified):
    user_id, token = await existing(db, verified=verified)
    with pytest.raises(Refused, match="already has an account.*--reset-password"):
        await create_admin(FOUNDER, FOUNDER_PASSWORD)
    user = await reread(db, user_id)
    assert user.roles == []
    assert verify_password(user.password_hash, STRANGER_PASSWORD)
    assert (await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_reset_password_makes_an_admin_with_the_operators_password_only(client, db):
    user_id, token = await existing(db, verified=False)
    outcome = await create_admin(FOUNDER, FOUNDER_PASSWORD, reset_password=True)
    assert "its password is the one given" in outcome and "1 open session ended" in outcome
    user = await reread(db, user_id)
    assert user.roles == ["admin"] and user.email_verified
    assert verify_password(user.password_hash, FOUNDER_PASSWORD)
    assert not verify_password(user.password_hash, STRANGER_PASSWORD)
    # The stranger's session (made with their password) ended with it.
    assert (await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_promote_existing_needs_a_confirmed_address(db):
    user_id, _ = await existing(db, verified=False)
    with pytest.raises(Refused, match="never confirmed"):
        await create_admin(FOUNDER, FOUNDER_PASSWORD, promote_existing=True)
    assert (await reread(db, user_id)).roles == []


async def test_promote_existing_keeps_a_confirmed_accounts_password(db):
    user_id, _ = await existing(db, verified=True)
    outcome = await create_admin(FOUNDER, FOUNDER_PASSWORD, promote_existing=True)
    assert "keeps its own password" in outcome
    user = await reread(db, user_id)
    assert user.roles == ["admin"]
    assert verify_password(user.password_hash, STRANGER_PASSWORD)


async def test_the_command_exits_2_and_says_what_to_run(db):
    await existing(db, verified=False)
    result = subprocess.run(
        [sys.executable, "-m", "app", "create-admin", "--email", FOUNDER, "--password", FOUNDER_PASSWORD],
        cwd=PROJECT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "--reset-password" in result.stderr and "nothing changed" in result.stderr
    user = await db.scalar(select(User).where(User.email == FOUNDER))
    assert user.roles == []


async def test_admin_session_signs_in_an_admin_only(client, db):
    from app.__main__ import admin_session

    user_id, _ = await existing(db, verified=True)
    with pytest.raises(Refused, match="not an active admin"):
        await admin_session(FOUNDER)
    await create_admin(FOUNDER, FOUNDER_PASSWORD, promote_existing=True)
    tokens = await admin_session(FOUNDER.upper())
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["roles"] == ["admin"]
    assert me.json()["id"] == user_id
