"""The question rules in process: a temporary database, the real migrations, the service functions called directly.

What a server adds (HTTP, cookies, the websocket) is covered by test_api.py and test_live.py; here the rules
themselves: who sees a question, when it is held, that a vote counts once, and what subscribers hear.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from fixtures import HubPage

from smartrlp.core.errors import ApiError
from smartrlp.models.base import parse
from smartrlp.models.questions import AskQuestion, QuestionQuery
from smartrlp.services import events, questions
from smartrlp.services.context import Context

pytestmark = pytest.mark.anyio


async def _event(ctx: Context, **flags: Any) -> Any:
    async with ctx.db.transaction() as tx:
        event_id = await events.create_event(tx, {"slug": "smart-rlp", "title": "Smart RLP"}, [])
        for name, value in flags.items():
            await tx.execute(f"UPDATE events SET {name} = :value WHERE id = :id", {"value": value, "id": event_id})
    return await events.event_by_slug(ctx.db, "smart-rlp")


def _ask(text: str, **fields: Any) -> AskQuestion:
    return parse(AskQuestion, {"text": text, **fields})


async def test_a_pending_question_reaches_moderators_and_its_asker_only(ctx: Context) -> None:
    event = await _event(ctx)
    viewer, asker, moderator = HubPage(device="other"), HubPage(device="asker"), HubPage(staff=True)
    with contextlib.ExitStack() as stack:
        for listener in (viewer, asker, moderator):
            stack.enter_context(ctx.hub.subscribe(event["id"], listener))
        asked = await questions.ask(ctx, event["id"], _ask("  Wo fährt der autonome Bus?  "), device="asker")
    assert (asked["status"], asked["text"], asked["mine"]) == ("pending", "Wo fährt der autonome Bus?", True)
    assert [m["type"] for m in moderator.messages] == ["question"]
    assert [m["question"]["id"] for m in asker.messages] == [asked["id"]]
    assert viewer.messages == []
    public = await questions.list_for(ctx, event, QuestionQuery(), staff=False, device="other")
    assert public["questions"] == []
    mine = await questions.list_for(ctx, event, QuestionQuery(), staff=False, device="asker")
    assert [q["id"] for q in mine["questions"]] == [asked["id"]]


async def test_post_moderation_shows_at_once_unless_the_filter_holds_it(ctx: Context) -> None:
    event = await _event(ctx, moderation_mode="post")
    shown = await questions.ask(ctx, event["id"], _ask("Kommt MiniMOGLI an alle Schulen?"), device="a")
    held = await questions.ask(ctx, event["id"], _ask("Du Arschloch, wann kommt Glasfaser?"), device="b")
    assert (shown["status"], held["status"]) == ("approved", "pending")


async def test_a_closed_event_takes_no_questions(ctx: Context) -> None:
    event = await _event(ctx, questions_open=0)
    with pytest.raises(ApiError) as refused:
        await questions.ask(ctx, event["id"], _ask("Noch eine Frage?"), device="a")
    assert (refused.value.status, refused.value.code) == (409, "questions_closed")


async def test_a_device_votes_once_and_everyone_hears_the_count(ctx: Context) -> None:
    event = await _event(ctx, moderation_mode="post")
    viewer = HubPage(device="someone")
    with ctx.hub.subscribe(event["id"], viewer):
        asked = await questions.ask(ctx, event["id"], _ask("Wie sicher sind die Sensordaten?"), device="a")
        first = await questions.upvote(ctx, event["id"], asked["id"], device="b")
        again = await questions.upvote(ctx, event["id"], asked["id"], device="b")
    assert (first["votes"], first["counted"], again["votes"], again["counted"]) == (1, True, 1, False)
    assert [m["votes"] for m in viewer.messages if m["type"] == "votes"] == [1]


def test_the_body_is_refused_before_any_rule_runs() -> None:
    with pytest.raises(ApiError) as refused:
        parse(AskQuestion, {"text": "x" * 301})
    assert (refused.value.status, refused.value.details) == (422, {"field": "text"})
    with pytest.raises(ApiError) as unknown:
        parse(AskQuestion, {"text": "Hallo", "bogus": 1})
    assert unknown.value.details == {"field": "bogus"}
