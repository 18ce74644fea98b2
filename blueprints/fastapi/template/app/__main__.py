"""Command line: `python -m app create-admin --email E --password P`, `openapi`, `alert-test`."""

import argparse
import asyncio
import sys
from pathlib import Path

from sqlalchemy import select

from app.core.db import SessionLocal, engine
from app.core.security import hash_password
from app.models.users import User


async def create_admin(email: str, password: str) -> str:
    """Create an admin, or make an existing user one (their password is left alone)."""
    email = email.strip().lower()
    async with SessionLocal() as db:
        user = await db.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(
                email=email, password_hash=hash_password(password), email_verified=True, roles=[]
            )
            db.add(user)
            outcome = f"Created admin {email}."
        else:
            outcome = f"{email} already had an account; it is now an admin."
        user.roles = sorted({*user.roles, "admin"})
        await db.commit()
    await engine.dispose()
    return outcome


def alert_test(as_json: bool) -> int:
    """Deliver one alert through the app's own settings; exit 0 only when it was accepted."""
    import json

    from app.core.alerts import alerter
    from app.core.config import settings

    problem = alerter.send_now(
        f"{settings.app_name} ({settings.environment}): test alert",
        "This is a test: alerts from your backend reach you here.",
        "alert-test",
    )
    destination = settings.alert_url.split("://", 1)[0] + "://" if settings.alert_url else ""
    if as_json:
        print(json.dumps({"delivered": not problem, "problem": problem, "destination": destination}))
    else:
        print(f"Not delivered: {problem}." if problem else f"Delivered to {destination}.")
    return 1 if problem else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create or promote an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    openapi = commands.add_parser("openapi", help="print the OpenAPI document (openapi.json)")
    openapi.add_argument("--write", action="store_true", help="write it to openapi.json")
    alert = commands.add_parser("alert-test", help="send a test alert to ALERT_URL now")
    alert.add_argument("--json", action="store_true", help="print the outcome as JSON")
    args = parser.parse_args(argv)
    if args.command == "alert-test":
        return alert_test(args.json)
    if args.command == "openapi":
        from app.api.contract import document_text

        if args.write:
            project = Path(__file__).resolve().parent.parent
            (project / "openapi.json").write_text(document_text(), encoding="utf-8")
        else:
            sys.stdout.write(document_text())
        return 0
    if not 8 <= len(args.password) <= 128:
        print("The password must be 8 to 128 characters long.", file=sys.stderr)
        return 2
    print(asyncio.run(create_admin(args.email, args.password)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
