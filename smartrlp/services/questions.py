"""Questions from viewers: validation, storage, the public question API and upvotes."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.core.errors import ApiError, conflict, invalid
from smartrlp.core.text import clean_text
from smartrlp.db.store import Database, Transaction, utcnow
from smartrlp.realtime import changes, protocol
from smartrlp.services import abuse
from smartrlp.services.accounts import moderator_for
from smartrlp.services.events import event_by_slug
from smartrlp.web.http import app_state, client_address, device_id, json_response, read_json, require_device

MAX_TEXT = 300
MAX_NAME = 60
MAX_ANSWER = 2000
STATUSES = ("pending", "approved", "rejected", "answered")
PUBLIC_STATUSES = ("approved", "answered")

QUESTION_COLUMNS = (
    "q.id, q.event_id, q.text, q.name, q.device_id, q.status, q.votes, q.version, q.created_at, "
    "q.updated_at, q.answered_at, q.panelist_id, q.answer"
)


def question_json(row: sqlite3.Row, on_air_id: int | None, *, device: str | None = None) -> dict[str, Any]:
    data = {
        "id": row["id"],
        "text": row["text"],
        "name": row["name"],
        "status": row["status"],
        "votes": row["votes"],
        "version": row["version"],
        "created_at": row["created_at"],
        "answered_at": row["answered_at"],
        "highlighted": row["id"] == on_air_id,
        "panelist_id": row["panelist_id"],
        "answer": row["answer"],
    }
    if device is not None:
        data["mine"] = row["device_id"] == device
    return data


def audience_of(old_status: str | None, new_status: str) -> str:
    # Viewers must hear of a change to anything they could see, including its disappearance.
    if new_status in PUBLIC_STATUSES or old_status in PUBLIC_STATUSES:
        return protocol.AUDIENCE_PUBLIC
    return protocol.AUDIENCE_STAFF


async def question_in_event(conn: Transaction | Database, event_id: int, question_id: int) -> sqlite3.Row:
    row = await conn.fetchone(
        f"SELECT {QUESTION_COLUMNS} FROM questions q WHERE q.id = :id AND q.event_id = :event_id",
        {"id": question_id, "event_id": event_id},
    )
    if row is None:
        raise ApiError(404, "question_not_found", f"There is no question {question_id} in this event.")
    return row


async def visible_questions(
    db: Database,
    event_id: int,
    *,
    statuses: tuple[str, ...] | None,
    device: str | None,
    sort: str = "popular",
) -> list[sqlite3.Row]:
    """Questions in the given states, plus (for a viewer) every question this device asked."""
    order = "q.votes DESC, q.id ASC" if sort == "popular" else "q.id DESC"
    status_filter = "1" if statuses is None else f"q.status IN ({','.join('?' * len(statuses))})"
    mine = " OR q.device_id = ?" if device is not None else ""
    params: list[Any] = [event_id, *(statuses or ()), *([device] if device is not None else [])]
    # Placeholders are positional here because the IN list varies in length.
    return await db.fetchall(
        f"SELECT {QUESTION_COLUMNS} FROM questions q WHERE q.event_id = ? AND ({status_filter}{mine}) ORDER BY {order}",
        tuple(params),
    )


def path_id(request: Request, name: str = "question_id", what: str = "question") -> int:
    raw = request.path_params[name]
    # isdigit() alone also takes digits int() refuses, such as "²"; only ASCII digits make an id.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ApiError(404, f"{what}_not_found", f"There is no {what} {raw!r}.")
    return int(raw)


async def list_questions(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    sort = request.query_params.get("sort", "popular")
    if sort not in {"popular", "newest"}:
        raise invalid("'sort' must be 'popular' or 'newest'.", "sort")
    moderator = await moderator_for(request, event["id"])
    if moderator is not None:
        wanted = request.query_params.get("status")
        statuses = None
        if wanted:
            statuses = tuple(s.strip() for s in wanted.split(",") if s.strip())
            unknown = [s for s in statuses if s not in STATUSES]
            if unknown:
                raise invalid(f"Unknown status {unknown[0]!r}; use {', '.join(STATUSES)}.", "status")
        rows = await visible_questions(state.db, event["id"], statuses=statuses, device=None, sort=sort)
        questions = [question_json(r, event["on_air_question_id"]) for r in rows]
    else:
        device = device_id(request)
        rows = await visible_questions(state.db, event["id"], statuses=PUBLIC_STATUSES, device=device, sort=sort)
        questions = [question_json(r, event["on_air_question_id"], device=device) for r in rows]
    return json_response({"questions": questions, "seq": event["last_seq"]})


async def ask_question(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    body = await read_json(request)
    text = clean_text(body.get("text"), field="text", max_length=MAX_TEXT, required=True)
    name = clean_text(body.get("name"), field="name", max_length=MAX_NAME, required=False)
    panelist_id = body.get("panelist_id")
    if panelist_id is not None and (not isinstance(panelist_id, int) or isinstance(panelist_id, bool)):
        raise invalid("'panelist_id' must be the id of one of the event's panelists, or null.", "panelist_id")
    device = require_device(request)
    state.limiter.hit("questions", question_device=device, question_address=client_address(request))
    async with state.db.transaction() as tx:
        current = await tx.fetchone(
            "SELECT questions_open, on_air_question_id, moderation_mode, names_allowed, archived_at "
            "FROM events WHERE id = :id",
            {"id": event["id"]},
        )
        if current is None:
            raise ApiError(404, "event_not_found", "The event no longer exists.")
        if not current["questions_open"] or current["archived_at"] is not None:
            raise conflict("questions_closed", "This event is not taking questions at the moment.")
        if panelist_id is not None:
            panelist = await tx.fetchone(
                "SELECT id FROM panelists WHERE id = :id AND event_id = :event_id",
                {"id": panelist_id, "event_id": event["id"]},
            )
            if panelist is None:
                raise invalid("There is no such panelist in this event.", "panelist_id")
        if not current["names_allowed"]:
            # A page loaded before the organisers turned names off may still send one: it is not kept.
            name = None
        # Post-moderation shows a question at once, unless the word filter (shipped and the event's own words)
        # or a block of the asking device holds it for a moderator. Both are noted in either mode, so moderators
        # see why; the asker only sees its question waiting, as any question waits in pre-moderation.
        word_filter = await abuse.filter_for(tx, state.word_filter, event["id"])
        held_words = word_filter.matches(text) + (word_filter.matches(name) if name else [])
        held_device = await abuse.is_blocked(tx, event["id"], device)
        status = "pending"
        if current["moderation_mode"] == "post" and not held_words and not held_device:
            status = "approved"
        now = utcnow()
        row = await tx.fetchone(
            "INSERT INTO questions (event_id, text, name, device_id, status, panelist_id, created_at, updated_at, "
            "held_words, held_device) "
            "VALUES (:event_id, :text, :name, :device, :status, :panelist_id, :now, :now, :held_words, :held_device) "
            f"RETURNING {QUESTION_COLUMNS.replace('q.', '')}",
            {
                "event_id": event["id"],
                "text": text,
                "name": name,
                "device": device,
                "status": status,
                "panelist_id": panelist_id,
                "now": now,
                "held_words": abuse.held_words_json(held_words),
                "held_device": int(held_device),
            },
        )
        assert row is not None
        question = question_json(row, current["on_air_question_id"])
        await changes.record(
            tx,
            state.hub,
            event["id"],
            protocol.QUESTION,
            {"question": question},
            audience=audience_of(None, status),
            device_id=device,
        )
        if held_words or held_device:
            await abuse.record_notes(tx, state.hub, event["id"], [row["id"]])
    return json_response({**question, "mine": True}, status=201)


async def upvote(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    question_id = path_id(request)
    device = require_device(request)
    state.limiter.hit("votes", vote_device=device, vote_address=client_address(request))
    async with state.db.transaction() as tx:
        question = await question_in_event(tx, event["id"], question_id)
        if question["status"] != "approved":
            raise conflict("not_votable", "Only approved questions that are not yet answered take votes.")
        # A blocked device's vote is kept (so it cannot vote again) and answered like any other, count included,
        # but not added: the troll sees nothing different until the next count of that question arrives.
        ignored = await abuse.is_blocked(tx, event["id"], device)
        cursor = await tx.execute(
            "INSERT OR IGNORE INTO question_votes (question_id, device_id, created_at, counted) "
            "VALUES (:question_id, :device, :now, :counted)",
            {"question_id": question_id, "device": device, "now": utcnow(), "counted": int(not ignored)},
        )
        counted = cursor.rowcount == 1
        votes = int(question["votes"])
        if counted and ignored:
            votes += 1
        elif counted:
            row = await tx.fetchone(
                "UPDATE questions SET votes = votes + 1 WHERE id = :id RETURNING votes", {"id": question_id}
            )
            assert row is not None
            votes = int(row["votes"])
            await changes.record(
                tx, state.hub, event["id"], protocol.VOTES, {"question_id": question_id, "votes": votes}
            )
    return json_response({"question_id": question_id, "votes": votes, "counted": counted, "voted": True})


routes = [
    Route("/api/events/{slug}/questions", list_questions, methods=["GET"]),
    Route("/api/events/{slug}/questions", ask_question, methods=["POST"]),
    Route("/api/events/{slug}/questions/{question_id}/votes", upvote, methods=["POST"]),
]
