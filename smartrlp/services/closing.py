"""The end of an event closes its open polls by itself: a background task of the app (services/phases.py has
the rules of each phase)."""

from __future__ import annotations

import logging

import anyio

from smartrlp.db.store import Transaction
from smartrlp.realtime import protocol
from smartrlp.services import polls
from smartrlp.services.context import Context
from smartrlp.services.phases import parse_time
from smartrlp.services.results import ResultsPublisher, results_public

log = logging.getLogger("smartrlp.phases")

# How often the background task looks for events that ended with polls still open: a page closes its poll at
# the end by itself, the server's refusal of ballots is immediate; this only makes the closing a change for all.
CLOSE_CHECK_SECONDS = 10.0


async def close_ended_events(ctx: Context, publisher: ResultsPublisher) -> list[int]:
    """Close the open polls of every event that has ended; the pages hear of each as of a moderator's close.
    Returns the ids of the polls closed now."""
    now = ctx.now()
    closed: list[int] = []
    async with ctx.db.transaction() as tx:
        rows = await tx.fetchall(
            "SELECT p.id, p.event_id, e.ends_at FROM polls p JOIN events e ON e.id = p.event_id "
            "WHERE p.state = 'open' AND e.ends_at IS NOT NULL"
        )
        ended = [r for r in rows if parse_time(r["ends_at"]) <= parse_time(now)]
        for row in ended:
            await _close_poll(ctx, publisher, tx, row["event_id"], row["id"], now)
            closed.append(int(row["id"]))
    return closed


async def _close_poll(
    ctx: Context, publisher: ResultsPublisher, tx: Transaction, event_id: int, poll_id: int, now: str
) -> None:
    # As services/polls.update_poll closes one (state, closed_at, version), logged with the poll as it now is,
    # and its results published if closing reveals them (visibility "after_close").
    updated = await tx.fetchone(
        "UPDATE polls SET state = 'closed', closed_at = :now, version = version + 1, updated_at = :now "
        f"WHERE id = :id RETURNING {polls.POLL_COLUMNS}",
        {"now": now, "id": poll_id},
    )
    assert updated is not None
    data = await polls.poll_json(tx, updated, with_results=results_public(updated))
    await ctx.log.record(tx, event_id, protocol.POLL, {"poll": data})
    tx.after_commit(lambda: publisher.mark(event_id, poll_id))


async def run_closer(ctx: Context, publisher: ResultsPublisher) -> None:
    """The background task: every CLOSE_CHECK_SECONDS, close what the end of an event closes."""
    while True:
        try:
            closed = await close_ended_events(ctx, publisher)
            if closed:
                log.info("closed polls %s at the end of their event", closed)
        except Exception:
            # A failed round must not take the server down; the next one tries again.
            log.exception("closing the polls of ended events failed")
        await anyio.sleep(CLOSE_CHECK_SECONDS)
