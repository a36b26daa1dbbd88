"""What a live client gets first: the whole visible state (a snapshot), or the changes it missed (a replay).

Thousands of viewers join (or come back after a restart) within seconds, all at the same state. So a viewer's
snapshot is its event's public part, read and encoded once per event, `seq` and results generation and shared
(`SharedOpenings`), with only the device's own part (its questions, votes and ballots) read and spliced in per
viewer: the text is the same, byte for byte, as the one built for that viewer alone (`snapshot`, which moderators
and studio views still get). Replays after a restart come from a bounded, shared copy of the recent change log.

Either way it ends with what is current state rather than a logged change: poll results (after a replay; a
snapshot carries them in its polls) and the reaction levels. The websocket view sends these messages in order,
then goes live; anything committed after the head read here arrives through the subscription it already holds.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from smartrlp.models.questions import PUBLIC_STATUSES
from smartrlp.realtime import changes, protocol
from smartrlp.realtime.hub import Broadcast, text_frame
from smartrlp.services.context import Context
from smartrlp.services.events import EVENT_COLUMNS, event_details
from smartrlp.services.polls import my_ballot, polls_for
from smartrlp.services.questions import QUESTION_COLUMNS, question_json, visible_questions
from smartrlp.services.reactions import ReactionMeter
from smartrlp.services.results import (
    ResultsPublisher,
    compute_results,
    option_ids_of,
    results_message,
    results_public,
)


class Audience(Protocol):
    """Who the messages are for (a live client): moderators and studio views see more, a device its own."""

    is_staff: bool
    is_studio: bool
    device: str | None


@dataclass(slots=True)
class Opening:
    """The first messages of a connection, encoded, and the seq the client holds after them."""

    seq: int
    texts: list[str] = field(default_factory=list)
    # texts[0] as a ready websocket frame, when it is one shared by many viewers (a new device's snapshot).
    first_frame: bytes | None = None


def role_of(who: Audience) -> str:
    return "moderator" if who.is_staff else "studio" if who.is_studio else "viewer"


async def opening(
    ctx: Context,
    meter: ReactionMeter,
    event_id: int,
    who: Audience,
    since: int | None,
    shared: SharedOpenings | None = None,
    results: ResultsPublisher | None = None,
) -> Opening:
    """A replay from `since` when the log has it, otherwise (no `since`, or one ahead of a restored database)
    a snapshot. With `shared` (and the `results` publisher whose generations date poll results), a viewer's
    opening is built from what every viewer at the same state shares."""
    head = await ctx.db.fetchone("SELECT last_seq FROM events WHERE id = :id", {"id": event_id})
    if since is None or head is None or since > head["last_seq"]:
        if shared is not None and results is not None and not (who.is_staff or who.is_studio):
            return await shared.viewer_snapshot(ctx, meter, event_id, who.device, int(head["last_seq"]), results)
        return await snapshot(ctx, meter, event_id, who)
    if shared is not None:
        return await shared.replay(ctx, meter, event_id, who, since, int(head["last_seq"]), results)
    return await replay(ctx, meter, event_id, who, since)


async def snapshot(ctx: Context, meter: ReactionMeter, event_id: int, who: Audience) -> Opening:
    db = ctx.db
    # Read the head first: anything committed after it arrives through the subscription.
    event = await db.fetchone(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = :id", {"id": event_id})
    assert event is not None
    statuses = None if who.is_staff else PUBLIC_STATUSES
    device = None if who.is_staff else who.device
    rows = await visible_questions(db, event_id, statuses=statuses, device=device, sort="newest")
    voted: list[int] = []
    if device is not None:
        voted_rows = await db.fetchall(
            "SELECT v.question_id FROM question_votes v JOIN questions q ON q.id = v.question_id "
            "WHERE q.event_id = :event_id AND v.device_id = :device ORDER BY v.question_id",
            {"event_id": event_id, "device": device},
        )
        voted = [r["question_id"] for r in voted_rows]
    seq = int(event["last_seq"])
    message = {
        "type": protocol.SNAPSHOT,
        "seq": seq,
        "role": role_of(who),
        "event": await event_details(db, event),
        "questions": [question_json(r, event["on_air_question_id"], device=device) for r in rows],
        "voted": voted,
        "polls": await polls_for(db, event_id, is_staff=who.is_staff, device=device, all_results=who.is_studio),
    }
    result = Opening(seq, [protocol.encode(message)])
    result.texts += await current_state(ctx, meter, event_id, who, results=False)
    return result


async def replay(ctx: Context, meter: ReactionMeter, event_id: int, who: Audience, since: int) -> Opening:
    """The logged changes after `since` that `who` may see, as they were broadcast, then `synced`."""
    result = Opening(since)
    for broadcast in await changes.since(ctx.db, event_id, since):
        if changes.visible_to(broadcast, is_staff=who.is_staff, device=who.device, is_studio=who.is_studio):
            result.texts.append(broadcast.text)
        result.seq = broadcast.seq
    result.texts.append(protocol.encode({"type": protocol.SYNCED, "seq": result.seq}))
    result.texts += await current_state(ctx, meter, event_id, who, results=True)
    return result


async def current_state(
    ctx: Context, meter: ReactionMeter, event_id: int, who: Audience, *, results: bool
) -> list[str]:
    """What is not in the change log: current poll results (when asked for) and the reaction levels."""
    texts = await _poll_results(ctx, event_id, who) if results else []
    reactions = meter.message(event_id)
    if any(reactions["counts"].values()):
        texts.append(protocol.encode(reactions))
    return texts


async def _poll_results(ctx: Context, event_id: int, who: Audience) -> list[str]:
    texts = []
    polls = await ctx.db.fetchall(
        "SELECT id, kind, state, results_visibility, scale_max FROM polls "
        "WHERE event_id = :event_id AND state != 'draft' ORDER BY position",
        {"event_id": event_id},
    )
    for poll in polls:
        if who.is_staff or who.is_studio or results_public(poll):
            option_ids = await option_ids_of(ctx.db, poll["id"])
            message = results_message(poll["id"], await compute_results(ctx.db, poll, option_ids))
            texts.append(protocol.encode(message))
    return texts


# ------------------------------------------------------------------------------------------- shared openings

T = TypeVar("T")

# How many events' shared parts are kept (the busiest are the ones being joined), and how much of a change log.
SHARED_EVENTS = 16
REPLAY_CHANGES = 2000
# A shared public part is rebuilt at least this often, whatever else: with several workers, ballots taken by
# another worker move results without this worker's publisher hearing of it, and this bounds how stale they get.
SHARED_SECONDS = 2.0


@dataclass(slots=True)
class PublicPart:
    """An event's snapshot as every viewer sees it, encoded: the pieces a viewer's own part is spliced into."""

    seq: int
    generation: int  # of the poll results, read before the data (ResultsPublisher.generation)
    built: float
    event: str
    question_ids: list[int]
    questions_not_mine: list[str]  # each question's JSON with `"mine":false`
    questions_not_mine_joined: str
    polls: list[tuple[int, str, str]]  # (poll id, kind, the poll's JSON without its closing brace)
    polls_no_ballot_joined: str
    # The whole snapshot of a device with nothing of its own (most of a join storm), text and frame, made once.
    fresh: tuple[str, bytes] | None = None


class SharedOpenings:
    """Openings shared by the viewers of an event: the public part of its snapshot, and its recent change log.

    Each is built by one of the viewers that asks for it while the others wait for that one (no stampede of
    thousands of identical reads), and kept for a bounded number of events and changes.
    """

    def __init__(self) -> None:
        self._public: OrderedDict[int, PublicPart] = OrderedDict()
        self._log: OrderedDict[int, list[Broadcast]] = OrderedDict()  # contiguous seqs, oldest first
        # (event, staff or studio) -> (results generation, built at, poll_results texts)
        self._results: dict[tuple[int, bool], tuple[int, float, list[str]]] = {}
        self._building: dict[tuple[str, int], asyncio.Future[Any]] = {}
        self.public_builds = 0
        self.replay_loads = 0

    async def _once(self, key: tuple[str, int], build: Callable[[], Awaitable[T]]) -> T:
        """`build()` by the first caller for `key`; the callers meanwhile get its result (or its error)."""
        running = self._building.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        try:
            result = await build()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here; waiters get it too
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._building[key]

    def _keep(self, table: OrderedDict[int, Any], event_id: int, value: Any) -> None:
        table[event_id] = value
        table.move_to_end(event_id)
        while len(table) > SHARED_EVENTS:
            table.popitem(last=False)

    async def public_part(self, ctx: Context, event_id: int, seq: int, results: ResultsPublisher) -> PublicPart:
        """The event's public part at `seq` or later, with results no older than the ballots marked so far.

        A part whose results generation is at least the one read now was read from the database after those
        ballots committed (a mark follows its commit), so none of them is missing from it.
        """
        generation = results.generation(event_id)

        def fits(part: PublicPart) -> bool:
            return part.seq >= seq and part.generation >= generation

        part = self._public.get(event_id)
        if part is not None and fits(part) and time.monotonic() - part.built < SHARED_SECONDS:
            return part
        while True:
            # The builder reads the generation itself, before it reads the data: then its part fits everyone
            # who read theirs earlier. At most one build in flight when this caller came may not fit it.
            built = await self._once(
                ("public", event_id), lambda: _build_public(ctx, event_id, results.generation(event_id))
            )
            if self._public.get(event_id) is not built:
                self.public_builds += 1
                self._keep(self._public, event_id, built)
            if fits(built):
                return built

    async def viewer_snapshot(
        self,
        ctx: Context,
        meter: ReactionMeter,
        event_id: int,
        device: str | None,
        seq: int,
        results: ResultsPublisher,
    ) -> Opening:
        part = await self.public_part(ctx, event_id, seq, results)
        text = await _splice_viewer(ctx, event_id, part, device)
        result = Opening(part.seq, [text])
        if part.fresh is not None and text is part.fresh[0]:
            result.first_frame = part.fresh[1]
        result.texts += await current_state(ctx, meter, event_id, _Viewer(device), results=False)
        return result

    async def replay(
        self,
        ctx: Context,
        meter: ReactionMeter,
        event_id: int,
        who: Audience,
        since: int,
        head: int,
        results: ResultsPublisher | None = None,
    ) -> Opening:
        """As `replay`, from the shared copy of the event's recent log when it covers `since` to `head`."""
        broadcasts: list[Broadcast] = []
        if since < head:  # at the head (a restart with nothing new) there is nothing to replay
            log = self._log.get(event_id)
            if not (log and log[0].seq <= since + 1 and log[-1].seq >= head):
                log = await self._once(("log", event_id), lambda: self._load_log(ctx, event_id, since))
            if log and log[0].seq <= since + 1:
                broadcasts = log[since + 1 - log[0].seq :]
            else:  # older than what is kept
                broadcasts = await changes.since(ctx.db, event_id, since)
        result = Opening(since)
        for broadcast in broadcasts:
            if changes.visible_to(broadcast, is_staff=who.is_staff, device=who.device, is_studio=who.is_studio):
                result.texts.append(broadcast.text)
            result.seq = broadcast.seq
        result.texts.append(protocol.encode({"type": protocol.SYNCED, "seq": result.seq}))
        result.texts += await self._current_results(ctx, event_id, who, results)
        result.texts += await current_state(ctx, meter, event_id, who, results=False)
        return result

    async def _current_results(
        self, ctx: Context, event_id: int, who: Audience, results: ResultsPublisher | None
    ) -> list[str]:
        """The `poll_results` after a replay, computed once per event, audience and results generation: after a
        restart every viewer resumes at once, and each poll's count is a few queries."""
        if results is None:
            return await _poll_results(ctx, event_id, who)
        privileged = who.is_staff or who.is_studio
        generation = results.generation(event_id)
        cached = self._results.get((event_id, privileged))
        if cached is not None and cached[0] >= generation and time.monotonic() - cached[1] < SHARED_SECONDS:
            return cached[2]

        async def build() -> tuple[int, float, list[str]]:
            now_generation = results.generation(event_id)
            return now_generation, time.monotonic(), await _poll_results(ctx, event_id, who)

        built = await self._once(("results", event_id * 2 + privileged), build)
        self._results[(event_id, privileged)] = built
        while len(self._results) > SHARED_EVENTS * 2:
            self._results.pop(next(iter(self._results)))
        return built[2]

    async def _load_log(self, ctx: Context, event_id: int, since: int) -> list[Broadcast]:
        self.replay_loads += 1
        kept = self._log.get(event_id) or []
        start = since if not kept else min(since, kept[0].seq - 1)
        loaded = await changes.since(ctx.db, event_id, max(start, 0))
        if len(loaded) > REPLAY_CHANGES:
            loaded = loaded[-REPLAY_CHANGES:]
        self._keep(self._log, event_id, loaded)
        return loaded


@dataclass(slots=True)
class _Viewer:
    device: str | None
    is_staff: bool = False
    is_studio: bool = False


async def _build_public(ctx: Context, event_id: int, generation: int) -> PublicPart:
    db = ctx.db
    event = await db.fetchone(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = :id", {"id": event_id})
    assert event is not None
    rows = await visible_questions(db, event_id, statuses=PUBLIC_STATUSES, device=None, sort="newest")
    on_air = event["on_air_question_id"]
    polls = await polls_for(db, event_id, is_staff=False, device=None)
    # As a device that asked none of them sees them ("mine": false); no device id is empty.
    not_mine = [protocol.encode(question_json(r, on_air, device="")) for r in rows]
    poll_texts = [(int(p["id"]), str(p["kind"]), protocol.encode(p)[:-1]) for p in polls]
    seq = int(event["last_seq"])
    return PublicPart(
        seq=seq,
        generation=generation,
        built=time.monotonic(),
        event=protocol.encode(await event_details(db, event)),
        question_ids=[int(r["id"]) for r in rows],
        questions_not_mine=not_mine,
        questions_not_mine_joined=",".join(not_mine),
        polls=poll_texts,
        polls_no_ballot_joined=",".join(f'{text},"my_ballot":null}}' for _, _, text in poll_texts),
    )


_OWN_SQL = (
    "SELECT 'question' AS kind, q.id AS id FROM questions q WHERE q.event_id = :event_id AND q.device_id = :device "
    "UNION ALL SELECT 'vote', v.question_id FROM question_votes v JOIN questions q ON q.id = v.question_id "
    "WHERE q.event_id = :event_id AND v.device_id = :device "
    "UNION ALL SELECT 'ballot', b.poll_id FROM poll_ballots b JOIN polls p ON p.id = b.poll_id "
    "WHERE p.event_id = :event_id AND b.device_id = :device"
)


async def _splice_viewer(ctx: Context, event_id: int, part: PublicPart, device: str | None) -> str:
    """The viewer's snapshot text: the shared pieces, with its own questions, votes and ballots put in.

    A new device (most of a join storm) costs one query and no encoding beyond its `voted` list.
    """
    head = f'{{"type":"{protocol.SNAPSHOT}","seq":{part.seq},"role":"viewer","event":{part.event},"questions":['
    if device is None:
        # Without a device nothing is "mine" and there are no ballots: the fields are left out, as `snapshot` does.
        questions = ",".join(text.removesuffix(',"mine":false}') + "}" for text in part.questions_not_mine)
        polls = ",".join(f"{text}}}" for _, _, text in part.polls)
        return f'{head}{questions}],"voted":[],"polls":[{polls}]}}'
    own = await ctx.db.fetchall(_OWN_SQL, {"event_id": event_id, "device": device})
    mine = [r["id"] for r in own if r["kind"] == "question"]
    voted = sorted(r["id"] for r in own if r["kind"] == "vote")
    balloted = {r["id"] for r in own if r["kind"] == "ballot"}
    if not own:
        if part.fresh is None:
            text = f'{head}{part.questions_not_mine_joined}],"voted":[],"polls":[{part.polls_no_ballot_joined}]}}'
            part.fresh = (text, text_frame(text))
        return part.fresh[0]
    if mine:
        rows = await ctx.db.fetchall(
            f"SELECT {QUESTION_COLUMNS} FROM questions q WHERE q.id IN (SELECT value FROM json_each(:ids))",
            {"ids": protocol.encode(mine)},
        )
        on_air = await ctx.db.fetchone("SELECT on_air_question_id FROM events WHERE id = :id", {"id": event_id})
        own_texts = {
            int(r["id"]): protocol.encode(question_json(r, on_air["on_air_question_id"] if on_air else None,
                                                        device=device))
            for r in rows
        }
        merged = dict(zip(part.question_ids, part.questions_not_mine, strict=True))
        merged.update(own_texts)
        questions = ",".join(merged[i] for i in sorted(merged, reverse=True))
    else:
        questions = part.questions_not_mine_joined
    if balloted:
        pieces = []
        for poll_id, kind, text in part.polls:
            ballot = await my_ballot(ctx.db, {"id": poll_id, "kind": kind}, device) if poll_id in balloted else None
            pieces.append(f'{text},"my_ballot":{protocol.encode(ballot) if ballot is not None else "null"}}}')
        polls = ",".join(pieces)
    else:
        polls = part.polls_no_ballot_joined
    return f'{head}{questions}],"voted":{protocol.encode(voted)},"polls":[{polls}]}}'
