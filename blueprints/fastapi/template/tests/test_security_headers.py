"""Security headers on every answer; nothing that may carry a token is cached."""

from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient

from app.core import alerts
from app.core.config import settings
from app.core.monitoring import UNHANDLED_DETAIL
from app.main import app, create_app

failing = APIRouter(prefix="/test-headers", include_in_schema=False)  # not the contract


@failing.get("/boom")
async def boom() -> None:
    raise RuntimeError("a bug in a route")


app.include_router(failing)

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def assert_secure(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_every_kind_of_answer_carries_the_headers(client):
    answers = [
        await client.get("/health"),
        await client.get("/no/such/route"),
        await client.post("/auth/refresh", json={}),
        await client.post("/auth/refresh", json={"refresh_token": "x" * 43}),
        await client.get("/auth/me"),
        await client.options("/health"),
    ]
    assert {a.status_code for a in answers} >= {200, 401, 404, 422}
    for answer in answers:
        assert_secure(answer)
    assert answers[0].headers["content-security-policy"].startswith("default-src 'none'")


async def test_an_unhandled_error_in_a_route_is_a_500_with_the_headers(client, monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "monitoring_dir", str(tmp_path))
    answer = await client.get("/test-headers/boom")
    alerts.alerter.forget()  # its alert is tests/test_monitoring.py's business
    assert (answer.status_code, answer.json()) == (500, {"detail": UNHANDLED_DETAIL})
    assert_secure(answer)


class BrokenMiddleware:
    """A middleware that fails before the app answers (outside monitoring, as a bug in
    RequestIdMiddleware or BodySizeLimit would): Starlette's outermost middleware answers."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            raise RuntimeError("a bug in a middleware")
        await self.app(scope, receive, send)


async def test_an_error_outside_every_middleware_is_a_500_with_the_headers():
    broken = create_app()
    broken.add_middleware(BrokenMiddleware)  # outermost, inside only ServerErrorMiddleware
    transport = ASGITransport(app=broken, raise_app_exceptions=False)  # Starlette re-raises it
    async with AsyncClient(transport=transport, base_url="http://test") as caller:
        answer = await caller.get("/health")
    assert (answer.status_code, answer.json()) == (500, {"detail": UNHANDLED_DETAIL})
    assert_secure(answer)


async def test_token_responses_are_never_cached(client, people):
    refreshed = await client.post("/auth/refresh", json={"refresh_token": people["owner"].refresh_token})
    assert refreshed.status_code == 200 and "access_token" in refreshed.json()
    assert refreshed.headers["cache-control"] == "no-store"
    assert refreshed.headers["pragma"] == "no-cache"  # RFC 6749 section 5.1
    outbox = await client.get("/dev/outbox", headers=people["admin"].headers)
    assert outbox.headers["cache-control"] == "no-store"


async def test_the_docs_page_may_load_swagger_ui_and_nothing_else(client):
    docs = await client.get("/docs")
    assert docs.status_code == 200
    policy = docs.headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in policy and "frame-ancestors 'none'" in policy
    assert "cdn.jsdelivr.net/npm/swagger-ui-dist" in docs.text


async def test_hsts_only_in_production_and_only_over_https(monkeypatch):
    async def ask(base_url: str, client=("203.0.113.5", 5000), headers=None):
        transport = ASGITransport(app=app, client=client)
        async with AsyncClient(transport=transport, base_url=base_url) as caller:
            return (await caller.get("/health", headers=headers or {})).headers

    assert "strict-transport-security" not in await ask("https://test")  # development
    monkeypatch.setattr(settings, "environment", "production")
    assert (await ask("https://test"))["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in await ask("http://test")
    # Behind a TLS-terminating proxy: believed only from a trusted one.
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "strict-transport-security" not in await ask("http://test", headers=forwarded)
    monkeypatch.setattr(settings, "trusted_proxies", ["10.0.0.0/8"])
    behind = await ask("http://test", client=("10.0.0.2", 5000), headers=forwarded)
    assert behind["strict-transport-security"].startswith("max-age=")
