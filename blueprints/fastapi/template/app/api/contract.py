"""The OpenAPI document as a contract: readable operation ids and every error documented."""

import re
from functools import cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from app.schemas.common import Problem

_MEANING = {
    400: "The body is not JSON text, or the link or code is invalid, used or expired.",
    401: "Not signed in, or the sign-in has ended: sign in (again).",
    403: "Signed in, but not allowed to do this (`detail` says the rule).",
    404: "There is no such record, or this person may not see it.",
    409: "Someone changed the record first (ETag has the current version), or others point to it.",
    422: "The request does not fit: `detail` says what, `errors` names each field.",
    429: "Too many tries: wait the seconds in Retry-After.",
    503: "Something the app needs (the database, email or texts) is not reachable; try again.",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    409: {"ETag": {"schema": {"type": "string"}, "description": 'The current version: "4"'}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each error status it can answer, all with one body."""
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        declared[status] = {"model": Problem, "description": _MEANING[status]}
        if status in _HEADERS:
            declared[status]["headers"] = _HEADERS[status]
    return declared


def signed_out_too(public: bool) -> dict[str, Any] | None:
    """`openapi_extra=` for a route whose rule lets anyone in: the bearer token is optional."""
    return {"security": [{}]} if public else None


async def method_not_allowed(request: Request, error: HTTPException) -> JSONResponse:
    """405 naming every method the document gives the path (Starlette names only those of
    the first route that matched it)."""
    methods = [
        method
        for pattern, methods in _methods_by_path(request.app)
        if pattern.fullmatch(request.url.path)
        for method in methods
    ]
    allow = ", ".join(methods) or (error.headers or {}).get("Allow", "")
    return JSONResponse({"detail": "Method Not Allowed"}, 405, headers={"Allow": allow})


@cache
def _methods_by_path(app: FastAPI) -> list[tuple[re.Pattern[str], list[str]]]:
    return [
        (re.compile(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path))), [m.upper() for m in item])
        for path, item in app.openapi()["paths"].items()
    ]


def operation_id(route: APIRoute) -> str:
    """`list_bookings` → `listBookings`: what generated clients call the route."""
    first, *rest = route.name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def document_text() -> str:
    """openapi.json as committed: the app's document with development's routes, two-space
    indented, one trailing newline (the same bytes on every machine)."""
    import json

    from app.main import app

    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def client_text() -> str:
    """client/api.ts as committed: the typed TypeScript client, from the same document."""
    import json

    from app.api.typescript import client_text as from_document

    return from_document(json.loads(document_text()))
