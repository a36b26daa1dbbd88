"""Poll ballots and results: one ballot per device and poll, written in batches, results pushed coalesced.

A burst of thousands of ballots within seconds is the normal case when the host asks the audience. One
transaction (one fsync) per ballot would cap the rate at what the disk can sync, so `BallotWriter` commits
whatever has queued up meanwhile in one transaction, and answers each ballot only after that commit.
`ResultsPublisher` then tells clients the new counts a few times a second at most, however fast ballots come.

`ballot_target` and `cast` are what the vote route calls: one query finds the event, the poll and its options,
and the ballot is checked against them before it joins the queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from smartrlp.core.errors import ApiError, conflict, invalid
from smartrlp.db.store import Database, Transaction, utcnow
from smartrlp.models.polls import CHOICE_KINDS, CastBallot
from smartrlp.services import phases, screening
from smartrlp.services.context import Context
from smartrlp.services.results import WORD_SEPARATOR, ResultsPublisher
from smartrlp.services.stream_delays import grace_seconds

log = logging.getLogger("smartrlp.ballots")



@dataclass(frozen=True, slots=True)
class Ballot:
    """A validated ballot on its way to the database; exactly one of the answers is set."""

    event_id: int
    poll_id: int
    device_id: str
    option_ids: tuple[int, ...] | None = None
    value: int | None = None
    word: str | None = None  # a word cloud's words, one per line

    def as_json(self) -> dict[str, Any]:
        if self.option_ids is not None:
            return {"options": list(self.option_ids)}
        if self.value is not None:
            return {"value": self.value}
        words = (self.word or "").split(WORD_SEPARATOR)
        return {"text": words[0], "words": words}


@dataclass(slots=True)
class _Pending:
    ballot: Ballot
    done: asyncio.Future[bool]


@dataclass(slots=True)
class _PollCheck:
    takes_ballots: bool
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
        # Open polls as `ballot_target` read them (version, when): in a burst read once, not once per ballot.
        self.targets: dict[tuple[str, int], tuple[int, float, BallotTarget]] = {}

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
        except Exception as error:
            # A full disk or a busy database is an answer of its own (the store logs the cause once a minute).
            refusal = error if isinstance(error, ApiError) else None
            if refusal is None:
                log.exception("writing %d ballots failed", len(batch))
                refusal = ApiError(503, "try_again", "Your answer could not be saved; please send it again.")
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(refusal)
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


_GRACE_COLUMNS = "p.closed_at, e.stream_delay_youtube, e.stream_delay_facebook, e.stream_delay_tv"


def takes_ballots(poll: sqlite3.Row, now: str) -> bool:
    """Open, or closed less than the event's largest stream delay ago: the close has not reached every viewer's
    video yet (smartrlp/services/stream_delays.py). `poll` has the state and `_GRACE_COLUMNS`."""
    if poll["state"] == "open":
        return True
    if poll["state"] != "closed" or not poll["closed_at"]:
        return False
    closed = datetime.fromisoformat(poll["closed_at"].replace("Z", "+00:00"))
    return datetime.fromisoformat(now.replace("Z", "+00:00")) < closed + timedelta(seconds=grace_seconds(poll))


async def _poll_check(tx: Transaction, ballot: Ballot) -> _PollCheck | None:
    poll = await tx.fetchone(
        f"SELECT p.state, {_GRACE_COLUMNS} FROM polls p JOIN events e ON e.id = p.event_id "
        "WHERE p.id = :id AND p.event_id = :event_id",
        {"id": ballot.poll_id, "event_id": ballot.event_id},
    )
    if poll is None:
        return None
    options = await tx.fetchall("SELECT id FROM poll_options WHERE poll_id = :id", {"id": ballot.poll_id})
    # Judged again as the batch is written: the poll may have closed, or its grace time ended, meanwhile.
    return _PollCheck(takes_ballots(poll, utcnow()), frozenset(r["id"] for r in options))


def _check(ballot: Ballot, check: _PollCheck | None) -> None:
    if check is None:
        raise ApiError(404, "poll_not_found", "This poll no longer exists.")
    if not check.takes_ballots:
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



# --------------------------------------------------------------------------- casting a ballot (the vote route)


@dataclass(frozen=True, slots=True)
class BallotTarget:
    """The poll a ballot is for, as far as checking the ballot needs it."""

    event_id: int
    poll_id: int
    kind: str
    state: str
    max_choices: int | None
    scale_max: int | None
    option_ids: frozenset[int]
    starts_at: str | None = None
    ends_at: str | None = None
    max_words: int = 1
    # Open, or closed within the grace time (`takes_ballots`).
    takes_ballots: bool = True


_TARGET_COLUMNS = f"p.id, p.kind, p.state, p.max_choices, p.scale_max, p.max_words, {_GRACE_COLUMNS}"


# With several workers another one may change a poll without this one's publisher hearing of it.
TARGET_SECONDS = 2.0


async def ballot_target(ctx: Context, slug: str, poll_id: int, writer: BallotWriter | None = None) -> BallotTarget:
    """The event's poll, or 404 naming what is missing. With the `writer`, an open poll read lately and not changed
    since (`ResultsPublisher.poll_changed`) comes from its cache; the batch re-checks state and options anyway."""
    if writer is None:
        return await _read_target(ctx, slug, poll_id)
    version = writer.publisher.poll_version(poll_id)
    cached = writer.targets.get((slug, poll_id))
    if cached is not None and cached[0] == version and time.monotonic() - cached[1] < TARGET_SECONDS:
        return cached[2]
    target = await _read_target(ctx, slug, poll_id)
    if target.state == "open":
        writer.targets = {} if len(writer.targets) > 1000 else writer.targets
        writer.targets[(slug, poll_id)] = (version, time.monotonic(), target)
    return target


async def _read_target(ctx: Context, slug: str, poll_id: int) -> BallotTarget:
    # Event, poll and option ids in one query: in a burst of thousands of ballots every trip to the database
    # thread counts (docs/performance.md). When it finds nothing, the separate lookups name what is missing.
    row = await ctx.db.fetchone(
        f"SELECT e.id AS event_id, e.starts_at, e.ends_at, {_TARGET_COLUMNS}, "
        "(SELECT json_group_array(o.id) FROM poll_options o WHERE o.poll_id = p.id) AS option_ids "
        "FROM events e JOIN polls p ON p.event_id = e.id WHERE e.slug = :slug AND p.id = :id",
        {"slug": slug, "id": poll_id},
    )
    if row is None:
        event = await ctx.db.fetchone("SELECT id FROM events WHERE slug = :slug", {"slug": slug})
        if event is None:
            raise ApiError(404, "event_not_found", f"There is no event {slug!r}.")
        raise ApiError(404, "poll_not_found", f"There is no poll {poll_id} in this event.")
    return BallotTarget(
        event_id=int(row["event_id"]),
        poll_id=int(row["id"]),
        kind=row["kind"],
        state=row["state"],
        max_choices=row["max_choices"],
        scale_max=row["scale_max"],
        option_ids=frozenset(json.loads(row["option_ids"])),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        max_words=int(row["max_words"] or 1),
        takes_ballots=takes_ballots(row, ctx.now()),
    )


def _answer_field(kind: str) -> str:
    """The field of a ballot that a poll of this kind takes."""
    return "options" if kind in CHOICE_KINDS else "value" if kind == "rating" else "text"


def ballot_for(target: BallotTarget, body: CastBallot, device: str) -> Ballot:
    """The ballot `body` makes for this poll, checked against its kind, options and scale."""
    wanted = _answer_field(target.kind)
    # A word cloud takes one word as `text`, or a list of them as `words`.
    allowed = {"text", "words"} if target.kind == "words" else {wanted}
    unexpected = sorted(body.model_fields_set - allowed)
    if unexpected:
        raise invalid(f"A {target.kind} poll takes '{wanted}', not '{unexpected[0]}'.", unexpected[0])
    base = {"event_id": target.event_id, "poll_id": target.poll_id, "device_id": device}
    if target.kind in CHOICE_KINDS:
        if body.options is None:
            raise invalid("'options' must be a non-empty list of option ids.", "options")
        chosen = tuple(sorted(set(body.options)))
        if not target.option_ids.issuperset(chosen):
            raise invalid("An option does not belong to this poll.", "options")
        limit = 1 if target.kind == "single" else (target.max_choices or len(target.option_ids))
        if len(chosen) > limit:
            raise invalid(f"Choose at most {limit} option{'s' if limit > 1 else ''}.", "options")
        return Ballot(**base, option_ids=chosen)
    if target.kind == "rating":
        scale = int(target.scale_max or 0)
        if body.value is None or body.value > scale:
            raise invalid(f"'value' must be a whole number from 1 to {scale}.", "value")
        return Ballot(**base, value=body.value)
    if body.text is not None and body.words is not None:
        raise invalid("Send either 'text' or 'words', not both.", "words")
    words = [body.text] if body.text is not None else body.words
    if not words:
        raise invalid("'text' is required.", "text")
    words = list(dict.fromkeys(words))  # the same word twice counts once
    if len(words) > target.max_words:
        limit = target.max_words
        raise invalid(f"This word cloud takes at most {limit} word{'s' if limit > 1 else ''} per device.", "words")
    return Ballot(**base, word=WORD_SEPARATOR.join(words))


async def cast(
    ctx: Context, writer: BallotWriter, target: BallotTarget, body: CastBallot, *, device: str
) -> dict[str, Any]:
    """A viewer's ballot, answered once the transaction holding it has committed."""
    # A poll open at the end is closed by services/closing.py within seconds; its ballots stop at the end itself.
    phases.refuse_unless_live(target.starts_at, target.ends_at, phases.now_of(ctx), "polls")
    if not target.takes_ballots:
        raise conflict("poll_not_open", "This poll is not open for answers.")
    ballot = ballot_for(target, body, device)
    if ballot.word is not None:
        # The shipped lists and the words the moderators added for this event.
        word_filter = await screening.filter_for(ctx.db, ctx.word_filter, target.event_id)
        words = ballot.word.split(WORD_SEPARATOR)
        if any(word_filter.blocks(word) for word in words):
            field = "text" if body.text is not None else "words"
            raise ApiError(422, "blocked_text", "This word cannot be shown.", details={"field": field})
    replaced = await writer.submit(ballot)
    return {"poll_id": target.poll_id, "ballot": ballot.as_json(), "replaced": replaced}
