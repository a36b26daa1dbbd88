"""Abuse: extra filter words per event, blocked devices, a device's history, and reports of questions.

Everything here is for moderators except reporting. Devices are never named to any client: a moderator refers
to a device through one of its questions. What moderators learn about held, reported and blocked questions
travels in `moderation_notes` messages, which go to staff only (not even to the asking device), so a troll
cannot tell from the page that it was blocked or reported. The checks made while people ask and vote are in
smartrlp/services/screening.py.
"""

from __future__ import annotations

import json
from typing import Any

from smartrlp.core.errors import ApiError, conflict
from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.models.abuse import AddWord, ReportQuestion
from smartrlp.models.questions import PUBLIC_STATUSES
from smartrlp.services import questions, screening
from smartrlp.services.accounts import Moderator
from smartrlp.services.context import Context

# ---------------------------------------------------------------- what moderators see


async def notes(ctx: Context, event_id: int) -> dict[str, Any]:
    """Every note, the event's words and its blocks, as of at least the `seq` answered with them."""
    # The head first: whatever is read after it is at least that new, and later messages bring the rest.
    head = await ctx.db.fetchone("SELECT last_seq FROM events WHERE id = :id", {"id": event_id})
    assert head is not None
    return {
        "seq": head["last_seq"],
        "notes": await screening.notes_of(ctx.db, event_id),
        "words": await screening.event_words(ctx.db, event_id),
        "blocks": await screening.blocks_of(ctx.db, event_id),
    }


# ---------------------------------------------------------------- the event's own words


async def words(ctx: Context, event_id: int) -> dict[str, Any]:
    return {"words": await screening.event_words(ctx.db, event_id)}


async def add_word(ctx: Context, event_id: int, body: AddWord) -> tuple[dict[str, Any], bool]:
    """Add the word (already normalised by the model); also answers whether it is new."""
    limit = FIELD_LIMITS["event_words_max"]
    async with ctx.db.transaction() as tx:
        count = await tx.fetchone("SELECT COUNT(*) AS n FROM event_words WHERE event_id = :id", {"id": event_id})
        assert count is not None
        if count["n"] >= limit:
            raise conflict("too_many_words", f"An event can have at most {limit} words of its own.")
        cursor = await tx.execute(
            "INSERT INTO event_words (event_id, word, created_at) VALUES (:event_id, :word, :now) "
            "ON CONFLICT DO NOTHING",
            {"event_id": event_id, "word": body.word, "now": ctx.now()},
        )
        added = cursor.rowcount == 1
        if added:
            await screening.record_notes(ctx.log, tx, event_id, [], words=True)
        current = await screening.event_words(tx, event_id)
    return {"word": body.word, "words": current}, added


async def remove_word(ctx: Context, event_id: int, word: str) -> dict[str, Any]:
    """Remove one of the event's words, named exactly as stored."""
    async with ctx.db.transaction() as tx:
        cursor = await tx.execute(
            "DELETE FROM event_words WHERE event_id = :event_id AND word = :word",
            {"event_id": event_id, "word": word},
        )
        if cursor.rowcount == 0:
            raise ApiError(404, "word_not_found", f"{word!r} is not one of this event's words.")
        await screening.record_notes(ctx.log, tx, event_id, [], words=True)
        current = await screening.event_words(tx, event_id)
    return {"words": current}


# ---------------------------------------------------------------- blocking a device


async def _device_of(conn: screening.Conn, event_id: int, question_id: int) -> str:
    question = await questions.question_in_event(conn, event_id, question_id)
    if question["device_id"] is None:
        raise conflict(
            "device_unknown", "The device that sent this question is not known (any more, after the retention period)."
        )
    return str(question["device_id"])


async def _question_ids_of(conn: screening.Conn, event_id: int, device: str) -> list[int]:
    rows = await conn.fetchall(
        "SELECT id FROM questions WHERE event_id = :event_id AND device_id = :device ORDER BY id",
        {"event_id": event_id, "device": device},
    )
    return [r["id"] for r in rows]


async def set_block(
    ctx: Context, event_id: int, question_id: int, *, blocked: bool, moderator: Moderator
) -> dict[str, Any]:
    """Block (or unblock) the device that asked the question, in this event only."""
    async with ctx.db.transaction() as tx:
        device = await _device_of(tx, event_id, question_id)
        params = {"event_id": event_id, "device": device, "moderator_id": moderator.id, "now": ctx.now()}
        if blocked:
            cursor = await tx.execute(
                "INSERT INTO device_blocks (event_id, device_id, moderator_id, created_at) "
                "VALUES (:event_id, :device, :moderator_id, :now) ON CONFLICT DO NOTHING",
                params,
            )
        else:
            cursor = await tx.execute(
                "DELETE FROM device_blocks WHERE event_id = :event_id AND device_id = :device", params
            )
        ids = await _question_ids_of(tx, event_id, device)
        # Idempotent: blocking a blocked device (two moderators at once) changes and tells nothing.
        if cursor.rowcount == 1:
            await screening.record_notes(ctx.log, tx, event_id, ids, blocks=True)
        blocks = await screening.blocks_of(tx, event_id)
    return {"blocked": blocked, "question_ids": ids, "blocks": blocks}


async def blocks(ctx: Context, event_id: int) -> dict[str, Any]:
    return {"blocks": await screening.blocks_of(ctx.db, event_id)}


async def device_history(ctx: Context, event_id: int, question_id: int) -> dict[str, Any]:
    """What the device behind a question sent in this event: its questions, and how many votes it cast."""
    db = ctx.db
    device = await _device_of(db, event_id, question_id)
    params = {"event_id": event_id, "device": device}
    asked = await db.fetchall(
        "SELECT id, text, status, created_at, held_words, held_device FROM questions "
        "WHERE event_id = :event_id AND device_id = :device ORDER BY id",
        params,
    )
    block = await db.fetchone(
        "SELECT created_at FROM device_blocks WHERE event_id = :event_id AND device_id = :device", params
    )
    votes = await db.fetchone(
        "SELECT COUNT(*) AS cast, COALESCE(SUM(1 - v.counted), 0) AS ignored FROM question_votes v "
        "JOIN questions q ON q.id = v.question_id WHERE q.event_id = :event_id AND v.device_id = :device",
        params,
    )
    ballots = await db.fetchone(
        "SELECT COUNT(*) AS cast, COALESCE(SUM(1 - b.counted), 0) AS ignored FROM poll_ballots b "
        "JOIN polls p ON p.id = b.poll_id WHERE p.event_id = :event_id AND b.device_id = :device",
        params,
    )
    reports = await db.fetchone(
        "SELECT COUNT(*) AS n FROM question_reports r JOIN questions q ON q.id = r.question_id "
        "WHERE q.event_id = :event_id AND r.device_id = :device",
        params,
    )
    assert votes is not None
    assert ballots is not None
    assert reports is not None
    return {
        "blocked": block is not None,
        "blocked_at": block["created_at"] if block else None,
        "questions": [
            {
                "id": q["id"],
                "text": q["text"],
                "status": q["status"],
                "created_at": q["created_at"],
                "held_words": json.loads(q["held_words"]) if q["held_words"] else [],
                "held_device": bool(q["held_device"]),
            }
            for q in asked
        ],
        "votes": {"cast": int(votes["cast"]), "not_counted": int(votes["ignored"])},
        "ballots": {"cast": int(ballots["cast"]), "not_counted": int(ballots["ignored"])},
        "reports_sent": int(reports["n"]),
    }


# ---------------------------------------------------------------- reports


async def report(
    ctx: Context, event_id: int, question_id: int, body: ReportQuestion, *, device: str
) -> tuple[dict[str, Any], bool]:
    """A viewer's report of a public question, once per device; also answers whether it is new."""
    async with ctx.db.transaction() as tx:
        question = await questions.question_in_event(tx, event_id, question_id)
        if question["status"] not in PUBLIC_STATUSES:
            # What a viewer cannot see, it cannot report; no hint whether the question exists.
            raise ApiError(404, "question_not_found", f"There is no question {question_id} in this event.")
        cursor = await tx.execute(
            "INSERT INTO question_reports (question_id, device_id, reason, created_at) "
            "VALUES (:question_id, :device, :reason, :now) ON CONFLICT DO NOTHING",
            {"question_id": question_id, "device": device, "reason": body.reason, "now": ctx.now()},
        )
        new = cursor.rowcount == 1
        if new:
            await screening.record_notes(ctx.log, tx, event_id, [question_id])
    # A second report of the same question is answered alike, but counted once.
    return {"question_id": question_id, "reported": True}, new


async def dismiss_reports(ctx: Context, event_id: int, question_id: int) -> dict[str, Any]:
    """The question's open reports no longer count; the devices that sent them cannot report it again."""
    async with ctx.db.transaction() as tx:
        await questions.question_in_event(tx, event_id, question_id)
        cursor = await tx.execute(
            "UPDATE question_reports SET dismissed_at = :now WHERE question_id = :id AND dismissed_at IS NULL",
            {"id": question_id, "now": ctx.now()},
        )
        if cursor.rowcount:
            await screening.record_notes(ctx.log, tx, event_id, [question_id])
    return {"question_id": question_id, "dismissed": cursor.rowcount}


async def reported_by(ctx: Context, event_id: int, device: str | None) -> dict[str, Any]:
    """The questions this device reported, so its page shows them as reported after a reload."""
    if device is None:
        return {"question_ids": []}
    rows = await ctx.db.fetchall(
        "SELECT r.question_id FROM question_reports r JOIN questions q ON q.id = r.question_id "
        "WHERE q.event_id = :event_id AND r.device_id = :device ORDER BY r.question_id",
        {"event_id": event_id, "device": device},
    )
    return {"question_ids": [r["question_id"] for r in rows]}
