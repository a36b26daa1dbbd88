"""Run a request again when PostgreSQL aborted its transaction for another host's (serialization failure, deadlock).

Installed only on PostgreSQL (SQLite's single writer never conflicts). A conflicting transaction was rolled back and
published nothing (after-commit work runs only after COMMIT), so running the whole request again is safe; the body
is kept for that (BodySizeLimit bounds it). After `attempts` conflicts in a row the answer is `503 busy` with
Retry-After, as for a database that cannot keep up. Nothing is retried once the response has begun.
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
        body: list[Message] = []
        while True:
            message = await receive()
            body.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        for attempt in range(self.attempts):
            replay = iter(body)
            started = False

            async def replayed(replay: Iterator[Message] = replay) -> Message:
                return next(replay, None) or await receive()

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
