"""Moderation: changing a question's state, text, answer and airing, and undoing a moderator's last action."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from smartrlp.core.errors import ApiError, conflict
from smartrlp.db.store import Transaction
from smartrlp.models.moderation import ModerateQuestion
from smartrlp.realtime import protocol
from smartrlp.services import screening
from smartrlp.services.accounts import Moderator
from smartrlp.services.context import Context
from smartrlp.services.questions import QUESTION_COLUMNS, audience_of, question_in_event, question_json

# States in which a question is not in front of the audience; putting it on air approves it.
_OFF_THE_FLOOR = ("pending", "rejected")
# A question that moves into one of these leaves the air with it.
_LEAVES_THE_AIR = ("pending", "rejected", "answered")


@dataclass(frozen=True, slots=True)
class QuestionState:
    """What a moderator can change about a question; an action records it before and after."""

    status: str
    text: str
    on_air: bool
    # A written answer, mostly added after the event to questions the panel did not reach. Actions logged
    # before answers existed have none, hence the default.
    answer: str | None = None


def current_state(question: sqlite3.Row, on_air_id: int | None) -> QuestionState:
    return QuestionState(
        status=question["status"], text=question["text"], on_air=question["id"] == on_air_id, answer=question["answer"]
    )


def target_state(current: QuestionState, body: ModerateQuestion) -> QuestionState:
    """The state the moderator asks for: the fields sent, and what they imply for the others."""
    status, text, on_air, answer = current.status, current.text, current.on_air, current.answer
    if body.sent("answer"):
        # Null or blank (both None by now) removes the written answer.
        answer = body.answer
    if body.sent("status"):
        status = body.status
        # A question that leaves the floor leaves the air with it.
        if status != current.status and status in _LEAVES_THE_AIR:
            on_air = False
    if body.sent("text"):
        text = body.text
    if body.sent("highlighted"):
        on_air = body.highlighted
        # Putting a question on air shows it to everyone, so it is approved at the same time.
        if on_air and status in _OFF_THE_FLOOR:
            status = "approved"
    return QuestionState(status=status, text=text, on_air=on_air, answer=answer)


async def _on_air_id(tx: Transaction, event_id: int) -> int | None:
    row = await tx.fetchone("SELECT on_air_question_id FROM events WHERE id = :id", {"id": event_id})
    assert row is not None
    return row["on_air_question_id"]


async def _apply(
    ctx: Context, tx: Transaction, event_id: int, question: sqlite3.Row, target: QuestionState
) -> dict[str, Any]:
    """Bring the question to `target`, log the change(s) and return the question as now stored."""
    was_on_air_id = await _on_air_id(tx, event_id)
    now = ctx.now()
    answered_at = question["answered_at"]
    if target.status == "answered" and question["status"] != "answered":
        answered_at = now
    elif target.status != "answered":
        answered_at = None
    row = await tx.fetchone(
        "UPDATE questions SET status = :status, text = :text, answer = :answer, answered_at = :answered_at, "
        "version = version + 1, updated_at = :now WHERE id = :id "
        f"RETURNING {QUESTION_COLUMNS.replace('q.', '')}",
        {
            "status": target.status,
            "text": target.text,
            "answer": target.answer,
            "answered_at": answered_at,
            "now": now,
            "id": question["id"],
        },
    )
    assert row is not None
    on_air_id = was_on_air_id
    if target.on_air:
        on_air_id = question["id"]
    elif was_on_air_id == question["id"]:
        on_air_id = None
    data = question_json(row, on_air_id)
    await ctx.log.record(
        tx,
        event_id,
        protocol.QUESTION,
        {"question": data},
        audience=audience_of(question["status"], target.status),
        device_id=row["device_id"],
    )
    if on_air_id != was_on_air_id:
        await tx.execute("UPDATE events SET on_air_question_id = :q WHERE id = :id", {"q": on_air_id, "id": event_id})
        await ctx.log.record(
            tx,
            event_id,
            protocol.ON_AIR,
            {"question_id": on_air_id, "question": data if on_air_id == question["id"] else None},
        )
    return data


async def _refuse_airing_held(tx: Transaction, question_id: int) -> None:
    # "Auf Sendung" approves a waiting question on the way; for one the filter or a block held, one click
    # under pressure must not put it in front of the audience: it has to be approved on its own first.
    held = await tx.fetchone("SELECT held_words, held_device FROM questions WHERE id = :id", {"id": question_id})
    if held is not None and screening.is_held(held):
        raise conflict("held_question", "This question was held for review; approve it before putting it on air.")


async def update_question(
    ctx: Context, event_id: int, question_id: int, body: ModerateQuestion, *, moderator: Moderator
) -> dict[str, Any]:
    """Change the question as asked, log it and keep the action for undo; a change to nothing does nothing."""
    async with ctx.db.transaction() as tx:
        question = await question_in_event(tx, event_id, question_id)
        on_air_id = await _on_air_id(tx, event_id)
        if body.version is not None and body.version != question["version"]:
            raise ApiError(
                409,
                "version_conflict",
                "Someone else changed this question meanwhile; reload it and retry.",
                details={"question": question_json(question, on_air_id)},
            )
        before = current_state(question, on_air_id)
        after = target_state(before, body)
        if after.on_air and not before.on_air and before.status in _OFF_THE_FLOOR:
            await _refuse_airing_held(tx, question_id)
        if after == before:
            # Idempotent: a double click or a retried request changes nothing and logs nothing.
            return question_json(question, on_air_id)
        data = await _apply(ctx, tx, event_id, question, after)
        await tx.execute(
            "INSERT INTO moderation_actions (event_id, moderator_id, question_id, before_state, after_state, "
            "created_at) VALUES (:event_id, :moderator_id, :question_id, :before, :after, :now)",
            {
                "event_id": event_id,
                "moderator_id": moderator.id,
                "question_id": question_id,
                "before": json.dumps(asdict(before)),
                "after": json.dumps(asdict(after)),
                "now": ctx.now(),
            },
        )
    return data


async def undo_last(ctx: Context, event_id: int, *, moderator: Moderator) -> dict[str, Any]:
    """Undo the moderator's own last action in the event, unless someone changed the question since."""
    async with ctx.db.transaction() as tx:
        action = await tx.fetchone(
            "SELECT id, question_id, before_state, after_state FROM moderation_actions "
            "WHERE event_id = :event_id AND moderator_id = :moderator_id AND undone_at IS NULL "
            "ORDER BY id DESC LIMIT 1",
            {"event_id": event_id, "moderator_id": moderator.id},
        )
        if action is None:
            raise ApiError(404, "nothing_to_undo", "You have no action in this event left to undo.")
        question = await question_in_event(tx, event_id, action["question_id"])
        current = current_state(question, await _on_air_id(tx, event_id))
        if current != QuestionState(**json.loads(action["after_state"])):
            raise conflict("changed_since", "The question was changed after your action; undo it by hand.")
        before = QuestionState(**json.loads(action["before_state"]))
        data = await _apply(ctx, tx, event_id, question, before)
        await tx.execute(
            "UPDATE moderation_actions SET undone_at = :now WHERE id = :id", {"now": ctx.now(), "id": action["id"]}
        )
    return {"undone_action_id": action["id"], "question": data}
