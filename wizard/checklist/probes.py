"""Live probes besides the permission matrix: health, sign-in, brute force, enumeration, owners."""

from __future__ import annotations

import secrets
from typing import Any

from wizard.checklist.context import CheckContext, check
from wizard.checklist.live import EMAIL_DOMAIN, Api, Persona, json_of, session
from wizard.checklist.permissions import Fixtures, path_of
from wizard.checklist.results import CouldNotRun, Finding, Outcome, Skip
from wizard.spec.matrix import actors_for, expect

# The login issue's numbers: at most 10 fast failed logins per account, then 429.
MAX_FAILED_LOGINS = 10
MAX_CODE_SENDS = 3
EVIL_ORIGIN = "https://attacker.example"


def _api(ctx: CheckContext) -> Api:
    """A bare client for probes that need no personas."""
    cached = ctx.cache.get("bare_api")
    if cached is None:
        cached = Api(ctx.need_url(), ctx.timeout, ctx.url_given)
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
    """A browser on a site not in frontend.origins is refused; the spec's own origins work."""
    spec = ctx.need_spec()
    findings = []
    path = path_of(next(iter(spec.objects))) if spec.objects else "/auth/me"
    headers = {"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "GET"}
    response = _api(ctx).call("OPTIONS", path, headers=headers)
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
    return Outcome.of(findings, f"preflight from {EVIL_ORIGIN} to {path}")


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


@check("live.auth_flows")
def auth_flows(ctx: CheckContext) -> Outcome:
    """Each login method signs people in; refresh rotates tokens; logout ends the session."""
    spec = ctx.need_spec()
    live = session(ctx)
    findings = []
    signed_in = [n for n in ("owner", "other") if n in live.personas]
    if not signed_in:
        raise Skip(live.unavailable.get("owner", "no test account could sign in"))
    notes = [f"signed in {len(live.personas) - 1} test accounts"]
    if "email_password" in spec.login.methods:
        findings += _refresh_and_logout(live)
    if "admin" in live.personas:
        if "magic_link" in spec.login.methods:
            findings += _magic_link_single_use(live)
            notes.append("magic link used twice")
        if "phone_otp" in spec.login.methods:
            findings += _phone_code_dies(live)
            notes.append("phone code tried wrongly 5 times")
    else:
        notes.append(f"magic link and phone codes not probed: {live.admin_problem}")
    return Outcome.of(findings, "; ".join(notes))


def _magic_link_single_use(live: Any) -> list[Finding]:
    """A magic link signs in once, and only once."""
    from wizard.checklist.live import _TOKEN

    email = f"shipyard-check-{live.run_id}-link@{EMAIL_DOMAIN}"
    live.api.call("POST", "/auth/magic-link/request", body={"email": email})
    token = live.read_outbox(email, _TOKEN)
    if token is None:
        return [Finding("a magic link request sent no email to the outbox", action="magic-link")]
    first = live.api.call("POST", "/auth/magic-link/verify", body={"token": token})
    second = live.api.call("POST", "/auth/magic-link/verify", body={"token": token})
    findings = []
    if first.status_code != 200:
        findings.append(
            Finding(
                f"a fresh magic link did not sign in ({first.status_code})", action="magic-link"
            )
        )
    elif second.status_code == 200:
        findings.append(
            Finding("a magic link signed in twice: a leaked link stays usable", action="magic-link")
        )
    return findings


def _phone_code_dies(live: Any) -> list[Finding]:
    """After 5 wrong tries a phone code is dead, even the right one."""
    from wizard.checklist.live import _CODE

    phone = live.new_phone()
    live.api.call("POST", "/auth/phone/request", body={"phone": phone})
    code = live.read_outbox(phone, _CODE)
    if code is None:
        return [Finding("a phone code request sent no text to the outbox", action="phone")]
    for attempt in range(5):
        wrong = f"{(int(code) + 1 + attempt) % 1_000_000:06d}"
        live.api.call("POST", "/auth/phone/verify", body={"phone": phone, "code": wrong})
    after = live.api.call("POST", "/auth/phone/verify", body={"phone": phone, "code": code})
    if after.status_code == 200:
        return [
            Finding(
                "a phone code still worked after 5 wrong tries: codes can be guessed",
                action="phone",
                expected="refused",
                actual="200",
            )
        ]
    return []


def _refresh_and_logout(live: Any) -> list[Finding]:
    """A throwaway session: its refresh token works once, and logout revokes its access token."""
    persona = live.personas["other"] if "other" in live.personas else live.personas["owner"]
    body = {"email": persona.email, "password": persona.password}
    response = live.api.call("POST", "/auth/login", body=body)
    if response.status_code != 200:
        return []
    tokens = json_of(response) or {}
    findings = []
    first = live.api.call(
        "POST", "/auth/refresh", body={"refresh_token": tokens.get("refresh_token")}
    )
    again = live.api.call(
        "POST", "/auth/refresh", body={"refresh_token": tokens.get("refresh_token")}
    )
    if first.status_code != 200:
        findings.append(
            Finding(f"POST /auth/refresh answered {first.status_code} to a fresh refresh token")
        )
    elif again.status_code == 200:
        findings.append(Finding("a refresh token worked twice: stolen refresh tokens stay usable"))
    if first.status_code == 200:
        fresh = Persona("session", token=(json_of(first) or {}).get("access_token"))
        out = live.api.call("POST", "/auth/logout", fresh)
        after = live.api.call("GET", "/auth/me", fresh)
        if out.status_code in (200, 204) and after.status_code == 200:
            findings.append(Finding("an access token still works after logging out"))
    return findings


@check("live.brute_force")
def brute_force(ctx: CheckContext) -> Outcome:
    """Repeated wrong passwords hit 429 by the 11th try; repeated code requests are capped."""
    spec = ctx.need_spec()
    live = session(ctx)
    findings: list[Finding] = []
    notes = []
    if "email_password" in spec.login.methods:
        victim = Persona(
            "victim",
            email=f"shipyard-check-{live.run_id}-victim@{EMAIL_DOMAIN}",
            password=secrets.token_urlsafe(18),
        )
        signup = live.api.call(
            "POST", "/auth/signup", body={"email": victim.email, "password": victim.password}
        )
        if signup.status_code not in (200, 201):
            raise Skip(
                f"a test account for the brute-force probe could not be made ({signup.status_code})"
            )
        limited_at = None
        for attempt in range(1, MAX_FAILED_LOGINS + 2):
            response = live.api.call(
                "POST",
                "/auth/login",
                body={"email": victim.email, "password": "wrong-" + secrets.token_hex(6)},
            )
            if response.status_code == 429:
                limited_at = attempt
                if not response.headers.get("retry-after"):
                    findings.append(
                        Finding("the 429 answer to repeated logins has no Retry-After header")
                    )
                break
        if limited_at is None:
            findings.append(
                Finding(
                    f"{MAX_FAILED_LOGINS + 1} wrong passwords in a row were all answered without 429: "
                    "anyone can guess passwords as fast as they like",
                    action="login",
                    expected=f"429 by attempt {MAX_FAILED_LOGINS + 1}",
                    actual="no 429",
                )
            )
        else:
            notes.append(f"login limited at attempt {limited_at}")
    if "phone_otp" in spec.login.methods:
        phone = live.new_phone()
        codes = [
            live.api.call("POST", "/auth/phone/request", body={"phone": phone}).status_code
            for _ in range(MAX_CODE_SENDS + 1)
        ]
        if 429 in codes:
            notes.append(f"phone codes limited at request {codes.index(429) + 1}")
        else:
            findings.append(
                Finding(
                    f"{MAX_CODE_SENDS + 1} code requests for one number were all sent: texts cost money",
                    action="phone/request",
                    expected=f"429 by request {MAX_CODE_SENDS + 1}",
                    actual=str(codes),
                )
            )
    if not {"email_password", "phone_otp"} & set(spec.login.methods):
        raise Skip("the spec has no password or phone login to probe")
    return Outcome.of(findings, "; ".join(notes))


@check("live.account_enumeration")
def account_enumeration(ctx: CheckContext) -> Outcome:
    """Login and reset requests answer the same for known and unknown addresses."""
    spec = ctx.need_spec()
    live = session(ctx)
    known = live.personas.get("other") or live.personas.get("owner")
    if known is None or not known.email:
        raise Skip(live.unavailable.get("other", "no test account could be made"))
    unknown = f"shipyard-check-{live.run_id}-nobody@{EMAIL_DOMAIN}"
    pairs: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    if "email_password" in spec.login.methods:
        wrong = "wrong-" + secrets.token_hex(8)
        pairs.append(
            (
                "login",
                "/auth/login",
                {"email": known.email, "password": wrong},
                {"email": unknown, "password": wrong},
            )
        )
        pairs.append(
            (
                "password reset",
                "/auth/password-reset/request",
                {"email": known.email},
                {"email": unknown},
            )
        )
    if "magic_link" in spec.login.methods:
        pairs.append(
            ("magic link", "/auth/magic-link/request", {"email": known.email}, {"email": unknown})
        )
    findings = []
    compared = []
    for what, path, known_body, unknown_body in pairs:
        a = live.api.call("POST", path, body=known_body)
        b = live.api.call("POST", path, body=unknown_body)
        if 404 in (a.status_code, b.status_code) and a.status_code == b.status_code == 404:
            continue  # the route does not exist here
        if 429 in (a.status_code, b.status_code):
            continue  # rate limited: the answers say nothing about the account
        compared.append(what)
        if a.status_code != b.status_code or _body(a) != _body(b):
            findings.append(
                Finding(
                    f"POST {path} answers differently for an existing account ({a.status_code}) and "
                    f"an unknown address ({b.status_code}): anyone can find out who has an account",
                    action=what,
                    expected="the same answer",
                    actual=f"{a.status_code} {a.text[:60]!r} vs {b.status_code} {b.text[:60]!r}",
                )
            )
    if not compared:
        raise Skip("no sign-in route that takes an email address could be compared")
    return Outcome.of(findings, f"compared {', '.join(compared)}")


def _body(response: Any) -> Any:
    data = json_of(response)
    return data if data is not None else response.text


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
                        f"{creator} created a {object_name} owned by {victim} by sending owner_id: "
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
                f"{creator} gave a {object_name} to {victim} by sending owner_id in an update",
                object=object_name,
                action="update",
                actor=creator,
                expected="422, or the owner unchanged",
                actual=f"owner_id={stolen}",
            )
        ]
    return []
