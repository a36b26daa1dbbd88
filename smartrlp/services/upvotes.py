"""Upvotes in a burst: the ones that arrive together are written together, each answered after the commit.

"Please support the questions you want answered" makes thousands of phones tap within seconds, mostly on the same
few questions. `questions.upvote` is one transaction of half a dozen statements per vote, and under the writer
lock those run one after the other: 2,000 upvotes took 2.5 s to answer on a loaded machine (docs/performance.md).
`UpvoteBatcher` takes whatever has queued meanwhile and applies the same rules (the question approved and in the
event, one vote per device, a blocked device's vote kept but not counted) in a few statements for the whole batch,
with one logged `votes` change per question. The answer is the one `questions.upvote` gives, the count being the
question's after the batch.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

from smartrlp.core.errors import ApiError
from smartrlp.db.postgres import TransactionConflict
from smartrlp.db.store import DatabaseBusy
from smartrlp.services.context import Context
from smartrlp.services.questions import Upvote, store_upvotes

log = logging.getLogger("smartrlp.upvotes")

MAX_BATCH = 1000
# A batch that lost to another host's transaction (PostgreSQL: deadlock, serialization failure) runs again, as
# web/middleware/retry.py does for a request: the batch is one request for this purpose.
CONFLICT_ATTEMPTS = 4
CONFLICT_BACKOFF_SECONDS = 0.01


@dataclass(slots=True)
class _Upvote:
    event_id: int
    question_id: int
    device: str
    done: asyncio.Future[dict[str, Any]]


class UpvoteBatcher:
    """Collects upvotes while a batch is being written; one writing task at a time, started when needed."""

    def __init__(self) -> None:
        self._pending: list[_Upvote] = []
        self._writing: asyncio.Task[None] | None = None
        self.batches_written = 0

    async def upvote(self, ctx: Context, event_id: int, question_id: int, *, device: str) -> dict[str, Any]:
        done: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Upvote(event_id, question_id, device, done))
        if self._writing is None:
            # A task of its own: a caller that goes away must not take the others' batch with it.
            self._writing = asyncio.get_running_loop().create_task(self._write_all(ctx))
        return await asyncio.shield(done)

    async def _write_all(self, ctx: Context) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._write(ctx, batch)
        finally:
            self._writing = None

    async def _store(self, ctx: Context, batch: list[_Upvote]) -> list[dict[str, Any] | ApiError]:
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                async with ctx.db.transaction() as tx:
                    return await store_upvotes(ctx, tx, [Upvote(v.event_id, v.question_id, v.device) for v in batch])
            except TransactionConflict:
                log.info("transaction conflict writing %d upvotes, attempt %d", len(batch), attempt + 1)
                await asyncio.sleep(random.uniform(0, CONFLICT_BACKOFF_SECONDS * 2**attempt))
        raise DatabaseBusy()

    async def _write(self, ctx: Context, batch: list[_Upvote]) -> None:
        try:
            answers = await self._store(ctx, batch)
        except Exception as error:
            if not isinstance(error, ApiError):  # an ApiError (busy, storage unavailable) is the answer itself
                log.exception("writing %d upvotes failed", len(batch))
            failure = error if isinstance(error, ApiError) else ApiError(
                503, "try_again", "Your vote could not be saved; please send it again."
            )
            for vote in batch:
                if not vote.done.done():
                    vote.done.set_exception(failure)
            return
        self.batches_written += 1
        for vote, answer in zip(batch, answers, strict=True):
            if vote.done.done():
                continue
            if isinstance(answer, ApiError):
                vote.done.set_exception(answer)
            else:
                vote.done.set_result(answer)
