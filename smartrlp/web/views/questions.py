"""The question API: list, ask, upvote. Thin: the rules are in smartrlp/services/questions.py."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request

from smartrlp.models.questions import AskQuestion, QuestionList, QuestionQuery, Vote
from smartrlp.models.questions import Question as QuestionReply
from smartrlp.services import questions
from smartrlp.web.auth import moderator_for
from smartrlp.web.endpoint import Endpoints
from smartrlp.web.http import app_state, client_address, device_id, idempotency_key, path_id, require_device

api = Endpoints("questions")


@api.get("/api/events/{slug}/questions", query=QuestionQuery, response=QuestionList)
async def list_questions(request: Request, event: sqlite3.Row, query: QuestionQuery) -> dict[str, Any]:
    """Questions: approved, answered and your own; moderators see all"""
    staff = await moderator_for(request, event["id"]) is not None
    return await questions.list_for(app_state(request).ctx, event, query, staff=staff, device=device_id(request))


@api.post(
    "/api/events/{slug}/questions",
    body=AskQuestion,
    response=QuestionReply,
    status=201,
    errors=(400, 409),
    rate_limited=True,
    live="ask",
)
async def ask_question(request: Request, event: sqlite3.Row, body: AskQuestion) -> dict[str, Any]:
    """Ask a question (needs the device cookie)

    In pre-moderation, or when the word filter or a block holds it, the question waits for a moderator
    (`pending`); only the asking device sees it then. 409 `questions_closed` when the event takes no questions.
    """
    state = app_state(request)
    device = require_device(request)
    await state.limiter.check("questions", question_device=device, question_address=client_address(request))
    return await questions.ask(state.ctx, event["id"], body, device=device, client_key=idempotency_key(request))


VOTES = "/api/events/{slug}/questions/{question_id}/votes"


@api.post(VOTES, response=Vote, errors=(400, 409), rate_limited=True, live="upvote")
async def upvote(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """Upvote an approved question, once per device

    409 `not_votable` for questions that are not approved (pending, rejected, answered).
    """
    state = app_state(request)
    question_id = path_id(request)
    device = require_device(request)
    await state.limiter.check("votes", vote_device=device, vote_address=client_address(request))
    # Batched with the upvotes arriving meanwhile (smartrlp/services/upvotes.py), answered after their commit.
    return await state.upvotes.upvote(state.ctx, event["id"], question_id, device=device)


@api.delete(VOTES, response=Vote, errors=(400, 409), rate_limited=True, live="unvote")
async def unvote(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """Take back this device's upvote

    `counted` is false when the device had no vote on it. 409 `not_votable` for questions that are not approved.
    """
    state = app_state(request)
    question_id = path_id(request)
    device = require_device(request)
    await state.limiter.check("votes", vote_device=device, vote_address=client_address(request))
    return await questions.unvote(state.ctx, event["id"], question_id, device=device)


routes = api.routes
