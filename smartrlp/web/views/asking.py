"""Asking without JavaScript: the viewer page's form posts here (never GET: a question and a name do not belong in
addresses, histories and logs) and the asker gets a page saying what became of the question.

The same rules as `POST /api/events/{slug}/questions` (services/questions.ask); a refusal shows the page again with
the text kept and the reason beside the form.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.core import i18n
from smartrlp.core.errors import ApiError
from smartrlp.models.questions import AskQuestion
from smartrlp.services import questions
from smartrlp.web.endpoint import event_from_path
from smartrlp.web.http import app_state, client_address, require_device
from smartrlp.web.pages import render
from smartrlp.web.views.events import viewer_page

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


routes = [Route("/e/{slug}/fragen", ask_submit, methods=["POST"])]
