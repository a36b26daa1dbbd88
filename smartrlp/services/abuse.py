"""Abuse: extra filter words per event, blocked devices, a device's history, and reports of questions.

Everything here is for moderators except reporting. Devices are never named to any client: a moderator refers
to a device through one of its questions. What moderators learn about held, reported and blocked questions
travels in `moderation_notes` messages, which go to staff only (not even to the asking device), so a troll
cannot tell from the page that it was blocked or reported.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.core.errors import ApiError, conflict, invalid
from smartrlp.core.wordfilter import WordFilter, normalise_for_display
from smartrlp.db.store import utcnow
from smartrlp.services import questions, screening
from smartrlp.services.events import event_by_slug
from smartrlp.web.auth import require_moderator
from smartrlp.web.http import app_state, device_id, json_response, path_id, read_json, require_device

MAX_WORD = 60
MAX_EVENT_WORDS = 500
REPORT_REASONS = ("offensive", "spam", "misleading", "other")
_WORD_CHARS = re.compile(r"[\w\s'’-]+")


# ---------------------------------------------------------------- checks used by questions and polls








# ---------------------------------------------------------------- what moderators see








async def get_notes(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    # The head first: whatever is read after it is at least that new, and later messages bring the rest.
    head = await state.db.fetchone("SELECT last_seq FROM events WHERE id = :id", {"id": event["id"]})
    assert head is not None
    return json_response(
        {
            "seq": head["last_seq"],
            "notes": await screening.notes_of(state.db, event["id"]),
            "words": await screening.event_words(state.db, event["id"]),
            "blocks": await screening.blocks_of(state.db, event["id"]),
        }
    )


# ---------------------------------------------------------------- the event's own words


def _clean_word(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("'word' must be a string.", "word")
    word = normalise_for_display(value)
    star = word.endswith("*")
    word = word.rstrip("*").strip()
    parsed = WordFilter.from_entries([word])
    # Letters, digits, spaces, hyphens and apostrophes only: a word is also its own address (`…/words/{word}`).
    if _WORD_CHARS.fullmatch(word) is None or not (parsed.exact or parsed.phrases):
        raise invalid("'word' must contain at least one word of letters.", "word")
    if len(word) > MAX_WORD:
        raise invalid(f"'word' may have at most {MAX_WORD} characters.", "word")
    # A trailing star catches every word that begins so ("idiot*" catches "idioten"), as in the shipped lists.
    return word + "*" if star else word


async def list_words(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    return json_response({"words": await screening.event_words(state.db, event["id"])})


async def add_word(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    body = await read_json(request)
    word = _clean_word(body.get("word"))
    async with state.db.transaction() as tx:
        count = await tx.fetchone("SELECT COUNT(*) AS n FROM event_words WHERE event_id = :id", {"id": event["id"]})
        assert count is not None
        if count["n"] >= MAX_EVENT_WORDS:
            raise conflict("too_many_words", f"An event can have at most {MAX_EVENT_WORDS} words of its own.")
        cursor = await tx.execute(
            "INSERT OR IGNORE INTO event_words (event_id, word, created_at) VALUES (:event_id, :word, :now)",
            {"event_id": event["id"], "word": word, "now": utcnow()},
        )
        if cursor.rowcount == 1:
            await screening.record_notes(state.ctx.log, tx, event["id"], [], words=True)
        words = await screening.event_words(tx, event["id"])
    return json_response({"word": word, "words": words}, status=201 if cursor.rowcount == 1 else 200)


async def remove_word(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    word = request.path_params["word"]
    async with state.db.transaction() as tx:
        cursor = await tx.execute(
            "DELETE FROM event_words WHERE event_id = :event_id AND word = :word",
            {"event_id": event["id"], "word": word},
        )
        if cursor.rowcount == 0:
            raise ApiError(404, "word_not_found", f"{word!r} is not one of this event's words.")
        await screening.record_notes(state.ctx.log, tx, event["id"], [], words=True)
        words = await screening.event_words(tx, event["id"])
    return json_response({"words": words})


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


async def _set_block(request: Request, blocked: bool) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    moderator = await require_moderator(request, event["id"])
    question_id = path_id(request)
    async with state.db.transaction() as tx:
        device = await _device_of(tx, event["id"], question_id)
        params = {"event_id": event["id"], "device": device, "moderator_id": moderator.id, "now": utcnow()}
        if blocked:
            cursor = await tx.execute(
                "INSERT OR IGNORE INTO device_blocks (event_id, device_id, moderator_id, created_at) "
                "VALUES (:event_id, :device, :moderator_id, :now)",
                params,
            )
        else:
            cursor = await tx.execute(
                "DELETE FROM device_blocks WHERE event_id = :event_id AND device_id = :device", params
            )
        ids = await _question_ids_of(tx, event["id"], device)
        # Idempotent: blocking a blocked device (two moderators at once) changes and tells nothing.
        if cursor.rowcount == 1:
            await screening.record_notes(state.ctx.log, tx, event["id"], ids, blocks=True)
        blocks = await screening.blocks_of(tx, event["id"])
    return json_response({"blocked": blocked, "question_ids": ids, "blocks": blocks})


async def block_device(request: Request) -> Response:
    return await _set_block(request, True)


async def unblock_device(request: Request) -> Response:
    return await _set_block(request, False)


async def list_blocks(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    return json_response({"blocks": await screening.blocks_of(state.db, event["id"])})


async def device_history(request: Request) -> Response:
    """What the device behind a question sent in this event: its questions, and how many votes it cast."""
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    device = await _device_of(state.db, event["id"], path_id(request))
    params = {"event_id": event["id"], "device": device}
    asked = await state.db.fetchall(
        "SELECT id, text, status, created_at, held_words, held_device FROM questions "
        "WHERE event_id = :event_id AND device_id = :device ORDER BY id",
        params,
    )
    block = await state.db.fetchone(
        "SELECT created_at FROM device_blocks WHERE event_id = :event_id AND device_id = :device", params
    )
    votes = await state.db.fetchone(
        "SELECT COUNT(*) AS cast, COALESCE(SUM(1 - v.counted), 0) AS ignored FROM question_votes v "
        "JOIN questions q ON q.id = v.question_id WHERE q.event_id = :event_id AND v.device_id = :device",
        params,
    )
    ballots = await state.db.fetchone(
        "SELECT COUNT(*) AS cast, COALESCE(SUM(1 - b.counted), 0) AS ignored FROM poll_ballots b "
        "JOIN polls p ON p.id = b.poll_id WHERE p.event_id = :event_id AND b.device_id = :device",
        params,
    )
    reports = await state.db.fetchone(
        "SELECT COUNT(*) AS n FROM question_reports r JOIN questions q ON q.id = r.question_id "
        "WHERE q.event_id = :event_id AND r.device_id = :device",
        params,
    )
    assert votes is not None
    assert ballots is not None
    assert reports is not None
    return json_response(
        {
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
    )


# ---------------------------------------------------------------- reports


async def report_question(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    question_id = path_id(request)
    body = await read_json(request)
    reason = body.get("reason")
    if reason is not None and reason not in REPORT_REASONS:
        raise invalid(f"'reason' must be one of {', '.join(REPORT_REASONS)}, or left out.", "reason")
    device = require_device(request)
    async with state.db.transaction() as tx:
        question = await questions.question_in_event(tx, event["id"], question_id)
        if question["status"] not in questions.PUBLIC_STATUSES:
            # What a viewer cannot see, it cannot report; no hint whether the question exists.
            raise ApiError(404, "question_not_found", f"There is no question {question_id} in this event.")
        cursor = await tx.execute(
            "INSERT OR IGNORE INTO question_reports (question_id, device_id, reason, created_at) "
            "VALUES (:question_id, :device, :reason, :now)",
            {"question_id": question_id, "device": device, "reason": reason, "now": utcnow()},
        )
        new = cursor.rowcount == 1
        if new:
            await screening.record_notes(state.ctx.log, tx, event["id"], [question_id])
    # A second report of the same question is answered alike, but counted once.
    return json_response({"question_id": question_id, "reported": True}, status=201 if new else 200)


async def dismiss_reports(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    question_id = path_id(request)
    async with state.db.transaction() as tx:
        await questions.question_in_event(tx, event["id"], question_id)
        cursor = await tx.execute(
            "UPDATE question_reports SET dismissed_at = :now WHERE question_id = :id AND dismissed_at IS NULL",
            {"id": question_id, "now": utcnow()},
        )
        if cursor.rowcount:
            await screening.record_notes(state.ctx.log, tx, event["id"], [question_id])
    return json_response({"question_id": question_id, "dismissed": cursor.rowcount})


async def my_reports(request: Request) -> Response:
    """The questions this device reported, so its page shows them as reported after a reload."""
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    device = device_id(request)
    if device is None:
        return json_response({"question_ids": []})
    rows = await state.db.fetchall(
        "SELECT r.question_id FROM question_reports r JOIN questions q ON q.id = r.question_id "
        "WHERE q.event_id = :event_id AND r.device_id = :device ORDER BY r.question_id",
        {"event_id": event["id"], "device": device},
    )
    return json_response({"question_ids": [r["question_id"] for r in rows]})






routes = [
    Route("/api/events/{slug}/moderation/notes", get_notes, methods=["GET"]),
    Route("/api/events/{slug}/words", list_words, methods=["GET"]),
    Route("/api/events/{slug}/words", add_word, methods=["POST"]),
    Route("/api/events/{slug}/words/{word}", remove_word, methods=["DELETE"]),
    Route("/api/events/{slug}/device-blocks", list_blocks, methods=["GET"]),
    Route("/api/events/{slug}/questions/{question_id}/device-block", block_device, methods=["POST"]),
    Route("/api/events/{slug}/questions/{question_id}/device-block", unblock_device, methods=["DELETE"]),
    Route("/api/events/{slug}/questions/{question_id}/device", device_history, methods=["GET"]),
    Route("/api/events/{slug}/questions/{question_id}/reports", report_question, methods=["POST"]),
    Route("/api/events/{slug}/questions/{question_id}/reports", dismiss_reports, methods=["DELETE"]),
    Route("/api/events/{slug}/reports/mine", my_reports, methods=["GET"]),
]
