"""Moderation: changing a question's state, text and airing, undoing the last action, the moderator page."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.core.errors import ApiError, conflict, invalid
from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.core.text import clean_text
from smartrlp.db.store import Transaction, utcnow
from smartrlp.realtime import changes, protocol
from smartrlp.services import screening
from smartrlp.services.events import event_by_slug
from smartrlp.services.questions import (
    QUESTION_COLUMNS,
    STATUSES,
    audience_of,
    question_in_event,
    question_json,
)
from smartrlp.web.auth import moderator_page_access, require_moderator
from smartrlp.web.http import app_state, json_response, path_id, read_json
from smartrlp.web.pages import page_config, render


@dataclass(frozen=True, slots=True)
class QuestionState:
    """What a moderator can change about a question; an action records it before and after."""

    status: str
    text: str
    on_air: bool
    # A written answer, mostly added after the event to questions the panel did not reach. Actions logged
    # before answers existed have none, hence the default.
    answer: str | None = None


async def _apply(
    tx: Transaction, request: Request, event_id: int, question: sqlite3.Row, target: QuestionState
) -> dict[str, Any]:
    """Bring the question to `target`, log the change(s) and return the question as now stored."""
    hub = app_state(request).hub
    event = await tx.fetchone("SELECT on_air_question_id FROM events WHERE id = :id", {"id": event_id})
    assert event is not None
    was_on_air_id = event["on_air_question_id"]
    now = utcnow()
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
    await changes.record(
        tx,
        hub,
        event_id,
        protocol.QUESTION,
        {"question": data},
        audience=audience_of(question["status"], target.status),
        device_id=row["device_id"],
    )
    if on_air_id != was_on_air_id:
        await tx.execute("UPDATE events SET on_air_question_id = :q WHERE id = :id", {"q": on_air_id, "id": event_id})
        await changes.record(
            tx,
            hub,
            event_id,
            protocol.ON_AIR,
            {"question_id": on_air_id, "question": data if on_air_id == question["id"] else None},
        )
    return data


def _current_state(question: sqlite3.Row, on_air_id: int | None) -> QuestionState:
    return QuestionState(
        status=question["status"], text=question["text"], on_air=question["id"] == on_air_id, answer=question["answer"]
    )


def _target_state(current: QuestionState, body: dict[str, Any]) -> QuestionState:
    known = {"status", "text", "highlighted", "answer", "version"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise invalid(f"Unknown field {unknown[0]!r}; send any of status, text, highlighted, answer.", unknown[0])
    status, text, on_air, answer = current.status, current.text, current.on_air, current.answer
    if "answer" in body:
        # Empty or null removes the written answer.
        answer = clean_text(body["answer"], field="answer", max_length=FIELD_LIMITS["answer"], required=False)
    if "status" in body:
        if body["status"] not in STATUSES:
            raise invalid(f"'status' must be one of {', '.join(STATUSES)}.", "status")
        status = body["status"]
        # A question that leaves the floor leaves the air with it.
        if status != current.status and status in {"pending", "rejected", "answered"}:
            on_air = False
    if "text" in body:
        text = clean_text(body["text"], field="text", max_length=FIELD_LIMITS["question_text"], required=True) or text
    if "highlighted" in body:
        if not isinstance(body["highlighted"], bool):
            raise invalid("'highlighted' must be true or false.", "highlighted")
        on_air = body["highlighted"]
        # Putting a question on air shows it to everyone, so it is approved at the same time.
        if on_air and status in {"pending", "rejected"}:
            status = "approved"
    return QuestionState(status=status, text=text, on_air=on_air, answer=answer)


async def update_question(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    moderator = await require_moderator(request, event["id"])
    question_id = path_id(request)
    body = await read_json(request)
    expected_version = body.get("version")
    if expected_version is not None and (not isinstance(expected_version, int) or isinstance(expected_version, bool)):
        raise invalid("'version' must be a whole number.", "version")
    async with state.db.transaction() as tx:
        question = await question_in_event(tx, event["id"], question_id)
        on_air = await tx.fetchone("SELECT on_air_question_id FROM events WHERE id = :id", {"id": event["id"]})
        assert on_air is not None
        if expected_version is not None and expected_version != question["version"]:
            raise ApiError(
                409,
                "version_conflict",
                "Someone else changed this question meanwhile; reload it and retry.",
                details={"question": question_json(question, on_air["on_air_question_id"])},
            )
        before = _current_state(question, on_air["on_air_question_id"])
        after = _target_state(before, body)
        if after.on_air and not before.on_air and before.status in {"pending", "rejected"}:
            await _refuse_airing_held(tx, question_id)
        if after == before:
            # Idempotent: a double click or a retried request changes nothing and logs nothing.
            return json_response(question_json(question, on_air["on_air_question_id"]))
        data = await _apply(tx, request, event["id"], question, after)
        await tx.execute(
            "INSERT INTO moderation_actions (event_id, moderator_id, question_id, before_state, after_state, "
            "created_at) VALUES (:event_id, :moderator_id, :question_id, :before, :after, :now)",
            {
                "event_id": event["id"],
                "moderator_id": moderator.id,
                "question_id": question_id,
                "before": json.dumps(asdict(before)),
                "after": json.dumps(asdict(after)),
                "now": utcnow(),
            },
        )
    return json_response(data)


async def _refuse_airing_held(tx: Transaction, question_id: int) -> None:
    # "Auf Sendung" approves a waiting question on the way; for one the filter or a block held, one click
    # under pressure must not put it in front of the audience: it has to be approved on its own first.
    held = await tx.fetchone("SELECT held_words, held_device FROM questions WHERE id = :id", {"id": question_id})
    if held is not None and screening.is_held(held):
        raise conflict("held_question", "This question was held for review; approve it before putting it on air.")


async def undo_last(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    moderator = await require_moderator(request, event["id"])
    async with state.db.transaction() as tx:
        action = await tx.fetchone(
            "SELECT id, question_id, before_state, after_state FROM moderation_actions "
            "WHERE event_id = :event_id AND moderator_id = :moderator_id AND undone_at IS NULL "
            "ORDER BY id DESC LIMIT 1",
            {"event_id": event["id"], "moderator_id": moderator.id},
        )
        if action is None:
            raise ApiError(404, "nothing_to_undo", "You have no action in this event left to undo.")
        question = await question_in_event(tx, event["id"], action["question_id"])
        on_air = await tx.fetchone("SELECT on_air_question_id FROM events WHERE id = :id", {"id": event["id"]})
        assert on_air is not None
        current = _current_state(question, on_air["on_air_question_id"])
        if current != QuestionState(**json.loads(action["after_state"])):
            raise conflict("changed_since", "The question was changed after your action; undo it by hand.")
        before = QuestionState(**json.loads(action["before_state"]))
        data = await _apply(tx, request, event["id"], question, before)
        await tx.execute(
            "UPDATE moderation_actions SET undone_at = :now WHERE id = :id", {"now": utcnow(), "id": action["id"]}
        )
    return json_response({"undone_action_id": action["id"], "question": data})


async def moderator_page(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    moderator = await moderator_page_access(request, event["id"])
    if isinstance(moderator, Response):
        return moderator
    config = page_config({"slug": event["slug"], "moderator": moderator.name})
    return render(request, "moderate.html", event=dict(event), moderator=moderator, config=config)


routes = [
    Route("/api/events/{slug}/questions/{question_id}", update_question, methods=["PATCH"]),
    Route("/api/events/{slug}/moderation/undo", undo_last, methods=["POST"]),
    Route("/e/{slug}/moderate", moderator_page, methods=["GET"]),
]
