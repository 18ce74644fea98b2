"""Frontend origins as browsers send them: scheme, host and port, nothing else."""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(text: str) -> str:
    """`https://TheraMatch.lovable.app/` → `https://theramatch.lovable.app`, the way a
    browser's Origin header spells it; text that is not an origin comes back unchanged
    (see origin_problem)."""
    stripped = text.strip()
    if origin_problem(stripped) is not None:
        return text
    parts = urlsplit(stripped)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6
    port = parts.port
    suffix = "" if port is None or port == _DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host}{suffix}"


def origin_problem(text: str) -> str | None:
    """Why `text` is not an origin, in a sentence that shows the fix; None when it is one."""
    example = "write scheme, host and port only, like https://app.example.com"
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return f"'{text}' is not an origin; {example}"
    del port
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return f"'{text}' is not an origin; {example}"
    if parts.username is not None or parts.password is not None:
        return f"'{text}' has a user name or password in it; an origin is {example[6:]}"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        base = f"{parts.scheme.lower()}://{parts.netloc.rsplit('@', 1)[-1].lower()}"
        return (
            f"'{text}' has a path; browsers send only the origin, so it would never match: "
            f"write {base}"
        )
    return None
