"""Remove secrets and personal data from text and events before they leave the server."""

import re
from typing import Any

MASK = "[removed]"
# Keys whose values are never sent anywhere, whatever they hold.
SECRET_KEYS = re.compile(
    r"^(.*[-_])?(pass(word|wd)?|secret|(.*[-_])?token|authorization|(set-)?cookies?|code|otp"
    r"|api[-_]?key|dsn|e-?mail|phone)$",
    re.IGNORECASE,
)
_PLAIN_KEYS = {"status_code"}  # named like a secret, holds none
_PATTERNS = [
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),  # email addresses
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),  # Authorization: Bearer ...
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),  # JWTs
    re.compile(r"(?i)\b(token|code|password|secret|key)=[^&\s\"']+"),  # query strings, bodies
    # 'password': 'x' in the repr of a dict (Sentry's local variables), "password": "x" in JSON
    re.compile(
        r"(?i)(['\"])(\w*(pass(word|wd)?|secret|token|code|otp|key))\1\s*:\s*(['\"])(?:(?!\5).)*\5"
    ),
    re.compile(r"\+\d[\d ()-]{7,}\d"),  # phone numbers in international form
    re.compile(r"\b\d{6}\b"),  # one-time codes
]


def scrub_text(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def scrub(value: Any, depth: int = 0) -> Any:
    """A copy of `value` (JSON-like) with secret keys masked and secrets in text removed."""
    if depth > 20:
        return MASK
    if isinstance(value, dict):
        return {
            key: MASK if _secret_key(key) else scrub(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item, depth + 1) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def _secret_key(key: object) -> bool:
    return isinstance(key, str) and key not in _PLAIN_KEYS and bool(SECRET_KEYS.match(key))
