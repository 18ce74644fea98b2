"""Command line: `python -m app create-admin --email E --password P`, `admin-session`,
`openapi`, `alert-test`, `count` (what a schema change would touch, for `shipyard update`),
and the operator's questions, answered in JSON (app/operator.py): `outbox`, `limits`,
`check-migrations`, `request METHOD PATH`, `grant-admin --user-id N`, `row-security`."""

import argparse
import asyncio
import json
import sys
from pathlib import Path

from sqlalchemy import select, update

from app.auth.sessions import recent_sessions, start_session
from app.core.db import SessionLocal, engine, utcnow
from app.core.security import hash_password
from app.models.users import Session, Token, User

# Exit codes: 0 done, 2 refused (nothing changed; the message says what to run instead).
REFUSED = 2


class Refused(Exception):
    """create-admin would have promoted a password the operator did not set."""


async def create_admin(
    email: str, password: str, *, reset_password: bool = False, promote_existing: bool = False
) -> str:
    """Create an admin. An address that already has an account is refused (Refused), since
    whoever signed up with it chose its password: --reset-password gives it the password
    given and ends its sessions; --promote-existing keeps its password, and only for an
    account whose address was confirmed."""
    email = email.strip().lower()
    try:
        async with SessionLocal() as db:
            user = await db.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(
                    email=email,
                    password_hash=hash_password(password),
                    email_verified=True,
                    roles=[],
                )
                db.add(user)
                outcome = f"Created admin {email}."
            elif reset_password:
                now = utcnow()
                ended = await db.execute(
                    update(Session)
                    .where(Session.user_id == user.id, Session.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
                await db.execute(
                    update(Token)
                    .where(Token.user_id == user.id, Token.used_at.is_(None))
                    .values(used_at=now)
                )
                user.password_hash = hash_password(password)
                user.email_verified = True  # the operator vouches for the address
                user.is_active = True
                count = ended.rowcount or 0
                outcome = (
                    f"{email} already had an account: it is now an admin, its password is the one "
                    f"given, and its {count} open session{'s' if count != 1 else ''} ended."
                )
            elif promote_existing and user.email_verified and user.is_active:
                outcome = (
                    f"{email} already had an account with a confirmed address: it is now an admin "
                    "and keeps its own password (the one given was not used)."
                )
            else:
                confirmed = user.email_verified
                await db.rollback()
                if promote_existing:
                    why = (
                        "its address was never confirmed, so its password may be a stranger's"
                        if not confirmed
                        else "it is disabled"
                    )
                    raise Refused(
                        f"{email} already has an account, and it was not promoted: {why}. "
                        "Run again with --reset-password instead to make it an admin with the "
                        "password given (its open sessions end)."
                    )
                raise Refused(
                    f"{email} already has an account, whose password was not set by you; nothing "
                    "changed. Run again with --reset-password to make it an admin with the password "
                    "given (its open sessions end), or with --promote-existing to keep its password "
                    "(only for a confirmed address you know is that person's)."
                )
            user.roles = sorted({*user.roles, "admin"})
            await db.commit()
            recent_sessions.forget(user_id=user.id)
    finally:
        await engine.dispose()
    return outcome


async def admin_session(who: str) -> dict[str, str]:
    """Sign an admin in from the server itself: a new session for the active admin whose
    email (or phone number) is `who`, as a token pair. It is how Shipyard signs the staging
    admin in where the app has no password login (magic link or phone only); it needs what
    only the operator has (a shell where the app runs, with its database and secrets)."""
    who = who.strip()
    found = User.phone == who if who.startswith("+") else User.email == who.lower()
    try:
        async with SessionLocal() as db:
            user = await db.scalar(select(User).where(found))
            if user is None or not user.is_active or "admin" not in user.roles:
                raise Refused(f"{who} is not an active admin's account; no session was opened.")
            tokens = await start_session(db, user)
            await db.commit()
    finally:
        await engine.dispose()
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token}


def alert_test(as_json: bool) -> int:
    """Deliver one alert through the app's own settings; exit 0 only when it was accepted."""
    from app.core.alerts import alerter
    from app.core.config import settings

    problem = alerter.send_now(
        f"{settings.app_name} ({settings.environment}): test alert",
        "This is a test: alerts from your backend reach you here.",
        "alert-test",
    )
    destination = settings.alert_url.split("://", 1)[0] + "://" if settings.alert_url else ""
    if as_json:
        print(
            json.dumps({"delivered": not problem, "problem": problem, "destination": destination})
        )
    else:
        print(f"Not delivered: {problem}." if problem else f"Delivered to {destination}.")
    return 1 if problem else 0


async def count(targets: list[str]) -> dict[str, int | None]:
    """Rows of each TABLE, values (not null) of each TABLE.COLUMN; None where there is none."""
    from sqlalchemy import column, func, inspect, table

    def present(connection) -> dict[str, set[str]]:
        found = inspect(connection)
        return {
            name: {c["name"] for c in found.get_columns(name)} for name in found.get_table_names()
        }

    counts: dict[str, int | None] = {}
    # As the tables' owner (DATABASE_URL), with the one setting its row-level security
    # policy reads (owner_lookup, alembic/versions/0001): a count must see every row, and the
    # API's role, with no caller, would see none of an owner-only table.
    from sqlalchemy import func as sql_func
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.core.config import settings

    owner = engine if settings.is_sqlite else create_async_engine(settings.sqlalchemy_url)
    async with owner.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(select(sql_func.set_config("app.rls_lookup", "on", True)))
        schema = await connection.run_sync(present)
        for target in targets:
            name, _, field = target.partition(".")
            if name not in schema or (field and field not in schema[name]):
                counts[target] = None
                continue
            what = func.count(column(field)) if field else func.count()
            counts[target] = await connection.scalar(select(what).select_from(table(name)))
    await owner.dispose()
    await engine.dispose()
    return counts


OPERATOR_COMMANDS = frozenset({"outbox", "limits", "check-migrations", "request", "grant-admin"})


def operator_command(args: argparse.Namespace) -> int:
    """One of app/operator.py's answers, printed as one line of JSON."""
    from app import operator

    if args.command == "outbox":
        answer: object = asyncio.run(operator.outbox(args.limit))
    elif args.command == "limits":
        answer = operator.limits()
    elif args.command == "check-migrations":
        answer = operator.check_migrations()
    elif args.command == "request":
        answer = {"status": operator.request_status(args.method, args.path)}
    elif not asyncio.run(operator.grant_admin(args.user_id)):
        print(json.dumps({"granted": False, "error": f"no account has id {args.user_id}"}))
        return REFUSED
    else:
        answer = {"granted": True}
    print(json.dumps(answer))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    existing = admin.add_mutually_exclusive_group()
    existing.add_argument(
        "--reset-password",
        action="store_true",
        help="if the address has an account: make it an admin with this password, ending its sessions",
    )
    existing.add_argument(
        "--promote-existing",
        action="store_true",
        help="if the address has a confirmed account: make it an admin, keeping its password",
    )
    session = commands.add_parser(
        "admin-session",
        help="open a session for an admin (by email or +phone) and print its tokens as JSON",
    )
    session.add_argument("--who", required=True, metavar="EMAIL_OR_PHONE")
    commands.add_parser(
        "row-security", help="what PostgreSQL enforces: policies, FORCE, the API's role (JSON)"
    )
    openapi = commands.add_parser("openapi", help="print the OpenAPI document (openapi.json)")
    openapi.add_argument(
        "--write", action="store_true", help="write openapi.json and client/api.ts from it"
    )
    alert = commands.add_parser("alert-test", help="send a test alert to ALERT_URL now")
    alert.add_argument("--json", action="store_true", help="print the outcome as JSON")
    counter = commands.add_parser("count", help="count rows (TABLE) or values (TABLE.COLUMN)")
    counter.add_argument("targets", nargs="+", metavar="TABLE[.COLUMN]")
    counter.add_argument("--json", action="store_true", help="print the counts as JSON")
    box = commands.add_parser("outbox", help="the newest outbox messages, newest first (JSON)")
    box.add_argument("--limit", type=int, default=100)
    commands.add_parser("limits", help="the numeric settings in force (JSON; never a secret)")
    commands.add_parser(
        "check-migrations",
        help="apply every migration to DATABASE_URL, then compare the models with it (JSON)",
    )
    asked = commands.add_parser("request", help="the status the app answers, asked in process")
    asked.add_argument("method")
    asked.add_argument("path")
    grant = commands.add_parser("grant-admin", help="give an account the admin role")
    grant.add_argument("--user-id", type=int, required=True)
    args = parser.parse_args(argv)
    if args.command in OPERATOR_COMMANDS:
        return operator_command(args)
    if args.command == "count":
        counts = asyncio.run(count(args.targets))
        print(
            json.dumps(counts) if args.json else "\n".join(f"{k}: {v}" for k, v in counts.items())
        )
        return 0
    if args.command == "alert-test":
        return alert_test(args.json)
    if args.command == "admin-session":
        try:
            print(json.dumps(asyncio.run(admin_session(args.who))))
        except Refused as refused:
            print(refused, file=sys.stderr)
            return REFUSED
        return 0
    if args.command == "row-security":
        from app.core.row_security import report

        print(json.dumps(asyncio.run(report()), indent=2))
        return 0
    if args.command == "openapi":
        from app.api.contract import client_text, document_text

        if args.write:
            project = Path(__file__).resolve().parent.parent
            (project / "openapi.json").write_text(document_text(), encoding="utf-8")
            (project / "client").mkdir(exist_ok=True)
            (project / "client" / "api.ts").write_text(client_text(), encoding="utf-8")
        else:
            sys.stdout.write(document_text())
        return 0
    if not 8 <= len(args.password) <= 128:
        print("The password must be 8 to 128 characters long.", file=sys.stderr)
        return 2
    try:
        outcome = asyncio.run(
            create_admin(
                args.email,
                args.password,
                reset_password=args.reset_password,
                promote_existing=args.promote_existing,
            )
        )
    except Refused as refused:
        print(refused, file=sys.stderr)
        return REFUSED
    print(outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())
