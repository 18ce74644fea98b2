"""The live API's security headers, and no caching of answers that carry tokens (issue 17)."""

from __future__ import annotations

from urllib.parse import urlsplit

from wizard.checklist.context import CheckContext, check
from wizard.checklist.results import Finding, Outcome

# Header -> what it must hold (lower case), on every answer.
REQUIRED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "",
    "content-security-policy": "",
}
TOKEN_ROUTE = "/auth/refresh"


@check("live.security_headers")
def security_headers(ctx: CheckContext) -> Outcome:
    """GET /health and a token route's answer carry the security headers; token answers say
    Cache-Control: no-store; over HTTPS, Strict-Transport-Security too."""
    from wizard.checklist.live import Api

    url = ctx.need_url()
    api = Api(url, ctx.timeout, ctx.url_given)
    try:
        answers = {
            "GET /health": api.call("GET", "/health"),
            f"POST {TOKEN_ROUTE}": api.call(
                "POST", TOKEN_ROUTE, body={"refresh_token": "shipyard-check-" + "x" * 32}
            ),
        }
    finally:
        api.close()
    findings = []
    for what, answer in answers.items():
        headers = {name.lower(): value for name, value in answer.headers.items()}
        missing = [
            name
            for name, must in REQUIRED.items()
            if name not in headers or must not in headers[name].lower()
        ]
        framing = headers.get("x-frame-options", "").lower() in ("deny", "sameorigin") or (
            "frame-ancestors" in headers.get("content-security-policy", "")
        )
        if not framing:
            missing.append("x-frame-options")
        if urlsplit(url).scheme == "https" and "strict-transport-security" not in headers:
            missing.append("strict-transport-security")
        if missing:
            findings.append(Finding(f"{what} answered without {', '.join(sorted(missing))}"))
    token_cache = answers[f"POST {TOKEN_ROUTE}"].headers.get("cache-control", "")
    if "no-store" not in token_cache.lower():
        findings.append(
            Finding(
                f"POST {TOKEN_ROUTE} (which answers with tokens) may be cached",
                expected="Cache-Control: no-store",
                actual=f"Cache-Control: {token_cache or '(none)'}",
            )
        )
    return Outcome.of(findings, "GET /health and POST /auth/refresh carry the security headers")
