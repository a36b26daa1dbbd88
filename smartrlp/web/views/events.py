"""The public event: its JSON, the viewer page and the phone page. The event's rules are in
smartrlp/services/events.py."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.models.events import Event, QuestionsWindow, ReopenQuestions
from smartrlp.services import events, phases
from smartrlp.services.accounts import Moderator
from smartrlp.web.endpoint import Endpoints, event_from_path
from smartrlp.web.http import app_state
from smartrlp.web.pages import page_config, render

api = Endpoints("events")


@api.get("/api/events/{slug}", response=Event)
async def get_event(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """An event, with its agenda, panel, join code and what the studio shows"""
    return await events.event_details(app_state(request).db, event)


@api.post("/api/events/{slug}/questions/reopen", body=ReopenQuestions, response=QuestionsWindow, moderator=True)
async def reopen_questions(
    request: Request, event: sqlite3.Row, moderator: Moderator, body: ReopenQuestions
) -> dict[str, Any]:
    """After the end: take questions again for `minutes` (0 closes them now)

    The event closes questions at its end by itself; this keeps them open a while longer, for latecomers or a
    question round that runs over. Every open page hears of it (`event` message, `questions_until`).
    """
    return await phases.reopen_questions(app_state(request).ctx, event["id"], body.minutes)


async def viewer_page(request: Request, *, phone_only: bool = False, status: int = 200, **ask: Any) -> Response:
    """The event page; `ask` holds what the form without JavaScript sent back when it was refused (`asking.py`)."""
    row = await event_from_path(request)
    event = await events.event_details(app_state(request).db, row)
    config = page_config({"slug": event["slug"], "phone_only": phone_only})
    now = datetime.now(UTC)
    phase = phases.phase(row["starts_at"], row["ends_at"], now)
    takes_questions = phases.takes_questions(row, now)
    return render(
        request,
        "viewer.html",
        status=status,
        event=event,
        config=config,
        phone_only=phone_only,
        phase=phase,
        takes_questions=takes_questions,
        **ask,
    )


async def phone_page(request: Request) -> Response:
    """ "Fragen & Umfragen" without the stream, for people who watch on TV and take part by phone."""
    return await viewer_page(request, phone_only=True)


routes = [
    *api.routes,
    Route("/e/{slug}", viewer_page, methods=["GET"]),
    Route("/e/{slug}/mitmachen", phone_page, methods=["GET"]),
]
