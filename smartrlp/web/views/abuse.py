"""The abuse API: the event's filter words, device blocks and history, reports, and the moderators' notes.

Thin: the rules are in smartrlp/services/abuse.py.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from smartrlp.models.abuse import (
    AddedWord,
    AddWord,
    BlockChange,
    BlockList,
    DeviceHistory,
    DismissedReports,
    EventWords,
    ModerationNotes,
    MyReports,
    Reported,
    ReportQuestion,
)
from smartrlp.services import abuse
from smartrlp.services.accounts import Moderator
from smartrlp.web.endpoint import Endpoints
from smartrlp.web.http import app_state, device_id, json_response, path_id, require_device

api = Endpoints("abuse")


@api.get("/api/events/{slug}/moderation/notes", response=ModerationNotes, moderator=True)
async def moderation_notes(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """Why questions were held, their reports, blocked devices and the event's filter words

    The moderator page fetches it after each `snapshot` and then applies `moderation_notes` messages with a
    higher `seq`.
    """
    return await abuse.notes(app_state(request).ctx, event["id"])


@api.get("/api/events/{slug}/words", response=EventWords, moderator=True)
async def list_words(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """The event's own filter words (in addition to the shipped lists)"""
    return await abuse.words(app_state(request).ctx, event["id"])


@api.post(
    "/api/events/{slug}/words", body=AddWord, response=AddedWord, status=201, also=(200,), errors=(409,), moderator=True
)
async def add_word(request: Request, event: sqlite3.Row, body: AddWord) -> dict[str, Any] | Response:
    """Add a word or phrase to the event's filter (a trailing * catches word beginnings)

    200 instead of 201 when the word was there already. 409 `too_many_words` beyond the limit.
    """
    data, added = await abuse.add_word(app_state(request).ctx, event["id"], body)
    return data if added else json_response(data)


@api.delete("/api/events/{slug}/words/{word}", response=EventWords, moderator=True)
async def remove_word(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """Remove one of the event's filter words (URL-encoded as stored)

    404 `word_not_found`.
    """
    return await abuse.remove_word(app_state(request).ctx, event["id"], request.path_params["word"])


@api.get("/api/events/{slug}/device-blocks", response=BlockList, moderator=True)
async def list_blocks(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """Blocked devices, each named by its first question"""
    return await abuse.blocks(app_state(request).ctx, event["id"])


@api.post(
    "/api/events/{slug}/questions/{question_id}/device-block", response=BlockChange, errors=(409,), moderator=True
)
async def block_device(request: Request, event: sqlite3.Row, moderator: Moderator) -> dict[str, Any]:
    """Block the device that asked this question (new questions held, votes and ballots not counted)

    Idempotent. 409 `device_unknown` when the device is no longer known (after the retention purge).
    """
    ctx = app_state(request).ctx
    return await abuse.set_block(ctx, event["id"], path_id(request), blocked=True, moderator=moderator)


@api.delete(
    "/api/events/{slug}/questions/{question_id}/device-block", response=BlockChange, errors=(409,), moderator=True
)
async def unblock_device(request: Request, event: sqlite3.Row, moderator: Moderator) -> dict[str, Any]:
    """Lift the block of the device that asked this question

    409 `device_unknown` when the device is no longer known (after the retention purge).
    """
    ctx = app_state(request).ctx
    return await abuse.set_block(ctx, event["id"], path_id(request), blocked=False, moderator=moderator)


@api.get("/api/events/{slug}/questions/{question_id}/device", response=DeviceHistory, errors=(409,), moderator=True)
async def device_history(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """What the device that asked this question sent in this event

    409 `device_unknown` when the device is no longer known (after the retention purge).
    """
    return await abuse.device_history(app_state(request).ctx, event["id"], path_id(request))


@api.post(
    "/api/events/{slug}/questions/{question_id}/reports",
    body=ReportQuestion,
    response=Reported,
    status=201,
    also=(200,),
    errors=(400,),
    live="report",
)
async def report_question(request: Request, event: sqlite3.Row, body: ReportQuestion) -> dict[str, Any] | Response:
    """Report a public question to the moderators (once per device; needs the device cookie)

    200 instead of 201 when this device had reported it already. 404 `question_not_found` also for a question
    the viewer cannot see.
    """
    question_id = path_id(request)
    device = require_device(request)
    data, new = await abuse.report(app_state(request).ctx, event["id"], question_id, body, device=device)
    return data if new else json_response(data)


@api.delete("/api/events/{slug}/questions/{question_id}/reports", response=DismissedReports, moderator=True)
async def dismiss_reports(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """Dismiss the question's open reports"""
    return await abuse.dismiss_reports(app_state(request).ctx, event["id"], path_id(request))


@api.get("/api/events/{slug}/reports/mine", response=MyReports)
async def my_reports(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """The questions this device reported"""
    return await abuse.reported_by(app_state(request).ctx, event["id"], device_id(request))


routes = api.routes
