"""Live probes of signing in: every login method works once, limits bite, no account probing."""

from __future__ import annotations

import secrets
from typing import Any

from wizard.checklist.context import CheckContext, check
from wizard.checklist.live import EMAIL_DOMAIN, SIGNUP_ACCEPTED, Persona, json_of, session
from wizard.checklist.results import Coverage, Finding, Outcome, Skip

# The login issue's numbers: at most 10 fast failed logins per account, then 429; at most
# 3 codes per phone number per 10 minutes.
MAX_FAILED_LOGINS = 10
MAX_CODE_SENDS = 3


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
    _not_limited(live.api.call("POST", "/auth/magic-link/request", body={"email": email}))
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
    _not_limited(live.api.call("POST", "/auth/phone/request", body={"phone": phone}))
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


def _not_limited(response: Any) -> None:
    """A 429 says nothing about the flow: the app's own limit stopped the check's request."""
    if response.status_code == 429:
        wait = response.headers.get("retry-after") or "a few minutes"
        raise Skip(
            f"the app's own rate limit answered {response.request.url.path} with 429: this "
            f"machine asked too often; run the check again in {wait} seconds"
            if wait.isdigit()
            else f"the app's own rate limit answered with 429; run the check again in {wait}"
        )


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
        if signup.status_code not in SIGNUP_ACCEPTED:
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
    """Sign-up, login and reset requests answer the same for known and unknown addresses.

    The known address is an account made for this run: the app limits reset emails, magic
    links and sign-ups per address, so a stored test account would meet those limits after a
    few runs and its pairs would no longer be compared. A pair the app still answers with
    429 is not compared, and the check then warns, naming it, instead of passing."""
    spec = ctx.need_spec()
    live = session(ctx)
    known, made = _known_account(live)
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
    if "email_password" in spec.login.methods:
        # Last, and with an address of its own: signing up makes the account it names.
        newcomer = f"shipyard-check-{live.run_id}-newcomer@{EMAIL_DOMAIN}"
        password = "Probe-" + secrets.token_urlsafe(12)
        pairs.append(
            (
                "sign-up",
                "/auth/signup",
                {"email": known.email, "password": password},
                {"email": newcomer, "password": password},
            )
        )
    findings = []
    compared: list[str] = []
    limited: dict[str, str] = {}
    for what, path, known_body, unknown_body in pairs:
        a = live.api.call("POST", path, body=known_body)
        b = live.api.call("POST", path, body=unknown_body)
        if 404 in (a.status_code, b.status_code) and a.status_code == b.status_code == 404:
            continue  # the route does not exist here
        if 429 in (a.status_code, b.status_code):
            # Rate limited: the answers say nothing about the account.
            wait = (a if a.status_code == 429 else b).headers.get("retry-after", "")
            limited[what] = f"POST {path} answered 429" + (
                f" (retry after {wait} s)" if wait else ""
            )
            continue
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
        if limited:
            raise Skip(
                "the app's own rate limits answered every pair with 429: "
                + "; ".join(f"{what}: {why}" for what, why in limited.items())
                + "; run the check again later"
            )
        raise Skip("no sign-in route that takes an email address could be compared")
    note = f"compared {', '.join(compared)}" + (
        f" for an account made for this run ({known.email})" if made else ""
    )
    if limited:
        note += f"; not compared: {', '.join(limited)} (rate limited)"
    outcome = Outcome.of(findings, note)
    outcome.coverage = Coverage(
        "sign-in routes compared",
        len(compared),
        len(compared) + len(limited),
        skipped=limited,
        fix="The app's own rate limit answered with 429; run the check again in a few minutes.",
    )
    return outcome


def _known_account(live: Any) -> tuple[Persona, bool]:
    """An existing account for the comparison, and whether it was made for this run: a new
    one (signed up, its address confirmed, as a real person's would be), or, when none can be
    made, a stored test account."""
    try:
        return live.make_persona("known"), True
    except Skip as exc:
        known = live.personas.get("other") or live.personas.get("owner")
        if known is None or not known.email:
            raise Skip(live.unavailable.get("other", exc.reason)) from None
        return known, False


def _body(response: Any) -> Any:
    data = json_of(response)
    return data if data is not None else response.text
