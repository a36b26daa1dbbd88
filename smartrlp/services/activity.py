"""The activity list: the event's recent moderation actions (who, what, which question, when), live for every
moderator of the event, each with what undo needs to know.

An entry is one action, or one batch (a bulk approve or reject: the rows sharing a `batch_id`). Actions are
written by services/moderation.py and undone by services/undo.py; this module only reads and announces them.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from smartrlp.db.store import Database, Transaction
from smartrlp.realtime import protocol
from smartrlp.realtime.hub import EPHEMERAL_SEQ, Broadcast
from smartrlp.services.context import Context

# The list a moderator opens shows this many entries; older ones stay in the database (and undoable by undo-last).
RECENT_ENTRIES = 50

_ROWS = (
    "SELECT a.id, COALESCE(a.batch_id, a.id) AS entry_id, a.moderator_id, m.name AS moderator, a.question_id, "
    "q.text AS question_text, a.before_state, a.after_state, a.created_at, a.undone_at, "
    "u.name AS undone_by FROM moderation_actions a "
    "JOIN questions q ON q.id = a.question_id "
    "LEFT JOIN moderators m ON m.id = a.moderator_id "
    "LEFT JOIN moderators u ON u.id = a.undone_by "
)


def kind_of(before: dict[str, Any], after: dict[str, Any]) -> str:
    """What the action did, in one word: on_air, off_air, a status (approved, rejected, answered, pending), text,
    answer or answer_removed. Putting a question on air approves it on the way; that is still "on_air"."""
    if after["on_air"] and not before["on_air"]:
        return "on_air"
    if after["status"] != before["status"]:
        return str(after["status"])
    if before["on_air"] and not after["on_air"]:
        return "off_air"
    if after["text"] != before["text"]:
        return "text"
    if after.get("answer") != before.get("answer"):
        return "answer" if after.get("answer") else "answer_removed"
    return "none"


def _entries(rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    """Rows (newest first) as entries: a batch's rows become one entry."""
    entries: dict[int, dict[str, Any]] = {}
    for row in rows:
        before, after = json.loads(row["before_state"]), json.loads(row["after_state"])
        entry = entries.get(row["entry_id"])
        if entry is None:
            entry = entries[row["entry_id"]] = {
                "id": row["entry_id"],
                "moderator_id": row["moderator_id"],
                "moderator": row["moderator"],
                "kind": kind_of(before, after),
                "created_at": row["created_at"],
                "undone_at": row["undone_at"],
                "undone_by": row["undone_by"],
                "questions": [],
            }
        # What undo compares: it reverts a question only while it is still as the action left it.
        entry["questions"].append(
            {
                "id": row["question_id"],
                "text": row["question_text"],
                "after": {k: after.get(k) for k in ("status", "text", "on_air", "answer")},
            }
        )
    for entry in entries.values():
        entry["questions"].sort(key=lambda q: q["id"])
    return list(entries.values())


async def recent(db: Database | Transaction, event_id: int, limit: int = RECENT_ENTRIES) -> list[dict[str, Any]]:
    """The event's latest entries, newest first."""
    rows = await db.fetchall(
        _ROWS + "WHERE a.event_id = :event_id AND COALESCE(a.batch_id, a.id) IN ("
        "SELECT DISTINCT COALESCE(batch_id, id) AS e FROM moderation_actions WHERE event_id = :event_id "
        "ORDER BY e DESC LIMIT :limit) ORDER BY entry_id DESC, a.id",
        {"event_id": event_id, "limit": limit},
    )
    return _entries(rows)


async def entry(tx: Transaction, event_id: int, entry_id: int) -> dict[str, Any] | None:
    rows = await tx.fetchall(
        _ROWS + "WHERE a.event_id = :event_id AND COALESCE(a.batch_id, a.id) = :entry_id ORDER BY a.id",
        {"event_id": event_id, "entry_id": entry_id},
    )
    entries = _entries(rows)
    return entries[0] if entries else None


async def announce(ctx: Context, tx: Transaction, event_id: int, entry_id: int) -> None:
    """Tell every moderator of the event about a new or undone entry, once the change is committed.

    The entry is current state, not a change of its own (the question's change is in the change log): it is sent
    with the ephemeral seq, and a page that was away fetches the list again instead of replaying it."""
    found = await entry(tx, event_id, entry_id)
    if found is None:
        return
    text = protocol.encode({"type": protocol.MODERATION_ACTION, "seq": EPHEMERAL_SEQ, "action": found})
    broadcast = Broadcast(event_id, EPHEMERAL_SEQ, protocol.AUDIENCE_STAFF, text)
    tx.after_commit(lambda: ctx.hub.publish_everywhere(broadcast))
