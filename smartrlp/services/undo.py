"""Undo with several moderators: a moderator's undo reverts their own most recent action that can still be
reverted, and any moderator may undo an entry of the activity list.

An action can be reverted while its question is still as the action left it. One that someone changed since is
not reverted (that would overwrite the colleague's change): undo names it and goes on to the moderator's earlier
action, so one conflict never blocks undoing the others. Whether an action can be reverted is decided anew each
time: once the colleague's change is undone in turn, the action can be undone again.
"""

from __future__ import annotations

import json
from typing import Any

from smartrlp.core.errors import ApiError
from smartrlp.db.store import Transaction
from smartrlp.services import activity
from smartrlp.services.accounts import Moderator
from smartrlp.services.context import Context
from smartrlp.services.moderation import QuestionState, apply_state, current_state, on_air_id_of
from smartrlp.services.questions import question_in_event, question_json

# How many of their entries one press of undo looks through for one that can still be reverted.
_LOOK_BACK = 20


async def _revert_entry(
    ctx: Context, tx: Transaction, event_id: int, entry_id: int, *, moderator: Moderator
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Revert the entry's actions whose question is still as they left it (newest first) and mark the entry undone
    if any was. The questions reverted, and those passed over (as they are now)."""
    rows = await tx.fetchall(
        "SELECT id, question_id, before_state, after_state FROM moderation_actions "
        "WHERE event_id = :event_id AND COALESCE(batch_id, id) = :entry_id AND undone_at IS NULL ORDER BY id DESC",
        {"event_id": event_id, "entry_id": entry_id},
    )
    reverted: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for row in rows:
        question = await question_in_event(tx, event_id, row["question_id"])
        on_air_id = await on_air_id_of(tx, event_id)
        if current_state(question, on_air_id) != QuestionState(**json.loads(row["after_state"])):
            skipped.append(question_json(question, on_air_id))
            continue
        before = QuestionState(**json.loads(row["before_state"]))
        reverted.append(await apply_state(ctx, tx, event_id, question, before))
    if reverted:
        await tx.execute(
            "UPDATE moderation_actions SET undone_at = :now, undone_by = :by "
            "WHERE event_id = :event_id AND COALESCE(batch_id, id) = :entry_id AND undone_at IS NULL",
            {"now": ctx.now(), "by": moderator.id, "event_id": event_id, "entry_id": entry_id},
        )
        await activity.announce(ctx, tx, event_id, entry_id)
    return reverted, skipped


def _changed_since(skipped: list[dict[str, Any]]) -> ApiError:
    texts = ", ".join(f"„{q['text'][:60]}“" for q in skipped[:3])
    return ApiError(
        409,
        "changed_since",
        f"Changed since your action, so it was not undone: {texts}.",
        details={"skipped": skipped, "question": skipped[0]},
    )


def _undone(entry_id: int, reverted: list[dict[str, Any]], skipped: list[dict[str, Any]]) -> dict[str, Any]:
    return {"undone_action_id": entry_id, "question": reverted[0], "questions": reverted, "skipped": skipped}


async def undo_last(ctx: Context, event_id: int, *, moderator: Moderator) -> dict[str, Any]:
    """Undo the moderator's own most recent action (or bulk action) that can still be reverted; the ones after
    it that could not are named in `skipped`. 409 `changed_since` names them when none could be reverted."""
    skipped: list[dict[str, Any]] = []
    async with ctx.db.transaction() as tx:
        entries = await tx.fetchall(
            "SELECT DISTINCT COALESCE(batch_id, id) AS entry_id FROM moderation_actions "
            "WHERE event_id = :event_id AND moderator_id = :moderator_id AND undone_at IS NULL "
            "ORDER BY entry_id DESC LIMIT :limit",
            {"event_id": event_id, "moderator_id": moderator.id, "limit": _LOOK_BACK},
        )
        for row in entries:
            reverted, passed = await _revert_entry(ctx, tx, event_id, row["entry_id"], moderator=moderator)
            skipped.extend(q for q in passed if q["id"] not in {s["id"] for s in skipped})
            if reverted:
                return _undone(row["entry_id"], reverted, skipped)
        if skipped:
            raise _changed_since(skipped)
        raise ApiError(404, "nothing_to_undo", "You have no action in this event left to undo.")


async def undo_entry(ctx: Context, event_id: int, entry_id: int, *, moderator: Moderator) -> dict[str, Any]:
    """Undo one entry of the activity list, whoever took it: 404 when there is none, 409 `already_undone`, 409
    `changed_since` when every question it changed was changed again since."""
    async with ctx.db.transaction() as tx:
        found = await activity.entry(tx, event_id, entry_id)
        if found is None or found["id"] != entry_id:
            raise ApiError(404, "action_not_found", f"There is no moderation action {entry_id} in this event.")
        if found["undone_at"] is not None:
            raise ApiError(409, "already_undone", "This action was undone already.")
        reverted, skipped = await _revert_entry(ctx, tx, event_id, entry_id, moderator=moderator)
        if not reverted:
            raise _changed_since(skipped)
    return _undone(entry_id, reverted, skipped)
