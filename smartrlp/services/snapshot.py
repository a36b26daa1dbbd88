"""What a live client gets first: the whole visible state (a snapshot), or the changes it missed (a replay).

Either way it ends with what is current state rather than a logged change: poll results (after a replay; a
snapshot carries them in its polls) and the reaction levels. The websocket view sends these messages in order,
then goes live; anything committed after the head read here arrives through the subscription it already holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from smartrlp.models.questions import PUBLIC_STATUSES
from smartrlp.realtime import changes, protocol
from smartrlp.services.ballots import compute_results, option_ids_of, results_message, results_public
from smartrlp.services.context import Context
from smartrlp.services.events import EVENT_COLUMNS, event_details
from smartrlp.services.polls import polls_for
from smartrlp.services.questions import question_json, visible_questions
from smartrlp.services.reactions import ReactionMeter


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


def role_of(who: Audience) -> str:
    return "moderator" if who.is_staff else "studio" if who.is_studio else "viewer"


async def opening(ctx: Context, meter: ReactionMeter, event_id: int, who: Audience, since: int | None) -> Opening:
    """A replay from `since` when the log has it, otherwise (no `since`, or one ahead of a restored database)
    a snapshot."""
    head = await ctx.db.fetchone("SELECT last_seq FROM events WHERE id = :id", {"id": event_id})
    if since is None or head is None or since > head["last_seq"]:
        return await snapshot(ctx, meter, event_id, who)
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
            "WHERE q.event_id = :event_id AND v.device_id = :device",
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
    texts = []
    if results:
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
    reactions = meter.message(event_id)
    if any(reactions["counts"].values()):
        texts.append(protocol.encode(reactions))
    return texts
