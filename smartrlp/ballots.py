"""Poll ballots and results: one ballot per device and poll, written in batches, results pushed coalesced.

A burst of thousands of ballots within seconds is the normal case when the host asks the audience. One
transaction (one fsync) per ballot would cap the rate at what the disk can sync, so `BallotWriter` commits
whatever has queued up meanwhile in one transaction, and answers each ballot only after that commit.
`ResultsPublisher` then tells clients the new counts a few times a second at most, however fast ballots come.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from smartrlp import protocol
from smartrlp.broker import ClusterHub
from smartrlp.db import Database, Transaction, utcnow
from smartrlp.errors import ApiError, conflict, invalid
from smartrlp.hub import EPHEMERAL_SEQ, Broadcast, Hub

log = logging.getLogger("smartrlp.ballots")

WORDS_SHOWN = 60
CHOICE_KINDS = ("single", "multiple")

Reader = Database | Transaction


def results_public(poll: sqlite3.Row | dict[str, Any]) -> bool:
    """Whether viewers may see this poll's results now."""
    if poll["state"] == "draft":
        return False
    if poll["results_visibility"] == "live":
        return True
    return poll["results_visibility"] == "after_close" and poll["state"] == "closed"


def _percent(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


async def compute_results(
    conn: Reader, poll: sqlite3.Row | dict[str, Any], option_ids: Iterable[int]
) -> dict[str, Any]:
    poll_id = poll["id"]
    # Ballots of blocked devices are stored (their sender sees its answer) but `counted = 0`: never in results.
    row = await conn.fetchone(
        "SELECT COUNT(*) AS n FROM poll_ballots WHERE poll_id = :poll_id AND counted = 1", {"poll_id": poll_id}
    )
    total = int(row["n"]) if row else 0
    kind = poll["kind"]
    if kind in CHOICE_KINDS:
        rows = await conn.fetchall(
            "SELECT option_id, COUNT(*) AS n FROM poll_ballot_options WHERE poll_id = :poll_id AND counted = 1 "
            "GROUP BY option_id",
            {"poll_id": poll_id},
        )
        counts = {r["option_id"]: int(r["n"]) for r in rows}
        options = [
            {"id": i, "count": counts.get(i, 0), "percent": _percent(counts.get(i, 0), total)} for i in option_ids
        ]
        return {"total": total, "options": options}
    if kind == "rating":
        rows = await conn.fetchall(
            "SELECT value, COUNT(*) AS n FROM poll_ballots WHERE poll_id = :poll_id AND counted = 1 GROUP BY value",
            {"poll_id": poll_id},
        )
        counts = {r["value"]: int(r["n"]) for r in rows}
        values = [
            {"value": v, "count": counts.get(v, 0), "percent": _percent(counts.get(v, 0), total)}
            for v in range(1, int(poll["scale_max"]) + 1)
        ]
        mean = round(sum(v * n for v, n in counts.items()) / total, 2) if total else None
        return {"total": total, "values": values, "mean": mean}
    rows = await conn.fetchall(
        "SELECT word, COUNT(*) AS n FROM poll_ballots WHERE poll_id = :poll_id AND counted = 1 GROUP BY word "
        "ORDER BY n DESC, word ASC LIMIT :limit",
        {"poll_id": poll_id, "limit": WORDS_SHOWN},
    )
    return {"total": total, "words": [{"text": r["word"], "count": int(r["n"])} for r in rows]}


@dataclass(frozen=True, slots=True)
class Ballot:
    """A validated ballot on its way to the database; exactly one of the answers is set."""

    event_id: int
    poll_id: int
    device_id: str
    option_ids: tuple[int, ...] | None = None
    value: int | None = None
    word: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.option_ids is not None:
            return {"options": list(self.option_ids)}
        if self.value is not None:
            return {"value": self.value}
        return {"text": self.word}


@dataclass(slots=True)
class _Pending:
    ballot: Ballot
    done: asyncio.Future[bool]


@dataclass(slots=True)
class _PollCheck:
    state: str
    option_ids: frozenset[int]


class BallotWriter:
    """Group commit for ballots: each is acknowledged only after the transaction that holds it has committed."""

    def __init__(self, db: Database, publisher: ResultsPublisher, *, queue_size: int = 20_000, max_batch: int = 1000):
        self.db = db
        self.publisher = publisher
        self.max_batch = max_batch
        # Bounded: when full, submitters wait (back-pressure) instead of memory growing without limit.
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=queue_size)
        self.batches_written = 0

    async def submit(self, ballot: Ballot) -> bool:
        """Queue the ballot and wait until it is committed; True when it replaced an earlier ballot."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(ballot, done))
        return await done

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)

    async def drain(self) -> None:
        """Write what is queued (on shutdown, so no submitted ballot is left unanswered)."""
        while not self._queue.empty():
            batch = []
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)

    async def _write(self, batch: list[_Pending]) -> None:
        outcomes: list[bool | ApiError] = []
        touched: set[tuple[int, int]] = set()
        try:
            async with self.db.transaction() as tx:
                checks: dict[int, _PollCheck | None] = {}
                for pending in batch:
                    try:
                        outcomes.append(await _store(tx, pending.ballot, checks))
                        touched.add((pending.ballot.event_id, pending.ballot.poll_id))
                    except ApiError as error:
                        outcomes.append(error)
        except Exception:
            log.exception("writing %d ballots failed", len(batch))
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(
                        ApiError(503, "try_again", "Your answer could not be saved; please send it again.")
                    )
            return
        self.batches_written += 1
        for pending, outcome in zip(batch, outcomes, strict=True):
            if pending.done.done():  # the client went away meanwhile; its ballot still counts
                continue
            if isinstance(outcome, ApiError):
                pending.done.set_exception(outcome)
            else:
                pending.done.set_result(outcome)
        for event_id, poll_id in touched:
            self.publisher.mark(event_id, poll_id)


async def _store(tx: Transaction, ballot: Ballot, checks: dict[int, _PollCheck | None]) -> bool:
    if ballot.poll_id not in checks:
        poll = await tx.fetchone(
            "SELECT state FROM polls WHERE id = :id AND event_id = :event_id",
            {"id": ballot.poll_id, "event_id": ballot.event_id},
        )
        options = await tx.fetchall("SELECT id FROM poll_options WHERE poll_id = :id", {"id": ballot.poll_id})
        checks[ballot.poll_id] = _PollCheck(poll["state"], frozenset(r["id"] for r in options)) if poll else None
    check = checks[ballot.poll_id]
    if check is None:
        raise ApiError(404, "poll_not_found", "This poll no longer exists.")
    if check.state != "open":
        raise conflict("poll_not_open", "This poll is not open for answers.")
    if ballot.option_ids is not None and not set(ballot.option_ids) <= check.option_ids:
        raise invalid("An option does not belong to this poll.", "options")
    key = {"poll_id": ballot.poll_id, "device": ballot.device_id}
    existing = await tx.fetchone("SELECT 1 FROM poll_ballots WHERE poll_id = :poll_id AND device_id = :device", key)
    # A primary-key lookup inside the batch's one transaction: blocking stays cheap under a burst of ballots.
    blocked = await tx.fetchone(
        "SELECT 1 FROM device_blocks WHERE event_id = :event_id AND device_id = :device",
        {"event_id": ballot.event_id, "device": ballot.device_id},
    )
    counted = int(blocked is None)
    now = utcnow()
    await tx.execute(
        "INSERT INTO poll_ballots (poll_id, device_id, value, word, created_at, updated_at, counted) "
        "VALUES (:poll_id, :device, :value, :word, :now, :now, :counted) "
        "ON CONFLICT (poll_id, device_id) DO UPDATE SET value = excluded.value, word = excluded.word, "
        "updated_at = excluded.updated_at, counted = excluded.counted",
        {**key, "value": ballot.value, "word": ballot.word, "now": now, "counted": counted},
    )
    if ballot.option_ids is not None:
        if existing:
            await tx.execute("DELETE FROM poll_ballot_options WHERE poll_id = :poll_id AND device_id = :device", key)
        await tx.executemany(
            "INSERT INTO poll_ballot_options (poll_id, device_id, option_id, counted) "
            "VALUES (:poll_id, :device, :option_id, :counted)",
            [{**key, "option_id": option_id, "counted": counted} for option_id in ballot.option_ids],
        )
    return existing is not None


@dataclass
class ResultsPublisher:
    """Coalesces result updates: at most one `poll_results` per poll every `interval` seconds."""

    db: Database
    hub: Hub
    interval: float = 0.25
    _dirty: set[tuple[int, int]] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    messages_sent: int = 0

    def mark(self, event_id: int, poll_id: int) -> None:
        self._dirty.add((event_id, poll_id))
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            for event_id, poll_id in sorted(dirty):
                try:
                    await self._publish(event_id, poll_id)
                except Exception:
                    # A failed read must not stop the results of every other poll.
                    log.exception("publishing results of poll %d failed", poll_id)
            await asyncio.sleep(self.interval)

    async def _publish(self, event_id: int, poll_id: int) -> None:
        poll = await self.db.fetchone(
            "SELECT id, kind, state, results_visibility, scale_max FROM polls WHERE id = :id", {"id": poll_id}
        )
        cluster = self.hub if isinstance(self.hub, ClusterHub) else None
        # With several workers the viewers may all be on the others, so only a lone process may skip.
        if poll is None or (cluster is None and self.hub.subscriber_count(event_id) == 0):
            return
        # Results are counted from the shared database, so one worker's count serves all: per tick and poll
        # only the worker that claims it publishes. The others keep the poll marked and try next tick, so
        # ballots they wrote after the winner's count are not left out.
        if cluster is not None and not await cluster.claim(f"results:{poll_id}", self.interval):
            self.mark(event_id, poll_id)
            return
        option_ids = await option_ids_of(self.db, poll_id)
        message = results_message(poll_id, await compute_results(self.db, poll, option_ids))
        # Hidden results still reach the studio views: the host may read them out.
        audience = protocol.AUDIENCE_PUBLIC if results_public(poll) else protocol.AUDIENCE_STUDIO
        broadcast = Broadcast(event_id, EPHEMERAL_SEQ, audience, protocol.encode(message))
        if cluster is not None:
            cluster.publish_everywhere(broadcast)
        else:
            self.hub.publish(broadcast)
        self.messages_sent += 1


async def option_ids_of(conn: Reader, poll_id: int) -> list[int]:
    rows = await conn.fetchall("SELECT id FROM poll_options WHERE poll_id = :id ORDER BY position, id", {"id": poll_id})
    return [r["id"] for r in rows]


def results_message(poll_id: int, results: dict[str, Any]) -> dict[str, Any]:
    return {"type": protocol.POLL_RESULTS, "poll_id": poll_id, "results": results}
