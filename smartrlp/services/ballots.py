"""Poll ballots and results: one ballot per device and poll, written in batches, results pushed coalesced.

A burst of thousands of ballots within seconds is the normal case when the host asks the audience. One
transaction (one fsync) per ballot would cap the rate at what the disk can sync, so `BallotWriter` commits
whatever has queued up meanwhile in one transaction, and answers each ballot only after that commit.
`ResultsPublisher` then tells clients the new counts a few times a second at most, however fast ballots come.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from smartrlp.core.errors import ApiError, conflict, invalid
from smartrlp.db.store import Database, Transaction, utcnow
from smartrlp.realtime import protocol
from smartrlp.realtime.broker import ClusterHub
from smartrlp.realtime.hub import EPHEMERAL_SEQ, Broadcast, Hub

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
        try:
            async with self.db.transaction() as tx:
                outcomes = await _store_batch(tx, [pending.ballot for pending in batch])
        except Exception:
            log.exception("writing %d ballots failed", len(batch))
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(
                        ApiError(503, "try_again", "Your answer could not be saved; please send it again.")
                    )
            return
        self.batches_written += 1
        touched: set[tuple[int, int]] = set()
        for pending, outcome in zip(batch, outcomes, strict=True):
            if not isinstance(outcome, ApiError):
                touched.add((pending.ballot.event_id, pending.ballot.poll_id))
            if pending.done.done():  # the client went away meanwhile; its ballot still counts
                continue
            if isinstance(outcome, ApiError):
                pending.done.set_exception(outcome)
            else:
                pending.done.set_result(outcome)
        for event_id, poll_id in touched:
            self.publisher.mark(event_id, poll_id)


async def _poll_check(tx: Transaction, ballot: Ballot) -> _PollCheck | None:
    poll = await tx.fetchone(
        "SELECT state FROM polls WHERE id = :id AND event_id = :event_id",
        {"id": ballot.poll_id, "event_id": ballot.event_id},
    )
    if poll is None:
        return None
    options = await tx.fetchall("SELECT id FROM poll_options WHERE poll_id = :id", {"id": ballot.poll_id})
    return _PollCheck(poll["state"], frozenset(r["id"] for r in options))


def _check(ballot: Ballot, check: _PollCheck | None) -> None:
    if check is None:
        raise ApiError(404, "poll_not_found", "This poll no longer exists.")
    if check.state != "open":
        raise conflict("poll_not_open", "This poll is not open for answers.")
    if ballot.option_ids is not None and not set(ballot.option_ids) <= check.option_ids:
        raise invalid("An option does not belong to this poll.", "options")


async def _store_batch(tx: Transaction, ballots: list[Ballot]) -> list[bool | ApiError]:
    """Store a batch as if one after the other, in a few statements for the whole batch.

    Each statement is a trip to the database thread, which under load costs a thread switch; per ballot
    that capped a burst at about a hundred ballots a second on two busy cores (docs/performance.md).
    The outcome per ballot is whether it replaced an earlier one of its device, or the error refusing it.
    """
    checks: dict[int, _PollCheck | None] = {}
    outcomes: list[bool | ApiError] = []
    accepted: list[Ballot] = []
    for ballot in ballots:
        if ballot.poll_id not in checks:
            checks[ballot.poll_id] = await _poll_check(tx, ballot)
        try:
            _check(ballot, checks[ballot.poll_id])
        except ApiError as error:
            outcomes.append(error)
            continue
        outcomes.append(False)
        accepted.append(ballot)
    if not accepted:
        return outcomes
    stored: set[tuple[int, str]] = set()
    for poll_id in {b.poll_id for b in accepted}:
        rows = await tx.fetchall(
            "SELECT device_id FROM poll_ballots WHERE poll_id = :poll_id "
            "AND device_id IN (SELECT value FROM json_each(:devices))",
            {"poll_id": poll_id, "devices": json.dumps([b.device_id for b in accepted if b.poll_id == poll_id])},
        )
        stored.update((poll_id, r["device_id"]) for r in rows)
    # A device's later ballot in the same batch replaces its earlier one: only the last is written.
    last: dict[tuple[int, str], Ballot] = {}
    seen = set(stored)
    index = 0
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, ApiError):
            continue
        ballot = accepted[index]
        index += 1
        key = (ballot.poll_id, ballot.device_id)
        outcomes[i] = key in seen
        seen.add(key)
        last[key] = ballot
    # Ballots of devices the moderators blocked are kept (the device sees its answer) but not counted.
    blocked: set[tuple[int, str]] = set()
    for event_id in {b.event_id for b in last.values()}:
        devices = [b.device_id for b in last.values() if b.event_id == event_id]
        rows = await tx.fetchall(
            "SELECT device_id FROM device_blocks WHERE event_id = :event_id "
            "AND device_id IN (SELECT value FROM json_each(:devices))",
            {"event_id": event_id, "devices": json.dumps(devices)},
        )
        blocked.update((event_id, r["device_id"]) for r in rows)
    now = utcnow()
    keys = [
        {"poll_id": b.poll_id, "device": b.device_id, "counted": int((b.event_id, b.device_id) not in blocked)}
        for b in last.values()
    ]
    await tx.executemany(
        "INSERT INTO poll_ballots (poll_id, device_id, value, word, created_at, updated_at, counted) "
        "VALUES (:poll_id, :device, :value, :word, :now, :now, :counted) "
        "ON CONFLICT (poll_id, device_id) DO UPDATE SET value = excluded.value, word = excluded.word, "
        "updated_at = excluded.updated_at, counted = excluded.counted",
        [{**key, "value": b.value, "word": b.word, "now": now} for key, b in zip(keys, last.values(), strict=True)],
    )
    replaced = [key for key in keys if (key["poll_id"], key["device"]) in stored]
    if replaced:
        await tx.executemany(
            "DELETE FROM poll_ballot_options WHERE poll_id = :poll_id AND device_id = :device", replaced
        )
    options = [
        {**key, "option_id": option_id}
        for key, b in zip(keys, last.values(), strict=True)
        for option_id in b.option_ids or ()
    ]
    if options:
        await tx.executemany(
            "INSERT INTO poll_ballot_options (poll_id, device_id, option_id, counted) "
            "VALUES (:poll_id, :device, :option_id, :counted)",
            options,
        )
    return outcomes


@dataclass
class ResultsPublisher:
    """Coalesces result updates: at most one `poll_results` per poll every `interval` seconds (or less often
    when sending them to every viewer is costly, see `Hub.pause_after`)."""

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
            busy_before = self.hub.busy_seconds
            dirty, self._dirty = self._dirty, set()
            for event_id, poll_id in sorted(dirty):
                try:
                    await self._publish(event_id, poll_id)
                except Exception:
                    # A failed read must not stop the results of every other poll.
                    log.exception("publishing results of poll %d failed", poll_id)
            await asyncio.sleep(self.hub.pause_after(self.interval, busy_before))

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
