"""Command line: `python -m app create-admin --email E --password P`, `python -m app openapi`."""

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create or promote an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    openapi = commands.add_parser("openapi", help="print the OpenAPI document (openapi.json)")
    openapi.add_argument("--write", action="store_true", help="write it to openapi.json")
    args = parser.parse_args(argv)
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
