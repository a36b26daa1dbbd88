"""Shared openings: a viewer's snapshot built from its event's shared public part is, byte for byte, the one built
for that viewer alone; the public part is read once per event, seq and results; replays come from one shared load.

In process, on a real database with the real migrations and service functions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from smartrlp.db.store import Database
from smartrlp.models.base import parse
from smartrlp.models.moderation import ModerateQuestion
from smartrlp.models.polls import CastBallot, CreatePoll, UpdatePoll
from smartrlp.models.questions import AskQuestion
from smartrlp.realtime.hub import text_frame
from smartrlp.services import accounts, ballots, events, moderation, polls, questions, snapshot, users
from smartrlp.services.ballots import BallotWriter
from smartrlp.services.context import Context
from smartrlp.services.reactions import ReactionMeter
from smartrlp.services.results import ResultsPublisher
from smartrlp.services.snapshot import SharedOpenings

pytestmark = pytest.mark.anyio
SLUG = "geteilt"
APPROVE = parse(ModerateQuestion, {"status": "approved"})


class Viewer:
    def __init__(self, device: str | None) -> None:
        self.device, self.is_staff, self.is_studio = device, False, False


class App:
    def __init__(self, ctx: Context, event_id: int) -> None:
        self.ctx, self.event_id = ctx, event_id
        self.results = ResultsPublisher(ctx.db, ctx.hub, interval=0.01)
        self.writer = BallotWriter(ctx.db, self.results)
        self.meter = ReactionMeter(ctx.hub)
        self.shared = SharedOpenings()
        self.moderator: accounts.Moderator | None = None

    async def ask(self, text: str, device: str, approve: bool = True) -> int:
        question = await questions.ask(self.ctx, self.event_id, parse(AskQuestion, {"text": text}), device=device)
        if approve:
            await moderation.update_question(self.ctx, self.event_id, question["id"], APPROVE, moderator=self.moderator)
        return int(question["id"])

    async def poll(self, **fields: Any) -> dict[str, Any]:
        body = parse(CreatePoll, {"title": "Wie finden Sie das?", **fields})
        poll = await polls.create_poll(self.ctx, self.results, self.event_id, body)
        return await polls.update_poll(
            self.ctx, self.results, self.event_id, poll["id"], parse(UpdatePoll, {"state": "open"})
        )

    async def vote(self, poll_id: int, device: str, **ballot: Any) -> None:
        target = await ballots.ballot_target(self.ctx, SLUG, poll_id)
        await ballots.cast(self.ctx, self.writer, target, parse(CastBallot, ballot), device=device)

    async def alone(self, device: str | None) -> list[str]:
        return (await snapshot.snapshot(self.ctx, self.meter, self.event_id, Viewer(device))).texts

    async def shared_opening(self, device: str | None, since: int | None = None) -> snapshot.Opening:
        return await snapshot.opening(
            self.ctx, self.meter, self.event_id, Viewer(device), since, shared=self.shared, results=self.results
        )


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    db = Database(str(tmp_path / "t.db"))
    await db.open()
    try:
        async with db.transaction() as tx:
            event_id = await events.create_event(tx, {"slug": SLUG, "title": "Geteilte Schnappschüsse"}, [])
        app = App(Context.offline(db), event_id)
        app.moderator = await users.create_account(app.ctx, "alice", "ein langes Passwort")
        tasks = [asyncio.create_task(job()) for job in (app.writer.run, app.results.run)]
        try:
            yield app
        finally:
            for task in tasks:
                task.cancel()
    finally:
        await db.close()


async def test_a_shared_snapshot_is_the_one_built_for_the_viewer_alone(app: App) -> None:
    public = [await app.ask(f"Öffentliche Frage {n} mit „Anführungszeichen“", f"d{n}") for n in range(12)]
    own_pending = await app.ask("Meine wartende Frage", "me", approve=False)
    own_public = await app.ask("Meine freigegebene Frage", "me")
    await app.ask("Die wartende Frage von jemand anderem", "other", approve=False)
    for question_id in (public[3], public[7], own_public):
        await questions.upvote(app.ctx, app.event_id, question_id, device="me")
    single = await app.poll(kind="single", options=["Ja", "Nein", "Vielleicht"], results_visibility="live")
    words = await app.poll(kind="words", results_visibility="after_close")
    rating = await app.poll(kind="rating", scale_max=5, results_visibility="live")
    await app.vote(single["id"], "me", options=[single["options"][1]["id"]])
    await app.vote(words["id"], "me", text="Radwege")
    await app.vote(single["id"], "d1", options=[single["options"][0]["id"]])
    for device in ("me", "d1", "new-device", None):
        expected = await app.alone(device)
        got = (await app.shared_opening(device)).texts
        assert got == expected, device
    mine = json.loads((await app.shared_opening("me")).texts[0])
    assert {q["id"] for q in mine["questions"] if q["mine"]} == {own_pending, own_public}
    assert [p["my_ballot"] for p in mine["polls"]] == [
        {"options": [single["options"][1]["id"]]},
        {"text": "Radwege", "words": ["Radwege"]},
        None,
    ]
    assert rating["id"] == mine["polls"][2]["id"]


async def test_the_public_part_is_built_once_per_state_for_a_crowd(app: App) -> None:
    question = await app.ask("Eine Frage für alle", "asker")
    poll = await app.poll(kind="single", options=["Ja", "Nein"], results_visibility="live")
    openings = await asyncio.gather(*(app.shared_opening(f"crowd{n}") for n in range(300)))
    assert app.shared.public_builds == 1
    assert len({o.texts[0] for o in openings}) == 1  # new devices: all the same text
    # ... and the same ready frame, made once: the websocket frame of exactly that text.
    assert len({id(o.first_frame) for o in openings}) == 1
    assert openings[0].first_frame == text_frame(openings[0].texts[0])
    # A change moves the seq: the next viewer gets a new part with it.
    await questions.upvote(app.ctx, app.event_id, question, device="crowd1")
    after_vote = json.loads((await app.shared_opening("late")).texts[0])
    assert app.shared.public_builds == 2
    assert after_vote["questions"][0]["votes"] == 1
    # A ballot changes results without a seq: the part is rebuilt with them.
    await app.vote(poll["id"], "crowd2", options=[poll["options"][0]["id"]])
    after_ballot = json.loads((await app.shared_opening("later")).texts[0])
    assert after_ballot["polls"][0]["results"]["total"] == 1
    assert after_ballot["seq"] == after_vote["seq"]
    assert (await app.shared_opening("later")).texts == await app.alone("later")


async def test_resumes_share_one_read_of_the_log_and_replay_what_each_may_see(app: App) -> None:
    await app.ask("Vor dem Neustart", "early")
    start = json.loads((await app.alone("early"))[0])["seq"]
    await app.ask("Danach, öffentlich", "someone")
    await app.ask("Danach, wartend, von early", "early", approve=False)
    await app.ask("Danach, wartend, von jemand anderem", "someone", approve=False)
    resumes = await asyncio.gather(
        *(app.shared_opening(d, since=start) for d in ["early", *[f"v{n}" for n in range(99)]])
    )
    assert app.shared.replay_loads == 1
    for device, resumed in zip(["early", "v0"], resumes, strict=False):
        alone = await snapshot.replay(app.ctx, app.meter, app.event_id, Viewer(device), start)
        assert (resumed.seq, resumed.texts) == (alone.seq, alone.texts)
    texts = [json.loads(t) for t in resumes[0].texts]
    assert "Danach, wartend, von early" in json.dumps(texts, ensure_ascii=False)
    assert "von jemand anderem" not in json.dumps([json.loads(t) for t in resumes[1].texts], ensure_ascii=False)
    # At the head there is nothing to read at all.
    head = resumes[0].seq
    loads = app.shared.replay_loads
    at_head = await app.shared_opening("v1", since=head)
    assert [json.loads(t)["type"] for t in at_head.texts] == ["synced"]
    assert app.shared.replay_loads == loads
