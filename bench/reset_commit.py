"""What a password-reset request's database work costs for a known and an unknown address.

Run inside a rendered project (cwd and PYTHONPATH the project, DATABASE_URL a PostgreSQL
database at head whose commits wait for the disk); bench/attacks.py does. It times
app.auth.email_tokens.issue_for_address plus the commit, in interleaved pairs, with the app's
code as it is and with its `SET LOCAL synchronous_commit TO OFF` replaced by `SELECT 1`, to show
what that line is for. Prints one line per variant.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from datetime import timedelta

import sqlalchemy
from app.auth import email_tokens
from app.core.db import SessionLocal, engine
from app.models import User

KNOWN, UNKNOWN = "reset.commit.known@example.com", "reset.commit.unknown@example.com"


async def measure(pairs: int, as_rendered: bool) -> str:
    if not as_rendered:
        email_tokens.text = lambda _: sqlalchemy.text("SELECT 1")  # type: ignore[assignment]
    order = random.Random(17)
    differences = []
    for _ in range(pairs):
        took = {}
        sides = [KNOWN, UNKNOWN]
        order.shuffle(sides)
        for email in sides:
            start = time.perf_counter()
            async with SessionLocal() as db:
                await email_tokens.issue_for_address(
                    db, email, "password_reset", timedelta(hours=1)
                )
                await db.commit()
            took[email] = time.perf_counter() - start
        differences.append(took[KNOWN] - took[UNKNOWN])
    email_tokens.text = sqlalchemy.text
    median = statistics.median(differences)
    spread = 1.4826 * statistics.median(abs(d - median) for d in differences)
    variant = "as rendered" if as_rendered else "without synchronous_commit off"
    return (
        f"issue_for_address + commit, {variant}: known - unknown = {median * 1000:+.3f} ms, "
        f"median of {pairs} pairs, standard error {1.253 * spread / pairs**0.5 * 1000:.3f} ms"
    )


async def main(pairs: int) -> None:
    async with SessionLocal() as db:
        db.add(User(email=KNOWN, email_verified=True, roles=[]))
        await db.commit()
    for as_rendered in (True, False, True, False):
        print(await measure(pairs, as_rendered), flush=True)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 400))
