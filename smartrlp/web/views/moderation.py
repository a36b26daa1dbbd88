"""Moderation over HTTP: changing a question, undoing the last action, and the moderator page.

Thin: the rules are in smartrlp/services/moderation.py.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.models.moderation import ModerateQuestion, Undone
from smartrlp.models.questions import Question as QuestionReply
from smartrlp.services import moderation
from smartrlp.services.accounts import Moderator
from smartrlp.web.auth import moderator_page_access
from smartrlp.web.endpoint import Endpoints, event_from_path
from smartrlp.web.http import app_state, path_id
from smartrlp.web.pages import page_config, render

api = Endpoints("moderation")


@api.patch(
    "/api/events/{slug}/questions/{question_id}",
    body=ModerateQuestion,
    response=QuestionReply,
    errors=(409,),
    moderator=True,
)
async def update_question(
    request: Request, event: sqlite3.Row, moderator: Moderator, body: ModerateQuestion
) -> dict[str, Any]:
    """Moderate a question: its state, text, written answer, or whether it is on air

    409 `version_conflict` when `version` is no longer current (the current question in `details.question`);
    409 `held_question` when a question the filter or a block held would go on air without being approved first.
    """
    return await moderation.update_question(
        app_state(request).ctx, event["id"], path_id(request), body, moderator=moderator
    )


@api.post("/api/events/{slug}/moderation/undo", response=Undone, errors=(409,), moderator=True)
async def undo_last(request: Request, event: sqlite3.Row, moderator: Moderator) -> dict[str, Any]:
    """Undo your last moderation action in this event

    404 `nothing_to_undo`; 409 `changed_since` when someone changed the question after that action.
    """
    return await moderation.undo_last(app_state(request).ctx, event["id"], moderator=moderator)


async def moderator_page(request: Request) -> Response:
    event = await event_from_path(request)
    moderator = await moderator_page_access(request, event["id"])
    if isinstance(moderator, Response):
        return moderator
    config = page_config({"slug": event["slug"], "moderator": moderator.name})
    return render(request, "moderate.html", event=dict(event), moderator=moderator, config=config)


routes = [*api.routes, Route("/e/{slug}/moderate", moderator_page, methods=["GET"])]
