"""The app around the routes: probes, request ids, CORS, settings, the admin command."""

import os
import secrets
import subprocess
import sys

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from app.core.config import Settings, settings
from app.models import User
from tests.conftest import PROJECT


async def test_health_and_ready(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/ready")).json() == {"status": "ready"}


async def test_request_ids_are_echoed_or_made(client):
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    made = await client.get("/health")
    assert len(made.headers["X-Request-ID"]) == 32


async def test_cors_allows_only_the_configured_origins(client):
    allowed = settings.cors_origins[0]
    preflight = {"Access-Control-Request-Method": "GET"}
    ok = await client.options("/health", headers={"Origin": allowed, **preflight})
    assert ok.headers.get("access-control-allow-origin") == allowed
    refused = await client.options("/health", headers={"Origin": "https://evil.test", **preflight})
    assert "access-control-allow-origin" not in refused.headers


async def test_lovable_previews_are_allowed_only_when_asked_and_never_in_production(monkeypatch):
    from httpx import ASGITransport, AsyncClient

    import app.main as main

    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    strong = secrets.token_urlsafe(48)

    async def allowed(origin: str, **settings_given: object) -> bool:
        """Whether the app built with these settings lets `origin`'s browser call it."""
        monkeypatch.setattr(main, "settings", Settings(secret_key=strong, **settings_given))
        transport = ASGITransport(app=main.create_app())
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.options("/health", headers={"Origin": origin, **preflight})
        return response.headers.get("access-control-allow-origin") == origin

    preview = "https://id-preview--1f2e3d.lovable.app"
    assert not await allowed(preview, lovable_previews=False)
    assert await allowed(preview, lovable_previews=True)
    assert await allowed("https://theramatch.lovable.app", lovable_previews=True)
    for lookalike in (
        "https://theramatch.lovable.app.evil.test",
        "http://theramatch.lovable.app",
        "https://a.b.lovable.app",
        "https://evil.test",
    ):
        assert not await allowed(lookalike, lovable_previews=True), lookalike
    assert not await allowed(preview, lovable_previews=True, environment="production")


@pytest.mark.parametrize("secret", ["change-me", "short"])
def test_weak_secrets_are_refused_outside_development(secret):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key=secret)
    Settings(environment="development", secret_key=secret)


def test_database_urls_are_normalised():
    assert Settings(database_url="postgresql://u:p@h/db").sqlalchemy_url == (
        "postgresql+asyncpg://u:p@h/db"
    )
    assert Settings(database_url="").sqlalchemy_url.startswith("sqlite+aiosqlite:///")


async def test_create_admin_command(db):
    command = [sys.executable, "-m", "app", "create-admin", "--email", "Boss@Example.com"]
    result = subprocess.run(
        [*command, "--password", "a long password"],
        cwd=PROJECT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    user = await db.scalar(select(User).where(User.email == "boss@example.com"))
    assert user is not None and user.roles == ["admin"]


def test_production_has_no_dev_routes():
    # Settings are read once at import, so production gets a fresh interpreter.
    script = "from app.main import app; print(sorted(app.openapi()['paths']), app.docs_url)"
    env = {**os.environ, "ENVIRONMENT": "production", "SECRET_KEY": secrets.token_urlsafe(48)}
    production = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    assert production.returncode == 0, production.stderr
    assert "/dev/outbox" not in production.stdout
    assert production.stdout.strip().endswith("None")  # no /docs either
