"""Live probes besides the permission matrix and sign-in: health, CORS, the outbox, roles, owners."""

from __future__ import annotations

from typing import Any

from wizard.checklist.context import CheckContext, check
from wizard.checklist.live import Api, api_for, json_of, session
from wizard.checklist.permissions import Fixtures, path_of
from wizard.checklist.results import CouldNotRun, Finding, Outcome, Skip
from wizard.spec.matrix import actors_for, expect
from wizard.spec.naming import with_article

EVIL_ORIGIN = "https://attacker.example"


def _api(ctx: CheckContext) -> Api:
    """A bare client for probes that need no personas."""
    cached = ctx.cache.get("bare_api")
    if cached is None:
        cached = api_for(ctx, ctx.need_url())
        ctx.cache["bare_api"] = cached
    return cached


def _get(ctx: CheckContext, path: str, headers: dict[str, str] | None = None) -> Any:
    try:
        return _api(ctx).call("GET", path, headers=headers)
    except CouldNotRun as exc:
        if ctx.url_given:
            raise
        raise Skip(f"the staging API did not answer: {exc.reason}") from None


@check("live.health")
def health(ctx: CheckContext) -> Outcome:
    response = _get(ctx, "/health")
    if response.status_code == 200:
        return Outcome.of([], "GET /health answered 200")
    return Outcome.of([Finding(f"GET /health answered {response.status_code}, not 200")])


@check("live.ready")
def ready(ctx: CheckContext) -> Outcome:
    response = _get(ctx, "/ready")
    if response.status_code == 200:
        return Outcome.of([], "GET /ready answered 200")
    return Outcome.of(
        [Finding(f"GET /ready answered {response.status_code}: the API cannot reach its database")]
    )


@check("live.cors_preflight")
def cors_preflight(ctx: CheckContext) -> Outcome:
    """The preflight a browser sends before a signed-in JSON request: it must pass from every
    origin in frontend.origins, and fail from a site that is not one of them."""
    spec = ctx.need_spec()
    findings = []
    path = path_of(next(iter(spec.objects))) if spec.objects else "/auth/me"
    for origin in [o for o in spec.frontend.origins if o != "*"]:
        response = _preflight(ctx, path, origin)
        allowed = response.headers.get("access-control-allow-origin", "")
        if response.status_code != 200 or allowed not in (origin, "*"):  # "*": found below
            findings.append(
                Finding(
                    f"your frontend at {origin} cannot call the API: the browser's preflight "
                    f"got {response.status_code} without its origin allowed (is it in the "
                    "backend's CORS_ORIGINS? restart it after changing .env)",
                    expected=f"200 with Access-Control-Allow-Origin: {origin}",
                    actual=f"{response.status_code} {allowed or 'no Access-Control-Allow-Origin'}",
                )
            )
    response = _preflight(ctx, path, EVIL_ORIGIN)
    allowed = response.headers.get("access-control-allow-origin", "")
    if allowed in ("*", EVIL_ORIGIN):
        findings.append(
            Finding(
                f"the API lets any website call it (Access-Control-Allow-Origin: {allowed} for "
                f"{EVIL_ORIGIN})",
                expected="no Access-Control-Allow-Origin",
                actual=allowed,
            )
        )
    return Outcome.of(findings, f"preflights to {path} from the frontend and from {EVIL_ORIGIN}")


def _preflight(ctx: CheckContext, path: str, origin: str) -> Any:
    """What a browser asks before a signed-in JSON POST from `origin`."""
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    return _api(ctx).call("OPTIONS", path, headers=headers)


@check("live.outbox_closed")
def outbox_closed(ctx: CheckContext) -> Outcome:
    """/dev/outbox (which holds sign-in links) is closed to everyone but admins."""
    findings = []
    response = _get(ctx, "/dev/outbox")
    if response.status_code == 200:
        findings.append(
            Finding(
                "GET /dev/outbox answers without signing in: anyone can read sign-in links and codes",
                actor="anonymous",
                expected="401 or 404",
                actual=str(response.status_code),
            )
        )
    try:
        live = session(ctx)
        other = live.persona("other")
    except Skip:
        return Outcome.of(findings, "checked signed out only")
    response = live.api.call("GET", "/dev/outbox", other)
    if response.status_code == 200:
        findings.append(
            Finding(
                "GET /dev/outbox answers any signed-in user: they can read everyone's sign-in links",
                actor="other",
                expected="403 or 404",
                actual="200",
            )
        )
    return Outcome.of(findings)


@check("live.roles_granted")
def roles_granted(ctx: CheckContext) -> Outcome:
    """An admin can give each of the spec's roles, so the rules that name them can be used."""
    spec = ctx.need_spec()
    if not spec.roles:
        return Outcome.of([], "the spec has no roles")
    live = session(ctx)
    if "admin" not in live.personas:
        raise Skip(f"granting roles needs admin credentials: {live.admin_problem}")
    findings = []
    for role in spec.roles:
        problem = live.unavailable.get(f"role:{role}")
        if problem and "admin could not give" in problem:
            findings.append(Finding(f"the {role} role cannot be granted: {problem}"))
    return Outcome.of(findings, f"granted {', '.join(spec.roles)}")


@check("live.owner_forced")
def owner_forced(ctx: CheckContext) -> Outcome:
    """The server sets each record's owner: a client sending owner_id cannot choose it."""
    spec = ctx.need_spec()
    live = session(ctx)
    fixtures = Fixtures(live)
    findings: list[Finding] = []
    probed = 0
    reasons = []
    for object_name in spec.objects:
        creator = next(
            (
                a
                for a in actors_for(spec, object_name)
                if a not in ("admin", "anonymous")
                and a in live.personas
                and expect(spec, object_name, a, "create").allowed
            ),
            None,
        )
        if creator is None:
            reasons.append(f"{object_name}: no test user may create one")
            continue
        victim = "other" if creator != "other" else "owner"
        if victim not in live.personas:
            continue
        try:
            fixture = fixtures.build(object_name, creator, None)
        except Skip as exc:
            reasons.append(f"{object_name}: {exc.reason}")
            continue
        parents = fixture.payload
        stolen = live.personas[victim].user_id
        path = path_of(object_name)
        findings += _owner_changed_by_update(live, object_name, creator, victim, fixture)
        response = live.api.call(
            "POST", path, live.personas[creator], {**parents, "owner_id": stolen}
        )
        probed += 1
        data = json_of(response)
        if response.status_code == 201 and isinstance(data, dict):
            live.remember(path, int(data["id"]))
            if data.get("owner_id") == stolen:
                findings.append(
                    Finding(
                        f"{creator} created {with_article(object_name)} owned by {victim} by sending owner_id: "
                        "anyone can plant records in other people's accounts",
                        object=object_name,
                        action="create",
                        actor=creator,
                        expected="422, or the owner the server sets",
                        actual=f"owner_id={stolen}",
                    )
                )
    if probed == 0:
        raise Skip("; ".join(reasons) or "no object could be probed")
    return Outcome.of(findings, f"tried owner_id on {probed} objects")


def _owner_changed_by_update(
    live: Any, object_name: str, creator: str, victim: str, fixture: Any
) -> list[Finding]:
    """Whoever may update a record cannot hand it to someone else by sending owner_id."""
    spec = live.spec
    record_owner = fixture.record.get("owner_id")
    me = live.personas[creator]
    if record_owner != me.user_id or not expect(spec, object_name, "owner", "update").allowed:
        return []
    stolen = live.personas[victim].user_id
    response = live.api.call(
        "PATCH", f"{path_of(object_name)}/{fixture.id}", me, {"owner_id": stolen}
    )
    data = json_of(response)
    if response.status_code == 200 and isinstance(data, dict) and data.get("owner_id") == stolen:
        return [
            Finding(
                f"{creator} gave {with_article(object_name)} to {victim} by sending owner_id in an update",
                object=object_name,
                action="update",
                actor=creator,
                expected="422, or the owner unchanged",
                actual=f"owner_id={stolen}",
            )
        ]
    return []
