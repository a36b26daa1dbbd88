"""The public event: its JSON, the viewer page, the phone page and its ask form without JavaScript.

The event's rules are in smartrlp/services/events.py and services/phases.py."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.core import i18n
from smartrlp.core.errors import ApiError
from smartrlp.models.events import Event, QuestionsWindow, ReopenQuestions
from smartrlp.models.questions import AskQuestion
from smartrlp.services import events, phases, questions
from smartrlp.services.accounts import Moderator
from smartrlp.web.auth import moderator_for
from smartrlp.web.endpoint import Endpoints, event_from_path
from smartrlp.web.http import app_state, client_address, require_device
from smartrlp.web.pages import page_config, render

api = Endpoints("events")


@api.get("/api/events/{slug}", response=Event)
async def get_event(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """An event, with its agenda, panel, join code and what the studio shows

    A draft (`published` false) is `404 event_not_found` for anyone but its moderators.
    """
    await _refuse_draft(request, event)
    return await events.event_details(app_state(request).db, event)


async def _refuse_draft(request: Request, event: sqlite3.Row) -> None:
    """Drafts are for the organisers: to everyone else they do not exist yet (404)."""
    if event["published_at"] is None and await moderator_for(request, event["id"]) is None:
        raise ApiError(404, "event_not_found", f"There is no event {event['slug']!r}.")


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
    await _refuse_draft(request, row)
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


# --- asking without JavaScript: the form posts here (never GET: a question and a name do not belong in addresses,
# histories and logs); the same rules as the API's, the result a server-rendered page, a refusal the page again.

_ = i18n.gettext


def _refusal(error: ApiError) -> str:
    return {
        "questions_closed": _("Zurzeit werden keine neuen Fragen angenommen."),
        "event_ended": _("Die Veranstaltung ist beendet: Es werden keine neuen Fragen mehr angenommen."),
        "rate_limited": _("Bitte warten Sie einen Moment, bevor Sie die nächste Frage stellen."),
        "no_device": _("Bitte laden Sie die Seite neu und versuchen Sie es dann noch einmal."),
    }.get(error.code, _("Die Frage konnte nicht gesendet werden. Bitte versuchen Sie es noch einmal."))


async def ask_submit(request: Request) -> Response:
    row = await event_from_path(request)
    state = app_state(request)
    form = await request.form()
    raw = {key: form.get(key) for key in ("text", "name", "panelist_id")}
    text, name = str(raw["text"] or ""), str(raw["name"] or "")
    phone_only = form.get("from") == "mitmachen"
    kept: dict[str, Any] = {"ask_text": text, "ask_name": name, "phone_only": phone_only}
    try:
        panelist = str(raw["panelist_id"] or "")
        body = AskQuestion.model_validate(
            {
                "text": text,
                "name": name.strip() or None,
                "panelist_id": int(panelist) if panelist.isascii() and panelist.isdigit() else None,
            }
        )
    except ValidationError as error:
        field = str(error.errors()[0]["loc"][0]) if error.errors() and error.errors()[0]["loc"] else "text"
        message = (
            _("Bitte schreiben Sie zuerst Ihre Frage.")
            if field == "text" and not text.strip()
            else _("Bitte prüfen Sie Ihre Eingabe.")
        )
        return await viewer_page(request, status=422, ask_error=message, **kept)
    try:
        device = require_device(request)
        state.limiter.hit("questions", question_device=device, question_address=client_address(request))
        question = await questions.ask(state.ctx, row["id"], body, device=device)
    except ApiError as error:
        return await viewer_page(request, status=error.status, ask_error=_refusal(error), **kept)
    back = f"/e/{row['slug']}/mitmachen" if phone_only else f"/e/{row['slug']}"
    return render(request, "question_sent.html", status=201, event=dict(row), question=question, back=back)


routes = [
    *api.routes,
    Route("/e/{slug}", viewer_page, methods=["GET"]),
    Route("/e/{slug}/mitmachen", phone_page, methods=["GET"]),
    Route("/e/{slug}/fragen", ask_submit, methods=["POST"]),
]
