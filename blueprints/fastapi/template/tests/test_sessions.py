"""Sessions, whatever the login method: me, refresh rotation, reuse detection, logout."""

from datetime import timedelta

from sqlalchemy import select, update

from app.core.config import settings
from app.models import Session
from tests.conftest import make_person


async def signed_in(db):
    return await make_person(db, "someone@example.com")


async def test_me_shows_the_user_with_roles(client, people):
    response = await client.get("/auth/me", headers=people["admin"].headers)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "admin@example.com"
    assert body["roles"] == ["admin"]
    assert "password_hash" not in body


async def test_me_needs_a_valid_token(client):
    assert (await client.get("/auth/me")).status_code == 401
    garbage = {"Authorization": "Bearer not-a-token"}
    assert (await client.get("/auth/me", headers=garbage)).status_code == 401


async def test_refresh_rotates_and_the_old_token_works_once(client, db):
    tokens = await signed_in(db)
    first = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["token_type"] == "bearer"
    assert rotated["refresh_token"] != tokens.refresh_token

    reused = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    assert reused.status_code == 401
    # Reuse means a copy leaked: the whole session ends, including the rotated tokens.
    after = await client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert me.status_code == 401


async def test_logout_revokes_the_session(client, db):
    tokens = await signed_in(db)
    headers = {"Authorization": f"Bearer {tokens.token}"}
    assert (await client.post("/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/auth/me", headers=headers)).status_code == 401
    refresh = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    assert refresh.status_code == 401


async def test_logout_counts_at_once_for_a_token_just_checked(client, db):
    tokens = await signed_in(db)
    headers = {"Authorization": f"Bearer {tokens.token}"}
    assert (await client.get("/auth/me", headers=headers)).status_code == 200
    assert (await client.post("/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/auth/me", headers=headers)).status_code == 401


async def test_a_session_ended_elsewhere_is_trusted_for_seconds_at_most(client, db, clock):
    """Another worker's logout reaches this one within SESSION_CACHE_SECONDS (app/auth/sessions.py)."""
    tokens = await signed_in(db)
    headers = {"Authorization": f"Bearer {tokens.token}"}
    assert (await client.get("/auth/me", headers=headers)).status_code == 200
    await db.execute(update(Session).values(revoked_at=clock.now()))  # as another worker would
    await db.commit()
    assert settings.session_cache_seconds <= 5
    clock.advance(timedelta(seconds=settings.session_cache_seconds))
    assert (await client.get("/auth/me", headers=headers)).status_code == 401


async def test_refresh_tokens_are_stored_hashed(client, db):
    tokens = await signed_in(db)
    stored = await db.scalars(select(Session.refresh_hash))
    assert tokens.refresh_token not in stored.all()


async def test_only_admins_grant_roles(client, people):
    target = people["other"].user.id
    url = f"/admin/users/{target}/roles"
    assert (await client.put(url, json={"roles": ["admin"]})).status_code == 401
    denied = await client.put(url, json={"roles": ["admin"]}, headers=people["other"].headers)
    assert denied.status_code == 403

    granted = await client.put(url, json={"roles": ["admin"]}, headers=people["admin"].headers)
    assert granted.status_code == 200
    assert granted.json()["roles"] == ["admin"]
    me = await client.get("/auth/me", headers=people["other"].headers)
    assert me.json()["roles"] == ["admin"]


async def test_only_admins_list_people_and_find_one_by_email(client, people):
    assert (await client.get("/admin/users")).status_code == 401
    denied = await client.get("/admin/users", headers=people["other"].headers)
    assert denied.status_code == 403
    listed = await client.get("/admin/users", headers=people["admin"].headers)
    assert listed.status_code == 200
    emails = [user["email"] for user in listed.json()["items"]]
    assert people["other"].user.email in emails and listed.json()["total"] == len(emails)
    other = people["other"].user.email.upper()  # addresses are found whatever their case
    found = await client.get("/admin/users", params={"email": other}, headers=people["admin"].headers)
    assert [user["id"] for user in found.json()["items"]] == [people["other"].user.id]


async def test_unknown_roles_are_refused(client, people):
    url = f"/admin/users/{people['other'].user.id}/roles"
    response = await client.put(url, json={"roles": ["wizard"]}, headers=people["admin"].headers)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("roles.0:")


async def test_roles_of_a_missing_user_is_404(client, people):
    response = await client.put(
        "/admin/users/999999/roles", json={"roles": []}, headers=people["admin"].headers
    )
    assert response.status_code == 404
