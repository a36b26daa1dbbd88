"""Moderation and abuse services, called in process: a real database with its migrations, a hub with listeners.

What a test checks is what a person would: the state stored, the answer given, and which pages hear of it
(a moderator's page, a viewer's, the asking device's). Answers are also held against their documented models.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fixtures import HubPage

from smartrlp.core.errors import ApiError
from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.db.store import Database
from smartrlp.models.abuse import AddWord, BlockChange, DeviceHistory, ModerationNotes, Reported, ReportQuestion
from smartrlp.models.base import parse
from smartrlp.models.moderation import ModerateQuestion, Undone
from smartrlp.models.questions import AskQuestion, Question
from smartrlp.realtime import protocol
from smartrlp.services import abuse, accounts, events, moderation, questions, undo, users
from smartrlp.services.context import Context

TROLL, CITIZEN = "device-troll", "device-citizen"


@dataclass
class Stage:
    ctx: Context
    event_id: int
    alice: accounts.Moderator
    bob: accounts.Moderator
    staff: HubPage
    public: HubPage
    troll: HubPage

    async def ask(self, text: str, device: str = TROLL) -> dict[str, Any]:
        return await questions.ask(self.ctx, self.event_id, AskQuestion(text=text), device=device)

    async def moderate(self, question_id: int, by: accounts.Moderator | None = None, **change: Any) -> dict[str, Any]:
        body = parse(ModerateQuestion, change)
        return await moderation.update_question(self.ctx, self.event_id, question_id, body, moderator=by or self.alice)

    async def stored(self, question_id: int) -> dict[str, Any]:
        row = await self.ctx.db.fetchone("SELECT * FROM questions WHERE id = :id", {"id": question_id})
        assert row is not None
        return dict(row)

    async def seq(self) -> int:
        row = await self.ctx.db.fetchone("SELECT last_seq FROM events WHERE id = :id", {"id": self.event_id})
        assert row is not None
        return int(row["last_seq"])


@pytest.fixture
async def stage(tmp_path: Path) -> AsyncIterator[Stage]:
    db = Database(str(tmp_path / "t.db"))
    await db.open()
    ctx = Context.offline(db)
    async with db.transaction() as tx:
        event_id = await events.create_event(tx, {"slug": "bauausschuss", "title": "Bauausschuss"}, [])
        # Post-moderation: a question is public at once, unless the filter or a block holds it.
        await tx.execute("UPDATE events SET moderation_mode = 'post' WHERE id = :id", {"id": event_id})
    alice = await users.create_account(ctx, "alice", "ein langes Passwort")
    bob = await users.create_account(ctx, "bob", "ein langes Passwort")
    staff, public, troll = HubPage(staff=True), HubPage(device=CITIZEN), HubPage(device=TROLL)
    with ExitStack() as pages:
        for page in (staff, public, troll):
            pages.enter_context(ctx.hub.subscribe(event_id, page))
        try:
            yield Stage(ctx, event_id, alice, bob, staff, public, troll)
        finally:
            await db.close()


async def refused(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await call
    return caught.value


# ---------------------------------------------------------------- moderation


@pytest.mark.anyio
async def test_putting_a_waiting_question_on_air_approves_it_and_tells_every_page(stage: Stage) -> None:
    async with stage.ctx.db.transaction() as tx:
        await tx.execute("UPDATE events SET moderation_mode = 'approve' WHERE id = :id", {"id": stage.event_id})
    asked = await stage.ask("Wann wird die Brücke saniert?", device=CITIZEN)
    assert asked["status"] == "pending"
    assert not stage.troll.of_type(protocol.QUESTION), "another device must not hear of a pending question"

    on_air = await stage.moderate(asked["id"], highlighted=True, version=1)
    Question.model_validate(on_air)
    assert (on_air["status"], on_air["highlighted"], on_air["version"]) == ("approved", True, 2)
    for page in (stage.staff, stage.public, stage.troll):
        assert page.of_type(protocol.ON_AIR)[-1]["question_id"] == asked["id"]
        assert page.of_type(protocol.QUESTION)[-1]["question"]["status"] == "approved"

    # Answering takes it off the air, and says when.
    answered = await stage.moderate(asked["id"], status="answered", answer="  Im Frühjahr.  ")
    assert (answered["highlighted"], answered["answer"]) == (False, "Im Frühjahr.")
    assert (await stage.stored(asked["id"]))["answered_at"] is not None
    assert stage.public.of_type(protocol.ON_AIR)[-1]["question_id"] is None


@pytest.mark.anyio
async def test_a_stale_version_is_refused_with_the_current_question_and_a_repeat_changes_nothing(
    stage: Stage,
) -> None:
    asked = await stage.ask("Gibt es mehr Parkplätze?")
    await stage.moderate(asked["id"], status="rejected", version=1)
    error = await refused(stage.moderate(asked["id"], status="approved", version=1, by=stage.bob))
    assert (error.status, error.code) == (409, "version_conflict")
    assert error.details["question"]["status"] == "rejected"
    assert error.details["question"]["version"] == 2
    assert (await stage.stored(asked["id"]))["status"] == "rejected"

    seq = await stage.seq()
    again = await stage.moderate(asked["id"], status="rejected", text="Gibt es mehr Parkplätze?")
    assert again["version"] == 2
    assert await stage.seq() == seq, "a change to nothing must not be logged or broadcast"


@pytest.mark.anyio
async def test_undo_restores_ones_own_last_action_unless_someone_changed_the_question_since(stage: Stage) -> None:
    asked = await stage.ask("Wie hoch wird der Neubau?")
    error = await refused(undo.undo_last(stage.ctx, stage.event_id, moderator=stage.alice))
    assert (error.status, error.code) == (404, "nothing_to_undo")

    await stage.moderate(asked["id"], text="Wie hoch wird das neue Rathaus?", highlighted=True)
    await stage.moderate(asked["id"], status="answered", by=stage.bob)
    error = await refused(undo.undo_last(stage.ctx, stage.event_id, moderator=stage.alice))
    assert (error.status, error.code) == (409, "changed_since")

    await undo.undo_last(stage.ctx, stage.event_id, moderator=stage.bob)
    undone = await undo.undo_last(stage.ctx, stage.event_id, moderator=stage.alice)
    Undone.model_validate(undone)
    question = undone["question"]
    assert (question["text"], question["status"], question["highlighted"]) == (asked["text"], "approved", False)
    assert question["version"] == 5, "an undo is a change of its own"
    assert stage.public.of_type(protocol.ON_AIR)[-1]["question_id"] is None


# ---------------------------------------------------------------- abuse


@pytest.mark.anyio
async def test_an_event_word_holds_a_question_which_then_cannot_go_on_air_in_one_click(stage: Stage) -> None:
    added, new = await abuse.add_word(stage.ctx, stage.event_id, parse(AddWord, {"word": " Quatschkopf "}))
    assert (added, new) == ({"word": "quatschkopf", "words": ["quatschkopf"]}, True)
    assert stage.staff.of_type(protocol.MODERATION_NOTES)[-1]["words"] == ["quatschkopf"]
    assert (await abuse.add_word(stage.ctx, stage.event_id, AddWord(word="quatschkopf")))[1] is False

    held = await stage.ask("Der Bürgermeister ist ein QUATSCHKOPF")
    assert held["status"] == "pending"
    error = await refused(stage.moderate(held["id"], highlighted=True))
    assert (error.status, error.code) == (409, "held_question")
    assert (await stage.stored(held["id"]))["status"] == "pending"

    notes = await abuse.notes(stage.ctx, stage.event_id)
    ModerationNotes.model_validate(notes)
    assert [(n["question_id"], n["held_words"]) for n in notes["notes"]] == [(held["id"], ["quatschkopf"])]
    # What moderators learn about the question reaches no viewer, not even the asking device.
    for page in (stage.public, stage.troll):
        assert not page.of_type(protocol.MODERATION_NOTES)


@pytest.mark.anyio
async def test_an_event_takes_only_so_many_words_of_its_own(stage: Stage) -> None:
    limit = FIELD_LIMITS["event_words_max"]
    async with stage.ctx.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO event_words (event_id, word, created_at) VALUES (:event_id, :word, '2026-01-01T00:00:00Z')",
            [{"event_id": stage.event_id, "word": f"wort{n}"} for n in range(limit)],
        )
    error = await refused(abuse.add_word(stage.ctx, stage.event_id, AddWord(word="einswort")))
    assert (error.status, error.code) == (409, "too_many_words")
    await abuse.remove_word(stage.ctx, stage.event_id, "wort0")
    assert (await abuse.add_word(stage.ctx, stage.event_id, AddWord(word="einswort")))[1] is True


@pytest.mark.anyio
async def test_a_blocked_device_is_held_and_not_counted_and_its_history_says_so(stage: Stage) -> None:
    first = await stage.ask("Erste Frage des Trolls")
    honest = await stage.ask("Eine ehrliche Frage", device=CITIZEN)
    blocked = await abuse.set_block(stage.ctx, stage.event_id, first["id"], blocked=True, moderator=stage.alice)
    BlockChange.model_validate(blocked)
    assert blocked["question_ids"] == [first["id"]]
    seq = await stage.seq()
    again = await abuse.set_block(stage.ctx, stage.event_id, first["id"], blocked=True, moderator=stage.bob)
    assert again == blocked
    assert await stage.seq() == seq, "blocking a blocked device tells nobody anything"

    later = await stage.ask("Jetzt gesperrt")
    assert later["status"] == "pending"
    vote = await questions.upvote(stage.ctx, stage.event_id, honest["id"], device=TROLL)
    assert (vote["counted"], vote["votes"]) == (True, 1), "the troll is answered as if its vote counted"
    assert (await stage.stored(honest["id"]))["votes"] == 0

    history = await abuse.device_history(stage.ctx, stage.event_id, later["id"])
    DeviceHistory.model_validate(history)
    assert history["blocked"] is True
    assert [(q["id"], q["held_device"]) for q in history["questions"]] == [(first["id"], False), (later["id"], True)]
    assert history["votes"] == {"cast": 1, "not_counted": 1}
    assert TROLL not in json.dumps([history, blocked, *stage.staff.messages])

    unblocked = await abuse.set_block(stage.ctx, stage.event_id, later["id"], blocked=False, moderator=stage.alice)
    assert (unblocked["blocked"], unblocked["blocks"]) == (False, [])
    assert (await stage.ask("Wieder frei"))["status"] == "approved"


@pytest.mark.anyio
async def test_reports_count_once_per_device_and_only_for_what_a_viewer_can_see(stage: Stage) -> None:
    target = await stage.ask("Eine fragwürdige Frage")
    await abuse.add_word(stage.ctx, stage.event_id, AddWord(word="geheimwort"))
    hidden = await stage.ask("Mit geheimwort")

    def reason(value: str | None) -> ReportQuestion:
        return parse(ReportQuestion, {} if value is None else {"reason": value})

    answer, new = await abuse.report(stage.ctx, stage.event_id, target["id"], reason("spam"), device=CITIZEN)
    Reported.model_validate(answer)
    assert new is True
    _, new = await abuse.report(stage.ctx, stage.event_id, target["id"], reason("offensive"), device=CITIZEN)
    assert new is False, "a second report from the same device is not counted"
    await abuse.report(stage.ctx, stage.event_id, target["id"], reason(None), device="device-other")
    error = await refused(abuse.report(stage.ctx, stage.event_id, hidden["id"], reason(None), device=CITIZEN))
    assert (error.status, error.code) == (404, "question_not_found")

    note = {n["question_id"]: n for n in (await abuse.notes(stage.ctx, stage.event_id))["notes"]}[target["id"]]
    assert (note["reports"], note["report_reasons"]) == (2, {"spam": 1, "other": 1})
    assert await abuse.reported_by(stage.ctx, stage.event_id, CITIZEN) == {"question_ids": [target["id"]]}
    assert await abuse.reported_by(stage.ctx, stage.event_id, None) == {"question_ids": []}

    dismissed = await abuse.dismiss_reports(stage.ctx, stage.event_id, target["id"])
    assert dismissed == {"question_id": target["id"], "dismissed": 2}
    remaining = {n["question_id"] for n in (await abuse.notes(stage.ctx, stage.event_id))["notes"]}
    assert target["id"] not in remaining
    assert not stage.public.of_type(protocol.MODERATION_NOTES)
