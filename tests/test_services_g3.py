"""Polls, ballots, reactions and the live opening, called in process on a real database (no server, no mocks).

What a user would check: the state in the database, what a page listening on the hub receives, and that every
answer has exactly the keys its model declares (the models are what /openapi.json publishes).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fixtures import HubPage

from smartrlp.core.errors import ApiError
from smartrlp.db.store import Database
from smartrlp.models.base import parse
from smartrlp.models.polls import BallotReceipt, CastBallot, CreatePoll, Poll, PollList, UpdatePoll
from smartrlp.models.reactions import React
from smartrlp.realtime import protocol
from smartrlp.realtime.hub import EPHEMERAL_SEQ, Broadcast, Hub
from smartrlp.services import ballots, events, polls, reactions, snapshot
from smartrlp.services.ballots import BallotWriter
from smartrlp.services.context import Context
from smartrlp.services.reactions import ReactionMeter
from smartrlp.services.results import ResultsPublisher

pytestmark = pytest.mark.anyio
SLUG = "umfragen"


class Live:
    """The parts of the running app these services need: a context, the ballot writer and the publishers."""

    def __init__(self, ctx: Context, event_id: int) -> None:
        self.ctx, self.event_id = ctx, event_id
        # A short interval: the tests wait for coalesced results, not for the production pace.
        self.results = ResultsPublisher(ctx.db, ctx.hub, interval=0.01)
        self.writer = BallotWriter(ctx.db, self.results)
        self.meter = ReactionMeter(ctx.hub)

    @contextmanager
    def listening(self, *pages: HubPage) -> Iterator[None]:
        with ExitStack() as stack:
            for page in pages:
                stack.enter_context(self.ctx.hub.subscribe(self.event_id, page))
            yield

    async def create(self, **fields: Any) -> dict[str, Any]:
        body = parse(CreatePoll, {"title": "Wie digital ist Ihre Verwaltung?", "kind": "single", **fields})
        return await polls.create_poll(self.ctx, self.results, self.event_id, body)

    async def update(self, poll_id: int, **fields: Any) -> dict[str, Any]:
        return await polls.update_poll(self.ctx, self.results, self.event_id, poll_id, parse(UpdatePoll, fields))

    async def vote(self, poll_id: int, device: str, **ballot: Any) -> dict[str, Any]:
        target = await ballots.ballot_target(self.ctx, SLUG, poll_id)
        return await ballots.cast(self.ctx, self.writer, target, parse(CastBallot, ballot), device=device)


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    db = Database(str(tmp_path / "t.db"))
    await db.open()
    try:
        async with db.transaction() as tx:
            event_id = await events.create_event(tx, {"slug": SLUG, "title": "Bürgerforum Digitales"}, [])
        live = Live(Context.offline(db), event_id)
        tasks = [asyncio.create_task(job()) for job in (live.writer.run, live.results.run, live.ctx.hub.run)]
        try:
            yield live
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await db.close()


async def eventually(condition: Any, what: str, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------- polls


async def test_a_draft_reaches_moderators_only_and_its_launch_everyone(live: Live) -> None:
    moderator, viewer = HubPage(staff=True), HubPage(device="d1")
    with live.listening(moderator, viewer):
        draft = await live.create(options=["Ja", "Nein", "Weiß nicht"])
        assert Poll.model_validate(draft).state == "draft"
        assert [m["poll"]["id"] for m in moderator.of_type(protocol.POLL)] == [draft["id"]]
        assert viewer.messages == []

        opened = await live.update(draft["id"], state="open", results_visibility="after_close")
        assert (opened["state"], opened["version"]) == ("open", draft["version"] + 1)
        launch = viewer.of_type(protocol.POLL)[-1]
        assert launch["poll"]["state"] == "open"
        assert "results" not in launch["poll"], "results hidden until the poll closes"
        # The same request again changes nothing and logs nothing.
        # (Counting logged changes only: coalesced results may arrive at any moment.)
        logged = len(moderator.of_type(protocol.POLL))
        assert (await live.update(draft["id"], state="open"))["version"] == opened["version"]
        assert len(moderator.of_type(protocol.POLL)) == logged

    listing = await polls.list_polls(live.ctx, live.event_id, staff=False, device="d1")
    PollList.model_validate(listing)
    assert listing["polls"][0]["my_ballot"] is None


async def test_poll_rules_name_the_field_or_the_conflict(live: Live) -> None:
    for fields, field in (
        ({"options": ["nur eine"]}, "options"),
        ({"kind": "rating", "options": ["a", "b"]}, "options"),
        ({"kind": "multiple", "options": ["a", "b"], "max_choices": 3}, "max_choices"),
        ({"kind": "words", "scale_max": 5}, "scale_max"),
    ):
        with pytest.raises(ApiError) as refused:
            await live.create(**fields)
        assert (refused.value.status, refused.value.details) == (422, {"field": field})
    poll = await live.create(kind="rating")
    assert poll["scale_max"] == 5
    await live.update(poll["id"], state="open")
    for fields, code in (({"title": "Anders"}, "poll_not_editable"), ({"state": "draft"}, "invalid_transition")):
        with pytest.raises(ApiError) as refused:
            await live.update(poll["id"], **fields)
        assert (refused.value.status, refused.value.code) == (409, code)
    with pytest.raises(ApiError) as refused:
        await polls.delete_poll(live.ctx, live.event_id, poll["id"])
    assert refused.value.code == "poll_open"


# ---------------------------------------------------------------- ballots


async def test_ballots_are_committed_replaced_and_counted_and_results_follow(live: Live) -> None:
    poll = await live.create(kind="multiple", options=["Bus", "Rad", "Auto"], max_choices=2)
    await live.update(poll["id"], state="open")
    bus, rad, auto = (o["id"] for o in poll["options"])
    studio = HubPage(studio=True)
    with live.listening(studio):
        receipts = await asyncio.gather(
            live.vote(poll["id"], "d1", options=[bus, rad]),
            live.vote(poll["id"], "d2", options=[rad]),
            live.vote(poll["id"], "d3", options=[auto]),
        )
        assert [BallotReceipt.model_validate(r).replaced for r in receipts] == [False, False, False]
        again = await live.vote(poll["id"], "d3", options=[bus, bus])  # changed its mind; a repeat counts once
        assert again == {"poll_id": poll["id"], "ballot": {"options": [bus]}, "replaced": True}

        counted = [{"id": bus, "count": 2, "percent": 66.7}, {"id": rad, "count": 2, "percent": 66.7}]
        final = {"total": 3, "options": [*counted, {"id": auto, "count": 0, "percent": 0.0}]}

        def latest_results() -> dict[str, Any] | None:
            sent = studio.of_type(protocol.POLL_RESULTS)
            return sent[-1]["results"] if sent else None

        # Coalesced: earlier counts may come first (or not at all); the final one comes.
        await eventually(lambda: latest_results() == final, "the final results")
    stored = await polls.get_poll(live.ctx, live.event_id, poll["id"], staff=False, device="d3")
    assert Poll.model_validate(stored).my_ballot is not None
    assert stored["my_ballot"] == {"options": [bus]}


async def test_a_ballot_must_fit_its_poll(live: Live) -> None:
    choice = await live.create(options=["Ja", "Nein"])
    words = await live.create(kind="words")
    with pytest.raises(ApiError) as refused:
        await live.vote(choice["id"], "d1", options=[choice["options"][0]["id"]])
    assert (refused.value.status, refused.value.code) == (409, "poll_not_open")
    for poll in (choice, words):
        await live.update(poll["id"], state="open")
    for poll, ballot, field in (
        (choice, {"value": 3}, "value"),
        (choice, {"options": [o["id"] for o in choice["options"]]}, "options"),  # single choice: one only
        (choice, {"options": [words["id"] + 999]}, "options"),
        (words, {"options": [1]}, "options"),
    ):
        with pytest.raises(ApiError) as refused:
            await live.vote(poll["id"], "d1", **ballot)
        assert (refused.value.status, refused.value.details) == (422, {"field": field}), ballot
    with pytest.raises(ApiError) as refused:
        await live.vote(words["id"], "d1", text="Scheiße")
    assert refused.value.code == "blocked_text"
    cast = await live.vote(words["id"], "d1", text="  Mehr   WLAN! ")
    assert cast["ballot"] == {"text": "Mehr WLAN", "words": ["Mehr WLAN"]}
    with pytest.raises(ApiError) as refused:
        await ballots.ballot_target(live.ctx, "gibt-es-nicht", words["id"])
    assert refused.value.code == "event_not_found"


# ---------------------------------------------------------------- one hub interface


async def test_the_single_process_hub_offers_the_cluster_operations(live: Live) -> None:
    hub, page = live.ctx.hub, HubPage(device="d1")
    assert await hub.claim("results:1", 0.25) is True
    hub.send_live("reactions", {"e": live.event_id, "c": {}})  # nobody else to tell: nothing happens
    assert not hub.may_reach(live.event_id)
    with live.listening(page):
        assert hub.may_reach(live.event_id)
        hub.publish_everywhere(Broadcast(live.event_id, EPHEMERAL_SEQ, protocol.AUDIENCE_PUBLIC, '{"type":"x"}'))
    assert page.messages == [{"type": "x"}]
    await asyncio.wait_for(Hub(queue_size=1).run(), timeout=1)  # nothing to run in one process


# ---------------------------------------------------------------- reactions and the live opening


async def test_reactions_count_once_per_device_and_reach_a_new_client(live: Live) -> None:
    applause = parse(React, {"kind": "applause"})
    assert await reactions.react(live.ctx, live.meter, live.event_id, applause, device="d1") == {"counted": True}
    assert await reactions.react(live.ctx, live.meter, live.event_id, applause, device="d1") == {"counted": False}
    assert await reactions.react(live.ctx, live.meter, live.event_id, applause, device="d2") == {"counted": True}
    with pytest.raises(ApiError) as refused:
        parse(React, {"kind": "buh"})
    assert refused.value.details == {"field": "kind"}
    opening = await snapshot.opening(live.ctx, live.meter, live.event_id, HubPage(device="d3"), None)
    levels = [json.loads(t) for t in opening.texts if json.loads(t)["type"] == protocol.REACTIONS]
    assert levels[-1]["counts"]["applause"] == 2


async def test_the_opening_is_a_snapshot_or_the_replay_each_client_may_see(live: Live) -> None:
    head = (await snapshot.opening(live.ctx, live.meter, live.event_id, HubPage(device="d1"), None)).seq
    draft = await live.create(title="Noch geheim", kind="words")
    shown = await live.create(title="Schon offen", kind="rating", results_visibility="never")
    await live.update(shown["id"], state="open")
    await live.vote(shown["id"], "d1", value=4)

    first = await snapshot.opening(live.ctx, live.meter, live.event_id, HubPage(device="d1"), None)
    message = json.loads(first.texts[0])
    assert (message["type"], message["role"], message["seq"]) == (protocol.SNAPSHOT, "viewer", first.seq)
    assert [p["id"] for p in message["polls"]] == [shown["id"]]
    Poll.model_validate(message["polls"][0])
    assert "results" not in message["polls"][0], "results never shown to viewers"
    assert message["polls"][0]["my_ballot"] == {"value": 4}

    staff = await snapshot.opening(live.ctx, live.meter, live.event_id, HubPage(staff=True), None)
    staff_polls = json.loads(staff.texts[0])["polls"]
    assert [p["id"] for p in staff_polls] == [draft["id"], shown["id"]]
    assert all(Poll.model_validate(p).results is not None for p in staff_polls)

    # A viewer resuming from before: the launch, not the drafts; then synced; no hidden results.
    viewer = await snapshot.opening(live.ctx, live.meter, live.event_id, HubPage(device="d1"), head)
    replayed = [json.loads(t) for t in viewer.texts]
    assert [(m["type"], m.get("poll", {}).get("state")) for m in replayed] == [
        (protocol.POLL, "open"),
        (protocol.SYNCED, None),
    ]
    assert replayed[-1]["seq"] == viewer.seq == first.seq
    # The studio view gets the same changes and then the current results it may read out.
    studio = await snapshot.opening(live.ctx, live.meter, live.event_id, HubPage(studio=True), head)
    last = json.loads(studio.texts[-1])
    assert (last["type"], last["poll_id"], last["results"]["total"]) == (protocol.POLL_RESULTS, shown["id"], 1)
