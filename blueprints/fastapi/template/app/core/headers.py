"""Security headers on every response, and no caching of anything that may carry a secret.

- X-Content-Type-Options: nosniff, X-Frame-Options: DENY and a Content-Security-Policy that
  loads nothing (the API answers JSON; /docs gets the Swagger UI it needs from its CDN).
- Referrer-Policy: no-referrer, Cross-Origin-Opener-Policy: same-origin.
- Strict-Transport-Security in production, only over HTTPS (directly, or as a proxy in
  TRUSTED_PROXIES reports with X-Forwarded-Proto): over plain HTTP it would mean nothing.
- Cache-Control: no-store (and Pragma: no-cache) on every response that does not set its own:
  token responses (RFC 6749 section 5.1), sign-in codes in the outbox, and everyone's private
  records must never sit in a browser's or a proxy's cache.
"""

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import settings
from app.core.monitoring import UNHANDLED_DETAIL

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
# FastAPI's Swagger UI: its script and styles from jsDelivr, an inline start-up script, the
# FastAPI favicon, and calls back to this API.
DOCS_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'unsafe-inline' https://cdn.jsdelivr.net; img-src data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=63072000; includeSubDomains"
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message), scope)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_security_headers(headers: MutableHeaders, scope: Scope) -> None:
    """The headers every answer carries, unless the answer set its own."""
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault(
        "Content-Security-Policy", DOCS_POLICY if scope.get("path") in DOCS_PATHS else API_POLICY
    )
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if "cache-control" not in headers:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    if settings.environment == "production" and _over_https(scope):
        headers.setdefault("Strict-Transport-Security", HSTS)


async def answer_unhandled_error(request: Request, exc: Exception) -> Response:
    """The 500 for an error that nothing inside caught (app/core/monitoring.py answers those
    raised in the routes): one raised by a middleware outside it, which Starlette's
    outermost ServerErrorMiddleware answers, past SecurityHeadersMiddleware. The same words
    and the same headers as every other answer; Starlette logs the error after it."""
    response = JSONResponse({"detail": UNHANDLED_DETAIL}, status_code=500)
    add_security_headers(response.headers, request.scope)
    return response


def _over_https(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    from app.auth.limits import from_trusted_proxy

    client = scope.get("client")
    if not client or not from_trusted_proxy(client[0]):
        return False
    forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
    return forwarded.split(",")[-1].strip().lower() == "https"


class BodySizeLimit:
    """413 for a request body over MAX_BODY_BYTES (1 MiB): refused from its Content-Length
    before anything is read, or as soon as a body sent without one grows past the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit and not refused:
                    refused = True
                    await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _refuse(self, send: Send) -> None:
        body = (
            f'{{"detail": "The request body is larger than {self.limit} bytes, '
            'the most this API accepts."}'
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
