"""Requests take their turn in arrival order, no more at once than the pool has connections."""

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send


class FairAdmission:
    """At most `limit` requests run at once in this worker; the rest wait, first come first
    served.

    The database pool hands a returned connection to whichever request asks next, so under
    load a newcomer can overtake a request that is already waiting, again and again: a few
    requests then wait seconds while the rest are quick. With no more requests inside than
    connections in the pool, nobody queues there, and asyncio's semaphore is first in, first
    out. The liveness check (/health) never waits: it must answer while the app is busy.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.slots = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        async with self.slots:
            await self.app(scope, receive, send)
