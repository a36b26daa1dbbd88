"""Moderation: changing a question's state, text, answer and airing, one at a time or several at once.

Every change is kept in `moderation_actions` for undo and the activity list (services/activity.py)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from smartrlp.core.errors import ApiError, conflict
from smartrlp.db.store import Transaction
from smartrlp.models.moderation import BulkModerate, ModerateQuestion
from smartrlp.realtime import protocol
from smartrlp.services import activity, screening
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


async def on_air_id_of(tx: Transaction, event_id: int) -> int | None:
    row = await tx.fetchone("SELECT on_air_question_id FROM events WHERE id = :id", {"id": event_id})
    assert row is not None
    return row["on_air_question_id"]


async def apply_state(
    ctx: Context, tx: Transaction, event_id: int, question: sqlite3.Row, target: QuestionState
) -> dict[str, Any]:
    """Bring the question to `target`, log the change(s) and return the question as now stored."""
    was_on_air_id = await on_air_id_of(tx, event_id)
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
        body: dict[str, Any] = {"question_id": on_air_id, "question": data if on_air_id == question["id"] else None}
        if on_air_id is not None:
            screen = await _screen_follows_the_air(tx, event_id)
            if screen is not None:
                body["screen"] = screen
        await ctx.log.record(tx, event_id, protocol.ON_AIR, body)
    return data


async def _screen_follows_the_air(tx: Transaction, event_id: int) -> dict[str, Any] | None:
    """On air means on screen: the presenter screen and the overlay switch to the question (in the same change,
    so with the same seq), unless a moderator pinned what they show. The new screen, or None if it stays."""
    row = await tx.fetchone("SELECT screen_mode, screen_pinned FROM events WHERE id = :id", {"id": event_id})
    assert row is not None
    if row["screen_mode"] == "question" or row["screen_pinned"]:
        return None
    await tx.execute(
        "UPDATE events SET screen_mode = 'question', screen_poll_id = NULL WHERE id = :id", {"id": event_id}
    )
    return {"mode": "question", "poll_id": None, "pinned": False}


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
        on_air_id = await on_air_id_of(tx, event_id)
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
        data = await apply_state(ctx, tx, event_id, question, after)
        action_id = await _keep_action(ctx, tx, event_id, question_id, before, after, moderator=moderator)
        await activity.announce(ctx, tx, event_id, action_id)
    return data


async def _keep_action(
    ctx: Context,
    tx: Transaction,
    event_id: int,
    question_id: int,
    before: QuestionState,
    after: QuestionState,
    *,
    moderator: Moderator,
    batch_id: int | None = None,
) -> int:
    """Keep the action for undo and the activity list; its id."""
    row = await tx.fetchone(
        "INSERT INTO moderation_actions (event_id, moderator_id, question_id, before_state, after_state, "
        "created_at, batch_id) VALUES (:event_id, :moderator_id, :question_id, :before, :after, :now, :batch_id) "
        "RETURNING id",
        {
            "event_id": event_id,
            "moderator_id": moderator.id,
            "question_id": question_id,
            "before": json.dumps(asdict(before)),
            "after": json.dumps(asdict(after)),
            "now": ctx.now(),
            "batch_id": batch_id,
        },
    )
    assert row is not None
    return int(row["id"])


async def bulk_update(ctx: Context, event_id: int, body: BulkModerate, *, moderator: Moderator) -> dict[str, Any]:
    """Approve or reject several questions in one action: one transaction, one entry in the activity list and one
    undo. Questions already in that state are left as they are (and are not part of the undo)."""
    changed: list[dict[str, Any]] = []
    async with ctx.db.transaction() as tx:
        batch_id: int | None = None
        for question_id in dict.fromkeys(body.question_ids):  # each once, in the order sent
            question = await question_in_event(tx, event_id, question_id)
            on_air_id = await on_air_id_of(tx, event_id)
            before = current_state(question, on_air_id)
            after = target_state(before, ModerateQuestion(status=body.status))
            if after == before:
                continue
            changed.append(await apply_state(ctx, tx, event_id, question, after))
            action_id = await _keep_action(
                ctx, tx, event_id, question_id, before, after, moderator=moderator, batch_id=batch_id
            )
            if batch_id is None:
                batch_id = action_id
                await tx.execute("UPDATE moderation_actions SET batch_id = :id WHERE id = :id", {"id": action_id})
        if batch_id is not None:
            await activity.announce(ctx, tx, event_id, batch_id)
    return {"questions": changed, "action_id": batch_id}
