"""Moderation over HTTP: changing questions (one or several), undo, the activity list, and the moderator page.

Thin: the rules are in smartrlp/services/moderation.py.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.models.moderation import ActivityList, BulkDone, BulkModerate, ModerateQuestion, Undone
from smartrlp.models.questions import Question as QuestionReply
from smartrlp.services import activity, moderation, undo
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


@api.post("/api/events/{slug}/moderation/bulk", body=BulkModerate, response=BulkDone, moderator=True)
async def bulk_update(request: Request, event: sqlite3.Row, moderator: Moderator, body: BulkModerate) -> dict[str, Any]:
    """Approve or reject several questions in one action (one entry in the activity list, one undo)

    404 `question_not_found` (and nothing changed) when one of them is not in this event.
    """
    return await moderation.bulk_update(app_state(request).ctx, event["id"], body, moderator=moderator)


@api.post("/api/events/{slug}/moderation/undo", response=Undone, errors=(409,), moderator=True)
async def undo_last(request: Request, event: sqlite3.Row, moderator: Moderator) -> dict[str, Any]:
    """Undo your own most recent moderation action in this event that can still be undone

    Actions whose question someone changed since are passed over (named in `skipped`) and not offered again.
    404 `nothing_to_undo`; 409 `changed_since` (the questions in `details.skipped`) when none could be undone.
    """
    return await undo.undo_last(app_state(request).ctx, event["id"], moderator=moderator)


@api.get("/api/events/{slug}/moderation/actions", response=ActivityList, moderator=True)
async def list_actions(request: Request, event: sqlite3.Row, moderator: Moderator) -> dict[str, Any]:
    """The activity list: the event's 50 most recent moderation actions, newest first

    Kept up to date by `moderation_action` messages (moderators only).
    """
    return {"actions": await activity.recent(app_state(request).ctx.db, event["id"])}


@api.post("/api/events/{slug}/moderation/actions/{action_id}/undo", response=Undone, errors=(409,), moderator=True)
async def undo_action(request: Request, event: sqlite3.Row, moderator: Moderator) -> dict[str, Any]:
    """Undo one entry of the activity list, whoever took it

    404 `action_not_found`; 409 `already_undone`; 409 `changed_since` when its questions were changed since.
    """
    return await undo.undo_entry(
        app_state(request).ctx, event["id"], path_id(request, "action_id", "action"), moderator=moderator
    )


async def moderator_page(request: Request) -> Response:
    event = await event_from_path(request)
    moderator = await moderator_page_access(request, event["id"])
    if isinstance(moderator, Response):
        return moderator
    config = page_config({"slug": event["slug"], "moderator": moderator.name, "moderator_id": moderator.id})
    return render(request, "moderate.html", event=dict(event), moderator=moderator, config=config)


routes = [*api.routes, Route("/e/{slug}/moderate", moderator_page, methods=["GET"])]
