"""Screening, used while people ask and vote: the word filter of an event, blocked devices, and the notes that
tell moderators why a question waits. The moderators' own tools (words, blocks, history, reports) are in
smartrlp/services/abuse.py.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from smartrlp.core.wordfilter import WordFilter
from smartrlp.db.store import Database, Transaction
from smartrlp.realtime import protocol
from smartrlp.realtime.changes import ChangeLog

Conn = Database | Transaction


async def event_words(conn: Conn, event_id: int) -> list[str]:
    rows = await conn.fetchall("SELECT word FROM event_words WHERE event_id = :id ORDER BY word", {"id": event_id})
    return [r["word"] for r in rows]


async def filter_for(conn: Conn, shipped: WordFilter, event_id: int) -> WordFilter:
    """The shipped lists plus this event's own words (a handful, so building it per request costs nothing)."""
    words = await event_words(conn, event_id)
    return shipped.extended(words) if words else shipped


async def is_blocked(conn: Conn, event_id: int, device: str | None) -> bool:
    if device is None:
        return False
    row = await conn.fetchone(
        "SELECT 1 FROM device_blocks WHERE event_id = :event_id AND device_id = :device",
        {"event_id": event_id, "device": device},
    )
    return row is not None


async def notes_of(conn: Conn, event_id: int, question_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Why questions were held, whether their device is blocked, and their open reports.

    Without `question_ids`: every question of the event that has anything to say. With them: exactly those
    questions, so that a message can also clear what no longer applies.
    """
    params = {"event_id": event_id, "ids": None if question_ids is None else json.dumps(question_ids)}
    rows = await conn.fetchall(
        "SELECT q.id, q.held_words, q.held_device, b.device_id IS NOT NULL AS device_blocked FROM questions q "
        "LEFT JOIN device_blocks b ON b.event_id = q.event_id AND b.device_id = q.device_id "
        "WHERE q.event_id = :event_id AND (CASE WHEN :ids IS NULL THEN (q.held_words IS NOT NULL OR q.held_device "
        "OR b.device_id IS NOT NULL OR EXISTS (SELECT 1 FROM question_reports r WHERE r.question_id = q.id "
        "AND r.dismissed_at IS NULL)) ELSE q.id IN (SELECT value FROM json_each(:ids)) END) ORDER BY q.id",
        params,
    )
    reports = await conn.fetchall(
        "SELECT r.question_id, COALESCE(r.reason, 'other') AS reason, COUNT(*) AS n FROM question_reports r "
        "JOIN questions q ON q.id = r.question_id WHERE q.event_id = :event_id AND r.dismissed_at IS NULL "
        "AND (:ids IS NULL OR q.id IN (SELECT value FROM json_each(:ids))) GROUP BY r.question_id, reason",
        params,
    )
    reasons: dict[int, dict[str, int]] = {}
    for r in reports:
        reasons.setdefault(r["question_id"], {})[r["reason"]] = int(r["n"])
    return [
        {
            "question_id": row["id"],
            "held_words": json.loads(row["held_words"]) if row["held_words"] else [],
            "held_device": bool(row["held_device"]),
            "device_blocked": bool(row["device_blocked"]),
            "reports": sum(reasons.get(row["id"], {}).values()),
            "report_reasons": reasons.get(row["id"], {}),
        }
        for row in rows
    ]


async def blocks_of(conn: Conn, event_id: int) -> list[dict[str, Any]]:
    """Blocked devices, each named by its first question in the event (the id to unblock it with)."""
    rows = await conn.fetchall(
        "SELECT b.created_at AS blocked_at, q.id AS question_id, q.text, q.created_at, "
        "(SELECT COUNT(*) FROM questions c WHERE c.event_id = b.event_id AND c.device_id = b.device_id) AS questions "
        "FROM device_blocks b LEFT JOIN questions q ON q.id = (SELECT MIN(f.id) FROM questions f "
        "WHERE f.event_id = b.event_id AND f.device_id = b.device_id) "
        "WHERE b.event_id = :event_id ORDER BY b.created_at DESC",
        {"event_id": event_id},
    )
    return [
        {
            "question_id": r["question_id"],
            "text": r["text"],
            "created_at": r["created_at"],
            "blocked_at": r["blocked_at"],
            "questions": int(r["questions"]),
        }
        for r in rows
    ]


async def record_notes(
    log: ChangeLog,
    tx: Transaction,
    event_id: int,
    question_ids: list[int],
    *,
    words: bool = False,
    blocks: bool = False,
) -> None:
    """Tell moderators (only them: no device is named, so not even the asker) what changed."""
    body: dict[str, Any] = {"notes": await notes_of(tx, event_id, question_ids)}
    if words:
        body["words"] = await event_words(tx, event_id)
    if blocks:
        body["blocks"] = await blocks_of(tx, event_id)
    await log.record(tx, event_id, protocol.MODERATION_NOTES, body, audience=protocol.AUDIENCE_STAFF)


def held_words_json(words: list[str]) -> str | None:
    return json.dumps(words, ensure_ascii=False) if words else None


def is_held(question: sqlite3.Row) -> bool:
    """Whether the question was held by the filter or a block (read with `held_words, held_device`)."""
    return question["held_words"] is not None or bool(question["held_device"])
