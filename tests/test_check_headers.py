"""The launch check's security-headers item, against a local HTTP stand-in for the API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from wizard.checklist.context import CheckContext, registered
from wizard.checklist.model import load_checklist

GOOD = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


@contextmanager
def api_with(headers: dict[str, str]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def answer(self, status: int) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def do_GET(self) -> None:
            self.answer(200)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.answer(401)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run(url: str):
    return registered()["live.security_headers"](CheckContext(url=url, url_given=True))


def test_the_checklist_has_the_item():
    item = load_checklist().step("secrets").item("security-headers")
    assert [c.id for c in item.checks] == ["live.security_headers"] and "no-store" in item.why


def test_an_api_with_the_headers_passes():
    with api_with(GOOD) as url:
        outcome = run(url)
    assert outcome.findings == []


def test_missing_headers_and_a_cacheable_token_answer_are_named():
    with api_with({"Cache-Control": "max-age=60"}) as url:
        outcome = run(url)
    messages = [finding.message for finding in outcome.findings]
    assert any("GET /health answered without content-security-policy" in m for m in messages)
    assert any("x-content-type-options" in m and "x-frame-options" in m for m in messages)
    cache = [f for f in outcome.findings if "may be cached" in f.message]
    assert cache and cache[0].actual == "Cache-Control: max-age=60"
