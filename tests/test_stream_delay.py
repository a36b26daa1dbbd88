"""Timed changes and stream delays over real HTTP and websockets: every change says when it happened (`at`), a
moderator sets how far each way of watching runs behind the studio, and a poll takes ballots for that long after
its close. The viewer page's waiting is tested in Chromium (tests/test_stream_delay_browser.py)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fixtures import Server, Viewer, bearer, create_event

_slugs = itertools.count(1)


@pytest.fixture
def slug(shared_server: Server) -> str:
    """An event of its own: its delays and polls must not reach other tests' events."""
    name = f"verzoegert-{next(_slugs)}"
    create_event(shared_server, name, "Bürgerdialog mit Verzögerung")
    return name


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    return viewer(headers=bearer(shared_moderator_token))


def put_delays(who: Viewer, slug: str, body: Any, expect: int = 200) -> dict[str, Any]:
    response = who.http.put(f"/api/events/{slug}/stream-delays", json=body)
    assert response.status_code == expect, response.text
    return response.json()


def now_ms() -> float:
    return time.time() * 1000


def test_delays_are_set_by_a_moderator_and_shown_with_the_event(
    moderator: Viewer, viewer: Callable[..., Viewer], slug: str
) -> None:
    fresh = viewer().http.get(f"/api/events/{slug}").json()
    assert fresh["stream_delays"] == {"youtube": 0, "facebook": 0, "tv": 0}
    watcher = moderator.ws(slug)
    watcher.recv()  # the snapshot
    before = now_ms()
    assert put_delays(moderator, slug, {"youtube": 20, "facebook": 12, "tv": 30}) == {
        "youtube": 20,
        "facebook": 12,
        "tv": 30,
    }
    change = watcher.recv()
    assert change["type"] == "event"
    assert change["event"]["stream_delays"] == {"youtube": 20, "facebook": 12, "tv": 30}
    assert before - 1 <= change["at"] <= now_ms() + 1
    assert viewer().http.get(f"/api/events/{slug}").json()["stream_delays"] == {"youtube": 20, "facebook": 12, "tv": 30}
    # The same delays again change nothing and tell nobody: the next message is the next real change.
    put_delays(moderator, slug, {"youtube": 20, "facebook": 12, "tv": 30})
    put_delays(moderator, slug, {"youtube": 0, "facebook": 12, "tv": 30})
    assert watcher.recv()["event"]["stream_delays"]["youtube"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"youtube": 121, "facebook": 0, "tv": 0}, "youtube"),
        ({"youtube": 0, "facebook": -1, "tv": 0}, "facebook"),
        ({"youtube": 0, "facebook": 0, "tv": "30"}, "tv"),
        ({"youtube": 0, "facebook": 0, "tv": 2.5}, "tv"),
        ({"youtube": 0, "facebook": 0}, "tv"),
        ({"youtube": 0, "facebook": 0, "tv": 0, "radio": 3}, "radio"),
    ],
)
def test_delays_out_of_range_are_refused_with_the_field(moderator: Viewer, slug: str, body: Any, field: str) -> None:
    error = put_delays(moderator, slug, body, expect=422)["error"]
    assert (error["code"], error["details"]["field"]) == ("invalid", field)


def test_only_moderators_set_delays(viewer: Callable[..., Viewer], slug: str) -> None:
    response = viewer().http.put(f"/api/events/{slug}/stream-delays", json={"youtube": 1, "facebook": 1, "tv": 1})
    assert response.status_code in {401, 403}
    missing = viewer().http.put("/api/events/gibt-es-nicht/stream-delays", json={"youtube": 1, "facebook": 1, "tv": 1})
    assert missing.status_code == 404


def _open_poll(moderator: Viewer, slug: str) -> dict[str, Any]:
    polls = f"/api/events/{slug}/polls"
    poll = moderator.http.post(
        polls, json={"title": "Kennen Sie den Radweg?", "kind": "single", "options": ["Ja", "Nein"]}
    )
    assert poll.status_code == 201, poll.text
    opened = moderator.http.patch(f"{polls}/{poll.json()['id']}", json={"state": "open"})
    assert opened.status_code == 200, opened.text
    return opened.json()


def _close(moderator: Viewer, slug: str, poll_id: int) -> float:
    """Close the poll; returns its close as the server stored it, in seconds since the epoch."""
    closed = moderator.http.patch(f"/api/events/{slug}/polls/{poll_id}", json={"state": "closed"})
    assert closed.status_code == 200, closed.text
    return datetime.fromisoformat(closed.json()["closed_at"].replace("Z", "+00:00")).timestamp()


def _ballot(device: Viewer, slug: str, poll: dict[str, Any]) -> Any:
    return device.http.post(
        f"/api/events/{slug}/polls/{poll['id']}/votes", json={"options": [poll["options"][0]["id"]]}
    )


def test_a_ballot_within_the_grace_time_after_the_close_counts_and_one_after_it_does_not(
    moderator: Viewer, viewer: Callable[..., Viewer], slug: str
) -> None:
    # The largest delay is the grace time: here 3 s (TV), whatever the others are.
    put_delays(moderator, slug, {"youtube": 1, "facebook": 2, "tv": 3})
    poll = _open_poll(moderator, slug)
    closed_at = _close(moderator, slug, poll["id"])
    in_time = _ballot(viewer(), slug, poll)
    assert time.time() < closed_at + 3, "the machine took the whole grace time: the test proves nothing"
    assert in_time.status_code == 201, in_time.text
    # After the grace time (measured from the close the server stored) the poll takes nothing more.
    time.sleep(max(0.0, closed_at + 3.2 - time.time()))
    late = _ballot(viewer(), slug, poll)
    assert (late.status_code, late.json()["error"]["code"]) == (409, "poll_not_open")
    results = moderator.http.get(f"/api/events/{slug}/polls/{poll['id']}").json()["results"]
    assert results["total"] == 1


def test_without_delays_a_closed_poll_takes_no_ballot(
    moderator: Viewer, viewer: Callable[..., Viewer], slug: str
) -> None:
    poll = _open_poll(moderator, slug)
    _close(moderator, slug, poll["id"])
    late = _ballot(viewer(), slug, poll)
    assert (late.status_code, late.json()["error"]["code"]) == (409, "poll_not_open")


def test_every_change_and_every_result_carries_the_server_time(
    moderator: Viewer, viewer: Callable[..., Viewer], slug: str
) -> None:
    watcher = viewer().ws(slug)
    watcher.recv()
    before = now_ms()
    poll = _open_poll(moderator, slug)
    opened = watcher.recv_until(lambda m: m["type"] == "poll" and m["poll"]["state"] == "open")[-1]
    assert before - 1 <= opened["at"] <= now_ms() + 1
    voted = now_ms()
    assert _ballot(viewer(), slug, poll).status_code == 201
    results = watcher.recv_until(lambda m: m["type"] == "poll_results" and m["results"]["total"] == 1)[-1]
    assert voted - 1 <= results["at"] <= now_ms() + 1
    # A resumed page gets the changes it missed with the time they happened, not the time of the replay.
    resumed = viewer().ws(slug, since=opened["seq"] - 1)
    replayed = resumed.recv_until(lambda m: m["type"] == "poll")[-1]
    assert replayed["at"] == opened["at"]


def test_the_grace_time_ends_exactly_the_largest_delay_after_the_close() -> None:
    from smartrlp.services.ballots import takes_ballots

    poll = {
        "state": "closed",
        "closed_at": "2026-12-04T18:00:00.000Z",
        "stream_delay_youtube": 20,
        "stream_delay_facebook": 12,
        "stream_delay_tv": 30,
    }
    assert takes_ballots(poll, "2026-12-04T18:00:29.999Z")
    assert not takes_ballots(poll, "2026-12-04T18:00:30.000Z")
    assert takes_ballots({**poll, "state": "open", "closed_at": None}, "2027-01-01T00:00:00.000Z")
    assert not takes_ballots({**poll, "state": "draft", "closed_at": None}, "2026-12-04T18:00:01.000Z")
    assert not takes_ballots(
        {**poll, "stream_delay_youtube": 0, "stream_delay_facebook": 0, "stream_delay_tv": 0},
        "2026-12-04T18:00:00.001Z",
    )
