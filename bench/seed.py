"""Seed both APIs the same way through HTTP, then check owner-only access before any measuring."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx

from bench.procs import BenchError
from bench.targets import Account, Target


def accounts(users: int) -> list[Account]:
    return [
        Account(
            f"bench-user-{i:03d}@example.com",
            f"Bench-{i:03d}-correct-horse-battery",
            ip=f"10.8.{i // 200}.{i % 200 + 1}",
        )
        for i in range(users)
    ]


async def _bounded(jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> None:
    queue = list(reversed(jobs))

    async def worker() -> None:
        while queue:
            await queue.pop()()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def _client(target: Target, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=target.base_url, timeout=60, limits=limits)


async def seed(target: Target, people: list[Account], rows: int, concurrency: int = 16) -> None:
    """Sign every account up, then create `rows` records spread evenly over them."""
    async with _client(target, concurrency) as client:
        await _bounded([lambda a=a: target.signup(client, a) for a in people], concurrency)

        async def create(account: Account, n: int) -> None:
            account.record_ids.append(await target.create(client, account, n))

        owners = [people[n % len(people)] for n in range(rows)]
        jobs = [lambda a=a, n=n: create(a, n) for n, a in enumerate(owners)]
        await _bounded(jobs, concurrency)


async def check(target: Target, people: list[Account], samples: int = 20) -> list[str]:
    """Owner-only access, checked through the API: returns what was checked, raises on a failure."""
    rng = random.Random(8)
    done: list[str] = []
    async with _client(target, 4) as client:
        for _ in range(samples):
            owner, other = rng.sample(people, 2)
            record = rng.choice(owner.record_ids)
            own = await target.get(client, owner, record)
            if own.status_code != 200:
                raise BenchError(
                    f"{target.label}: the owner could not read their record: {own.status_code} {own.text}"
                )
            foreign = await target.get(client, other, record)
            if foreign.status_code != 404:
                raise BenchError(
                    f"{target.label}: another user's record answered {foreign.status_code}, not 404: {foreign.text}"
                )
        done.append(f"{samples} records: owner reads 200, another user gets 404")

        for account in rng.sample(people, min(samples, len(people))):
            status, rows = await target.list_own(client, account)
            if status != 200:
                raise BenchError(f"{target.label}: listing own records answered {status}")
            expected = min(20, len(account.record_ids))
            if len(rows) != expected:
                raise BenchError(
                    f"{target.label}: the list held {len(rows)} rows, expected {expected}"
                )
            strangers = [
                row
                for row in rows
                if row.owner != account.user_id or row.id not in account.record_ids
            ]
            if strangers:
                raise BenchError(
                    f"{target.label}: a list held another user's rows: {strangers[:3]}"
                )
            created = [datetime.fromisoformat(row.created.replace("Z", "+00:00")) for row in rows]
            if created != sorted(created, reverse=True):
                raise BenchError(f"{target.label}: the list is not newest first: {created}")
        done.append(f"{samples} lists: 20 own rows each, newest first, no one else's")

        status = await target.list_anonymous(client)
        if status not in (401, 403, 404):
            raise BenchError(f"{target.label}: a list without a token answered {status}")
        done.append(f"a list without a token is refused ({status})")
    return done
