"""Run a request again when PostgreSQL aborted its transaction for another host's (serialization failure, deadlock).

Installed only on PostgreSQL (SQLite's single writer never conflicts). A conflicting transaction was rolled back and
published nothing (after-commit work runs only after COMMIT), so running the whole request again is safe; the body
is kept for that as it is read (BodySizeLimit bounds it). After `attempts` conflicts in a row the answer is
`503 busy` with Retry-After, as for a database that cannot keep up. Nothing is retried once the response has begun.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterator

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartrlp.db.postgres import TransactionConflict
from smartrlp.db.store import DatabaseBusy
from smartrlp.web.errors import handle_api_error

log = logging.getLogger("smartrlp.db")
ATTEMPTS = 4
BACKOFF_SECONDS = 0.01


class RetryConflicts:
    def __init__(self, app: ASGIApp, attempts: int = ATTEMPTS) -> None:
        self.app = app
        self.attempts = attempts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # What the application read of the request, to hand it the same again on a retry. Read as it asks for it
        # (not ahead): BodySizeLimit's error must reach the application's error handling as before.
        read: list[Message] = []

        async def recording() -> Message:
            message = await receive()
            read.append(message)
            return message

        for attempt in range(self.attempts):
            replay = iter(list(read))
            started = False

            async def replayed(replay: Iterator[Message] = replay) -> Message:
                return next(replay, None) or await recording()

            async def tracked(message: Message) -> None:
                nonlocal started
                started = True
                await send(message)

            try:
                await self.app(scope, replayed, tracked)
                return
            except TransactionConflict:
                if started:
                    raise
                log.info("transaction conflict on %s %s, attempt %d", scope["method"], scope["path"], attempt + 1)
                # Jittered, growing pauses, so that the hosts that collided do not collide again at once.
                await asyncio.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))
        response = await handle_api_error(Request(scope), DatabaseBusy())
        await response(scope, receive, send)
