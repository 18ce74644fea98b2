"""python -m bench.attacks [PROJECT]: rerun the red team's attacks on a rendered backend served
as in production, and measure whether a password reset's timing tells who has an account.

PROJECT is a rendered project with all three login methods (default: examples/club-house.yaml,
rendered into a temporary folder). It is served the way its Dockerfile's CMD serves it (uvicorn,
--no-proxy-headers) with ENVIRONMENT=production on a throwaway PostgreSQL cluster, connecting as
the API's own role; its emails go over SMTP to a local receiver and its texts to a local
stand-in for the SMS provider's HTTP API, so every request takes the production code path.
Uses this interpreter, which must have the project's dependencies (the shared venv has them).

Prints one line per attack (refused or BROKEN) and the timing figures; exits 1 if any broke.
Bounded: about three minutes on a busy two-core machine (load 11); every step has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx

from bench.postgres import Cluster
from bench.procs import BenchError, free_port, run, spawn, stop, stop_all, tail, wait_http

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r"token=([A-Za-z0-9_\-]+)")
CODE = re.compile(r"\b(\d{6})\b")
PASSWORD = "a long and private passphrase 7"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


# --- the outside world, locally ---------------------------------------------------------


class MailReceiver:
    """An SMTP server (aiosmtpd) keeping every message, readable by recipient."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        receiver = self
        self.messages: list[tuple[str, str]] = []

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = message_from_bytes(envelope.content, policy=policy.default)
                body = message.get_body(("plain",))
                text = body.get_content() if body is not None else str(message)
                for to in envelope.rcpt_tos:
                    receiver.messages.append((to.lower(), text))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.port = self.controller.port

    def last(self, to: str, pattern: re.Pattern[str] = TOKEN, timeout: float = 10.0) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for recipient, text in reversed(self.messages):
                if recipient == to.lower() and (found := pattern.search(text)):
                    return found.group(1)
            time.sleep(0.05)
        return None

    def close(self) -> None:
        self.controller.stop()


class SmsReceiver:
    """Twilio's Messages endpoint, as much of it as the app uses."""

    def __init__(self) -> None:
        texts = self.texts = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                texts.append((form["To"][0], form["Body"][0]))
                payload = json.dumps({"sid": "SM1", "status": "queued"}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def last_code(self, to: str) -> str | None:
        for recipient, body in reversed(self.texts):
            if recipient == to and (found := CODE.search(body)):
                return found.group(1)
        return None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the server -------------------------------------------------------------------------


class Production:
    """The rendered app under production settings, started as its Dockerfile starts it."""

    def __init__(self, project: Path, cluster: Cluster, mail: MailReceiver, sms: SmsReceiver):
        self.project, self.cluster, self.proc = project, cluster, None
        self.database = "attacks"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkdtemp(prefix="shipyard-attacks-")) / "server.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATABASE_URL"))},
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(project),
            "PYTHONUNBUFFERED": "1",
            "ENVIRONMENT": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": cluster.url(self.database),
            "API_DATABASE_URL": cluster.url(self.database).replace(
                "postgres@", f"{self.database}_api:attacks-api-password@", 1
            ),
            "CORS_ORIGINS": "https://app.example.com",
            "FRONTEND_URL": "https://app.example.com",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail.port),
            "SMTP_SECURITY": "none",
            "SMS_API_BASE_URL": f"http://127.0.0.1:{sms.port}",
            "SMS_ACCOUNT_SID": "AC" + secrets.token_hex(16),
            "SMS_AUTH_TOKEN": secrets.token_urlsafe(24),
            "SMS_FROM": "+15005550006",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(self.log.parent / "prometheus"),
            "TRUSTED_PROXIES": "",
        }

    def migrate(self) -> None:
        self.cluster.create_database(self.database)
        run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            env=self.env,
            cwd=self.project,
            timeout=120,
        )

    def command(self) -> list[str]:
        from bench.shipyard_app import dockerfile_command

        return [part.replace("0.0.0.0", "127.0.0.1") for part in dockerfile_command(self.project)]

    def start(self, **changes: str) -> None:
        env = {**self.env, **changes}
        self.proc = spawn(self.command(), log=self.log, env=env, cwd=self.project)
        wait_http(f"{self.base_url}/health", self.proc, self.log, timeout=90)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def refuses_to_start(self, expected: str, **changes: str) -> tuple[bool, str]:
        """Whether the server exits with `expected` in its log instead of serving with these
        settings, and the line that says why."""
        env = {**self.env, **changes, "PORT": str(free_port())}
        log = self.log.parent / f"refusal-{len(list(self.log.parent.glob('refusal-*')))}.log"
        proc = spawn(self.command(), log=log, env=env, cwd=self.project)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stop(proc)
            return False, "it served"
        text = tail(log, 200)
        reason = next((line.strip() for line in text.splitlines() if expected in line), None)
        stop(proc)
        if reason is None:
            return False, f"exit {proc.returncode} without {expected!r}: " + (
                text.splitlines() or [""]
            )[-1]
        return proc.returncode != 0, reason[:160]

    def app(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`python -m app ...` as an operator runs it, with the production settings."""
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            env=self.env,
            cwd=self.project,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


# --- the attacks ------------------------------------------------------------------------


Result = tuple[str, bool, str]  # attack, refused, what was seen


class Attacks:
    def __init__(self, server: Production, mail: MailReceiver, sms: SmsReceiver) -> None:
        self.server, self.mail, self.sms = server, mail, sms
        self.results: list[Result] = []
        self.http = httpx.AsyncClient(base_url=server.base_url, timeout=30)

    def record(self, attack: str, refused: bool, seen: str) -> None:
        self.results.append((attack, refused, seen))
        print(f"{'refused' if refused else 'BROKEN '}  {attack}: {seen}", flush=True)

    async def login(
        self, email: str, password: str = PASSWORD, ip: str | None = None
    ) -> httpx.Response:
        headers = {"X-Forwarded-For": ip} if ip else {}
        return await self.http.post(
            "/auth/login", json={"email": email, "password": password}, headers=headers
        )

    async def magic_sign_in(self, email: str) -> str | None:
        await self.http.post("/auth/magic-link/request", json={"email": email})
        token = await asyncio.to_thread(self.mail.last, email)
        if token is None:
            return None
        answer = await self.http.post("/auth/magic-link/verify", json={"token": token})
        return answer.json().get("access_token") if answer.status_code == 200 else None

    async def confirmed_account(self, email: str) -> str:
        """Sign up, follow the confirmation email, sign in: the access token."""
        await self.http.post("/auth/signup", json={"email": email, "password": PASSWORD})
        token = await asyncio.to_thread(self.mail.last, email)
        await self.http.post("/auth/verify-email", json={"token": token})
        answer = await self.login(email)
        if answer.status_code != 200:
            raise BenchError(
                f"could not sign in a confirmed account: {answer.status_code} {answer.text}"
            )
        return answer.json()["access_token"]

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    # -- accounts --
    async def pre_account_hijacking(self) -> None:
        victim, attacker_password = "victim@example.com", "the attacker's own password 1"
        await self.http.post("/auth/signup", json={"email": victim, "password": attacker_password})
        early = await self.login(victim, attacker_password)
        self.record(
            "pre-hijack: sign in before the address is confirmed",
            early.status_code != 200,
            str(early.status_code),
        )
        victim_token = await self.magic_sign_in(victim)
        if victim_token is None:
            self.record("pre-hijack: the victim signs in by magic link", False, "no sign-in")
            return
        later = await self.login(victim, attacker_password)
        self.record(
            "pre-hijack (classic-federated merge): the attacker's password after the victim's magic link",
            later.status_code != 200,
            str(later.status_code),
        )
        me = await self.http.get("/auth/me", headers=self.bearer(victim_token))
        self.record(
            "pre-hijack: the victim's account is a fresh one, with no password the attacker set",
            me.status_code == 200 and me.json().get("email") == victim,
            f"/auth/me {me.status_code}",
        )

    async def admin_takeover(self) -> None:
        founder, attacker_password = "founder@example.com", "the attacker's own password 2"
        await self.http.post("/auth/signup", json={"email": founder, "password": attacker_password})
        made = self.server.app(
            "create-admin", "--email", founder, "--password", "the founder's chosen password 3"
        )
        attacker = await self.login(founder, attacker_password)
        roles = []
        if attacker.status_code == 200:
            me = await self.http.get(
                "/auth/me", headers=self.bearer(attacker.json()["access_token"])
            )
            roles = me.json().get("roles", [])
        self.record(
            "admin takeover: create-admin on an address someone pre-registered",
            made.returncode == 2 and "admin" not in roles,
            f"exit {made.returncode}; attacker's password {attacker.status_code}, roles {roles}",
        )

    async def email_change_and_second_identifier(self, token: str) -> None:
        attempts = [("PATCH", "/auth/me"), ("PUT", "/auth/me"), ("POST", "/auth/me")]
        statuses = [
            (
                await self.http.request(
                    m,
                    p,
                    json={"email": "attacker@example.com", "phone": "+14155550199"},
                    headers=self.bearer(token),
                )
            ).status_code
            for m, p in attempts
        ]
        self.record(
            "email change / second identifier on the signed-in account",
            all(s == 405 for s in statuses),
            str(statuses),
        )

    # -- client addresses --
    async def rotating_forwarded_for(self) -> None:
        target = "rotate@example.com"
        await self.confirmed_account(target)
        statuses = [
            (await self.login(target, f"wrong guess {n}", ip=f"198.51.100.{n}")).status_code
            for n in range(1, 21)
        ]
        self.record(
            "rotating X-Forwarded-For: 20 wrong passwords for one account",
            429 in statuses,
            f"first 429 at try {statuses.index(429) + 1 if 429 in statuses else None}",
        )
        texts = []
        for n in range(25):
            answer = await self.http.post(
                "/auth/phone/request",
                json={"phone": f"+1415555{n:04d}"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
            texts.append(answer.status_code)
        self.record(
            "rotating X-Forwarded-For: 25 texts to new numbers (limit 20 per address)",
            texts.count(202) <= 20 and 429 in texts,
            f"{texts.count(202)} sent, {texts.count(429)} refused",
        )

    # -- input that does not fit --
    async def out_of_range(self, admin: str) -> None:
        group = await self.http.post(
            "/api/groups", json={"name": "range"}, headers=self.bearer(admin)
        )
        group_id = group.json()["id"]
        probes: list[tuple[str, Callable[[], Awaitable[httpx.Response]]]] = [
            (
                "GET id 2**31",
                lambda: self.http.get("/api/groups/2147483648", headers=self.bearer(admin)),
            ),
            (
                "GET id 2**64",
                lambda: self.http.get(f"/api/groups/{2**64}", headers=self.bearer(admin)),
            ),
            (
                "offset 2**64",
                lambda: self.http.get(f"/api/groups?offset={2**64}", headers=self.bearer(admin)),
            ),
            (
                "ref 2**31",
                lambda: self.http.post(
                    "/api/classes", json={"group": 2**31}, headers=self.bearer(admin)
                ),
            ),
            (
                "ref 2**64",
                lambda: self.http.post(
                    "/api/classes", json={"group": 2**64}, headers=self.bearer(admin)
                ),
            ),
            (
                "version 2**64",
                lambda: self.http.patch(
                    f"/api/groups/{group_id}",
                    json={"name": "x", "version": 2**64},
                    headers=self.bearer(admin),
                ),
            ),
            (
                'If-Match "²"',
                lambda: self.http.patch(
                    f"/api/groups/{group_id}",
                    json={"name": "x"},
                    headers={**self.bearer(admin), "If-Match": '"²"'.encode()},
                ),
            ),
            (
                "If-Match 2**64",
                lambda: self.http.patch(
                    f"/api/groups/{group_id}",
                    json={"name": "x"},
                    headers={**self.bearer(admin), "If-Match": f'"{2**64}"'},
                ),
            ),
            (
                "NUL in a string",
                lambda: self.http.post(
                    "/api/groups", json={"name": "a\u0000b"}, headers=self.bearer(admin)
                ),
            ),
            (
                "int beyond the column",
                lambda: self.http.post(
                    "/api/classes",
                    json={"group": group_id, "capacity": 2**31},
                    headers=self.bearer(admin),
                ),
            ),
            (
                '"10" for an int',
                lambda: self.http.post(
                    "/api/classes",
                    json={"group": group_id, "capacity": "10"},
                    headers=self.bearer(admin),
                ),
            ),
            (
                "true for an int",
                lambda: self.http.post(
                    "/api/classes",
                    json={"group": group_id, "capacity": True},
                    headers=self.bearer(admin),
                ),
            ),
            (
                "10 MB body",
                lambda: self.http.post(
                    "/api/groups",
                    content=b'{"name": "' + b"x" * 10_000_000 + b'"}',
                    headers={**self.bearer(admin), "Content-Type": "application/json"},
                ),
            ),
        ]
        for name, probe in probes:
            answer = await probe()
            self.record(f"input: {name}", 400 <= answer.status_code < 500, str(answer.status_code))

    async def passwords(self) -> None:
        same = await self.http.post(
            "/auth/signup",
            json={"email": "same.as.email@example.com", "password": "same.as.email@example.com"},
        )
        self.record("a password equal to the email", same.status_code == 422, str(same.status_code))
        named = await self.http.post(
            "/auth/signup",
            json={"email": "named@example.com", "password": "my club house password"},
        )
        self.record(
            "a password containing the app's name", named.status_code == 422, str(named.status_code)
        )

    # -- headers --
    async def headers(self, token: str) -> None:
        answers = [
            await self.http.get("/health"),
            await self.http.get("/no/such/route"),
            await self.http.get("/auth/me"),
            await self.http.post("/auth/login", json={}),
            await self.http.post(
                "/auth/login", json={"email": "rotate@example.com", "password": "nope nope nope"}
            ),
            await self.http.get("/api/groups", headers=self.bearer(token)),
            await self.http.get("/docs"),
            await self.http.get("/health", headers={"X-Forwarded-Proto": "https"}),
        ]
        missing = [
            f"{a.request.method} {a.request.url.path} {a.status_code}: {name}"
            for a in answers
            for name, value in SECURITY_HEADERS.items()
            if a.headers.get(name) != value
        ]
        self.record(
            "security headers on every answer",
            not missing,
            "; ".join(missing) or f"{len(answers)} answers",
        )
        hsts = [a for a in answers if "strict-transport-security" in a.headers]
        self.record(
            "no HSTS over plain HTTP (an untrusted X-Forwarded-Proto ignored)",
            not hsts,
            f"{len(hsts)} with HSTS",
        )
        outbox = await self.http.get("/dev/outbox", headers=self.bearer(token))
        self.record(
            "no /dev/outbox in production", outbox.status_code == 404, str(outbox.status_code)
        )

    async def run(self) -> None:
        await self.pre_account_hijacking()
        await self.admin_takeover()
        made = self.server.app(
            "create-admin",
            "--email",
            "real.admin@example.com",
            "--password",
            "the real admin's password 4",
        )
        if made.returncode != 0:
            raise BenchError(f"create-admin failed: {made.stdout}{made.stderr}")
        admin = (await self.login("real.admin@example.com", "the real admin's password 4")).json()[
            "access_token"
        ]
        await self.email_change_and_second_identifier(admin)
        await self.rotating_forwarded_for()
        await self.out_of_range(admin)
        await self.passwords()
        await self.headers(admin)
        await self.http.aclose()


# --- timing -----------------------------------------------------------------------------


async def reset_timing(server: Production, pairs: int) -> str:
    """Known and unknown addresses, one request each (per-address limits stay untouched),
    interleaved in a seeded random order; each from its own forwarded address."""
    import random

    known = [f"known.{n}@example.com" for n in range(pairs)]
    values = ", ".join(f"('{email}', true, true, '[]')" for email in known)
    server.cluster.psql(
        server.database,
        f"INSERT INTO users (email, email_verified, is_active, roles, created_at, updated_at) SELECT e, v, a, r::json, now(), now() FROM (VALUES {values}) AS t(e, v, a, r)",
    )
    order = random.Random(17)
    differences: list[float] = []
    sequence: list[str] = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        for n in range(-5, pairs):  # five unmeasured pairs warm the server up
            took = {}
            sides = [
                ("known", known[max(n, 0)] if n >= 0 else f"warm.{n}@example.com"),
                ("unknown", f"nobody.{n}@example.com"),
            ]
            order.shuffle(sides)
            for side, email in sides:
                headers = {
                    "X-Forwarded-For": f"10.{side == 'known':d}.{(n + 5) // 250}.{(n + 5) % 250 + 1}"
                }
                start = time.perf_counter()
                answer = await client.post(
                    "/auth/password-reset/request", json={"email": email}, headers=headers
                )
                took[side] = time.perf_counter() - start
                if answer.status_code != 202:
                    raise BenchError(f"reset request: {answer.status_code} {answer.text}")
            if n >= 0:
                differences.append(took["known"] - took["unknown"])
            sequence += [side for side, _ in sides]
    # The server's own view: its request log's duration_ms, line by line in the same order
    # (one worker, one request at a time), free of this process's own scheduling noise.
    logged = [
        record["duration_ms"] / 1000
        for line in server.log.read_text(errors="replace").splitlines()
        if line.startswith("{") and '"/auth/password-reset/request"' in line
        for record in [json.loads(line)]
        if record.get("message") == "request"
    ][-len(sequence) :]
    served = (
        [
            logged[i] - logged[i + 1] if sequence[i] == "known" else logged[i + 1] - logged[i]
            for i in range(len(sequence) - 2 * pairs, len(sequence), 2)
        ]
        if len(logged) == len(sequence)
        else []
    )
    return "\n".join(
        f"password reset, production, PostgreSQL (synchronous_commit on), SMTP, {where}: "
        f"known - unknown = {median * 1000:+.3f} ms, median of {len(ds)} pairs, "
        f"standard error {se * 1000:.3f} ms"
        for where, ds in (("client-side", differences), ("server-side", served))
        if ds
        for median in [statistics.median(ds)]
        for se in [1.253 * 1.4826 * statistics.median(abs(d - median) for d in ds) / len(ds) ** 0.5]
    )


# --- main -------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.attacks", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "project", nargs="?", type=Path, help="a rendered project with every login method"
    )
    parser.add_argument("--pairs", type=int, default=200, help="pairs of reset requests timed")
    parser.add_argument(
        "--commit-pairs",
        type=int,
        default=400,
        help="pairs of the reset's database work timed alone",
    )
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="shipyard-attacks-project-"))
    project = args.project
    if project is None:
        sys.path.insert(0, str(ROOT))
        from wizard.blueprints import render
        from wizard.spec import load_spec

        project = scratch / "club-house"
        say(f"rendering examples/club-house.yaml into {project}")
        render(load_spec(ROOT / "examples" / "club-house.yaml"), project)
    started = time.monotonic()
    cluster, mail, sms = Cluster(), MailReceiver(), SmsReceiver()
    try:
        say("starting PostgreSQL")
        cluster.start()
        server = Production(project.resolve(), cluster, mail, sms)
        server.migrate()
        say("the server must refuse to start with unsafe production settings")
        refusals = [
            ("production with CORS_ORIGINS=*", "CORS_ORIGINS is *", {"CORS_ORIGINS": "*"}),
            (
                "production on SQLite (DATABASE_URL empty)",
                "DATABASE_URL is empty or SQLite",
                {"DATABASE_URL": "", "API_DATABASE_URL": ""},
            ),
            (
                "production with a SECRET_KEY of 32 identical characters",
                "SECRET_KEY",
                {"SECRET_KEY": "a" * 32},
            ),
        ]
        results: list[Result] = []
        for name, expected, changes in refusals:
            refused, why = server.refuses_to_start(expected, **changes)
            results.append((name, refused, why))
            print(f"{'refused' if refused else 'BROKEN '}  {name}: {why}", flush=True)
        say(f"serving {project.name} with ENVIRONMENT=production at {server.base_url}")
        server.start()
        attacks = Attacks(server, mail, sms)
        asyncio.run(attacks.run())
        results += attacks.results
        server.stop()
        say(
            f"timing {args.pairs} pairs of password-reset requests (behind a trusted proxy: 127.0.0.1)"
        )
        cluster.psql("postgres", "ALTER SYSTEM SET synchronous_commit = on")
        cluster.psql("postgres", "SELECT pg_reload_conf()")
        server.start(TRUSTED_PROXIES="127.0.0.1")
        figures = asyncio.run(reset_timing(server, args.pairs))
        server.stop()
        say(
            f"timing the reset's database work alone, {args.commit_pairs} pairs (bench/reset_commit.py)"
        )
        alone = run(
            [
                sys.executable,
                str(Path(__file__).with_name("reset_commit.py")),
                str(args.commit_pairs),
            ],
            env=server.env,
            cwd=server.project,
            timeout=900,
        )
        figures += "\n" + alone.stdout.strip()
    finally:
        stop_all()
        cluster.stop()
        mail.close()
        sms.close()
        shutil.rmtree(scratch, ignore_errors=True)
    broken = [r for r in results if not r[1]]
    print(
        f"\n{len(results) - len(broken)} refused, {len(broken)} broken, of {len(results)} attacks "
        f"({time.monotonic() - started:.0f} s)"
    )
    print(figures)
    return 1 if broken else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as error:
        print(f"bench.attacks: {error}", file=sys.stderr)
        sys.exit(2)
