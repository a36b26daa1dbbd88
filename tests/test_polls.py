"""Live polls and reactions over real HTTP and websockets: every kind, every rule, and a burst of ballots."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fixtures import SLUG, Server, Viewer, bearer

pytestmark = pytest.mark.both_stores

POLLS = f"/api/events/{SLUG}/polls"
_titles = itertools.count(1)


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    return viewer(headers=bearer(shared_moderator_token))


def create_poll(moderator: Viewer, kind: str = "single", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"title": f"Umfrage {next(_titles)}", "kind": kind, **fields}
    if kind in {"single", "multiple"} and "options" not in body:
        body["options"] = ["Online-Terminvergabe", "Digitale Bürgerdienste", "Glasfaser"]
    response = moderator.http.post(POLLS, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def patch(moderator: Viewer, poll_id: int, expect: int = 200, **fields: Any) -> dict[str, Any]:
    response = moderator.http.patch(f"{POLLS}/{poll_id}", json=fields)
    assert response.status_code == expect, response.text
    return response.json()


def open_poll(moderator: Viewer, kind: str = "single", **fields: Any) -> dict[str, Any]:
    poll = create_poll(moderator, kind, **fields)
    return patch(moderator, poll["id"], state="open")


def vote(device: Viewer, poll_id: int, expect: int = 201, **ballot: Any) -> dict[str, Any]:
    response = device.http.post(f"{POLLS}/{poll_id}/votes", json=ballot)
    assert response.status_code == expect, response.text
    return response.json()


def get_poll(client: Viewer, poll_id: int, expect: int = 200) -> dict[str, Any]:
    response = client.http.get(f"{POLLS}/{poll_id}")
    assert response.status_code == expect, response.text
    return response.json()


def error_code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]


# ---------------------------------------------------------------- preparing polls


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("single", {}),
        ("multiple", {"max_choices": 2}),
        ("rating", {"scale_max": 10}),
        ("rating", {}),
        ("words", {}),
    ],
)
def test_moderator_creates_a_draft_of_every_kind(moderator: Viewer, kind: str, fields: dict[str, Any]) -> None:
    poll = create_poll(moderator, kind, **fields)
    assert poll["state"] == "draft"
    assert poll["kind"] == kind
    assert poll["results_visibility"] == "live"
    assert isinstance(poll["id"], int)
    if kind in {"single", "multiple"}:
        assert [o["label"] for o in poll["options"]] == ["Online-Terminvergabe", "Digitale Bürgerdienste", "Glasfaser"]
        assert all(isinstance(o["id"], int) for o in poll["options"])
    else:
        assert poll["options"] == []
    if kind == "rating":
        assert poll["scale_max"] == fields.get("scale_max", 5)
    assert poll["results"]["total"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "single", "options": ["a", "b"]}, "title"),
        ({"title": "   ", "kind": "single", "options": ["a", "b"]}, "title"),
        ({"title": "x" * 201, "kind": "single", "options": ["a", "b"]}, "title"),
        ({"title": "T", "kind": "ranking"}, "kind"),
        ({"title": "T", "kind": "single", "options": ["nur eine"]}, "options"),
        ({"title": "T", "kind": "single", "options": ["a", "A"]}, "options"),
        ({"title": "T", "kind": "single", "options": [f"o{i}" for i in range(13)]}, "options"),
        ({"title": "T", "kind": "single", "options": ["a", ""]}, "options"),
        ({"title": "T", "kind": "single", "options": "a,b"}, "options"),
        ({"title": "T", "kind": "multiple", "options": ["a", "b", "c"], "max_choices": 4}, "max_choices"),
        ({"title": "T", "kind": "multiple", "options": ["a", "b", "c"], "max_choices": 1}, "max_choices"),
        ({"title": "T", "kind": "single", "options": ["a", "b"], "max_choices": 2}, "max_choices"),
        ({"title": "T", "kind": "rating", "scale_max": 7}, "scale_max"),
        ({"title": "T", "kind": "rating", "options": ["a", "b"]}, "options"),
        ({"title": "T", "kind": "words", "results_visibility": "sometimes"}, "results_visibility"),
        ({"title": "T", "kind": "words", "colour": "red"}, "colour"),
    ],
)
def test_invalid_polls_are_refused_with_the_field_named(moderator: Viewer, body: dict[str, Any], field: str) -> None:
    response = moderator.http.post(POLLS, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == field


def test_only_moderators_prepare_polls(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    device = viewer()
    response = device.http.post(POLLS, json={"title": "T", "kind": "words"})
    assert response.status_code == 401
    poll = create_poll(moderator)
    assert device.http.patch(f"{POLLS}/{poll['id']}", json={"state": "open"}).status_code == 401
    assert device.http.delete(f"{POLLS}/{poll['id']}").status_code == 401


def test_viewers_never_see_drafts(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    device = viewer()
    poll = create_poll(moderator)
    assert poll["id"] not in [p["id"] for p in device.http.get(POLLS).json()["polls"]]
    assert get_poll(device, poll["id"], expect=404)["error"]["code"] == "poll_not_found"
    assert poll["id"] in [p["id"] for p in moderator.http.get(POLLS).json()["polls"]]
    response = device.http.post(f"{POLLS}/{poll['id']}/votes", json={"options": [poll["options"][0]["id"]]})
    assert response.status_code == 409
    assert error_code(response) == "poll_not_open"


def test_drafts_can_be_edited_and_launched_polls_cannot(moderator: Viewer) -> None:
    poll = create_poll(moderator)
    edited = patch(moderator, poll["id"], title="Welche Projekte kennen Sie?", options=["MiniMOGLI", "Smart Parking"])
    assert edited["title"] == "Welche Projekte kennen Sie?"
    assert [o["label"] for o in edited["options"]] == ["MiniMOGLI", "Smart Parking"]
    patch(moderator, poll["id"], state="open")
    response = moderator.http.patch(f"{POLLS}/{poll['id']}", json={"title": "Anders"})
    assert response.status_code == 409
    assert error_code(response) == "poll_not_editable"
    # Visibility may change at any time.
    assert patch(moderator, poll["id"], results_visibility="never")["results_visibility"] == "never"


def test_polls_can_be_reordered(moderator: Viewer) -> None:
    created = [create_poll(moderator) for _ in range(3)]
    patch(moderator, created[2]["id"], position=1)
    order = [p["id"] for p in moderator.http.get(POLLS).json()["polls"]]
    ours = [i for i in order if i in {p["id"] for p in created}]
    assert ours == [created[2]["id"], created[0]["id"], created[1]["id"]]
    assert order[0] == created[2]["id"]
    response = moderator.http.patch(f"{POLLS}/{created[0]['id']}", json={"position": 0})
    assert response.status_code == 422


def test_state_transitions(moderator: Viewer, viewer: Callable[..., Viewer]) -> None:
    poll = open_poll(moderator)
    assert poll["state"] == "open"
    assert poll["opened_at"]
    response = moderator.http.patch(f"{POLLS}/{poll['id']}", json={"state": "draft"})
    assert response.status_code == 409
    assert error_code(response) == "invalid_transition"
    response = moderator.http.delete(f"{POLLS}/{poll['id']}")
    assert response.status_code == 409
    assert error_code(response) == "poll_open"
    device = viewer()
    vote(device, poll["id"], options=[poll["options"][0]["id"]])
    closed = patch(moderator, poll["id"], state="closed")
    assert closed["state"] == "closed"
    assert closed["closed_at"]
    assert closed["results"]["total"] == 1
    response = device.http.post(f"{POLLS}/{poll['id']}/votes", json={"options": [poll["options"][1]["id"]]})
    assert response.status_code == 409
    assert error_code(response) == "poll_not_open"
    # Re-opening keeps the ballots; resetting removes them.
    assert patch(moderator, poll["id"], state="open")["results"]["total"] == 1
    patch(moderator, poll["id"], state="closed")
    reset = patch(moderator, poll["id"], state="draft")
    assert reset["state"] == "draft"
    assert reset["results"]["total"] == 0
    assert reset["opened_at"] is None
    assert moderator.http.delete(f"{POLLS}/{poll['id']}").status_code == 204
    assert get_poll(moderator, poll["id"], expect=404)["error"]["code"] == "poll_not_found"


def test_repeated_patch_changes_nothing(moderator: Viewer) -> None:
    poll = open_poll(moderator)
    again = patch(moderator, poll["id"], state="open")
    assert again["version"] == poll["version"]


# ---------------------------------------------------------------- ballots


def test_single_choice_one_ballot_per_device_replaced(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    poll = open_poll(moderator)
    first, second = poll["options"][0]["id"], poll["options"][1]["id"]
    device = viewer()
    answer = vote(device, poll["id"], options=[first])
    assert answer == {"poll_id": poll["id"], "ballot": {"options": [first]}, "replaced": False}
    answer = vote(device, poll["id"], options=[second])
    assert answer["replaced"] is True
    vote(viewer(), poll["id"], options=[second])
    results = get_poll(moderator, poll["id"])["results"]
    assert results["total"] == 2
    counts = {o["id"]: (o["count"], o["percent"]) for o in results["options"]}
    assert counts[first] == (0, 0.0)
    assert counts[second] == (2, 100.0)
    assert get_poll(device, poll["id"])["my_ballot"] == {"options": [second]}


@pytest.mark.parametrize(
    "ballot",
    [
        {"options": []},
        {"options": [999999]},
        {"options": "1"},
        {"options": [True]},
        {"value": 3},
        {"text": "hallo"},
        {},
    ],
)
def test_invalid_single_choice_ballots_are_422(
    viewer: Callable[..., Viewer], moderator: Viewer, ballot: dict[str, Any]
) -> None:
    poll = open_poll(moderator)
    response = viewer().http.post(f"{POLLS}/{poll['id']}/votes", json=ballot)
    assert response.status_code == 422, response.text
    assert get_poll(moderator, poll["id"])["results"]["total"] == 0


def test_single_choice_takes_one_option_only(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    poll = open_poll(moderator)
    ids = [o["id"] for o in poll["options"]]
    response = viewer().http.post(f"{POLLS}/{poll['id']}/votes", json={"options": ids[:2]})
    assert response.status_code == 422


def test_an_option_of_another_poll_is_422(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    poll, other = open_poll(moderator), open_poll(moderator)
    response = viewer().http.post(f"{POLLS}/{poll['id']}/votes", json={"options": [other["options"][0]["id"]]})
    assert response.status_code == 422


def test_multiple_choice_respects_the_maximum(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    poll = open_poll(moderator, "multiple", options=["a", "b", "c", "d"], max_choices=2)
    ids = [o["id"] for o in poll["options"]]
    response = viewer().http.post(f"{POLLS}/{poll['id']}/votes", json={"options": ids[:3]})
    assert response.status_code == 422
    vote(viewer(), poll["id"], options=ids[:2])
    vote(viewer(), poll["id"], options=[ids[1], ids[1]])  # a repeated id counts once
    results = get_poll(moderator, poll["id"])["results"]
    assert results["total"] == 2
    counts = {o["id"]: (o["count"], o["percent"]) for o in results["options"]}
    assert counts[ids[0]] == (1, 50.0)
    assert counts[ids[1]] == (2, 100.0)
    assert counts[ids[3]] == (0, 0.0)


def test_rating_distribution_and_mean(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    poll = open_poll(moderator, "rating", scale_max=5)
    for value in (5, 4, 4, 1):
        vote(viewer(), poll["id"], value=value)
    results = get_poll(moderator, poll["id"])["results"]
    assert results["total"] == 4
    assert results["mean"] == 3.5
    assert [(v["value"], v["count"]) for v in results["values"]] == [(1, 1), (2, 0), (3, 0), (4, 2), (5, 1)]
    for bad in (0, 6, 2.5, "3", True, None):
        response = viewer().http.post(f"{POLLS}/{poll['id']}/votes", json={"value": bad})
        assert response.status_code == 422, bad


def test_empty_rating_has_no_mean(moderator: Viewer) -> None:
    poll = open_poll(moderator, "rating", scale_max=10)
    results = poll["results"]
    assert results["mean"] is None
    assert len(results["values"]) == 10


def test_word_cloud_normalises_counts_and_filters(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    poll = open_poll(moderator, "words")
    for text in ("  WLAN! ", "wlan", "Mehr   Glasfaser", "mehr glasfaser", "Bürgerbüro"):
        vote(viewer(), poll["id"], text=text)
    words = get_poll(moderator, poll["id"])["results"]["words"]
    # Grouped without regard to case, shown as spelt (a tie goes to the spelling given first).
    assert words[:2] == [{"text": "Mehr Glasfaser", "count": 2}, {"text": "WLAN", "count": 2}]
    assert {"text": "Bürgerbüro", "count": 1} in words
    device = viewer()
    for bad, code in (("", "invalid"), ("x" * 41, "invalid"), ("!!!", "invalid"), ("Scheiße", "blocked_text")):
        response = device.http.post(f"{POLLS}/{poll['id']}/votes", json={"text": bad})
        assert response.status_code == 422, bad
        assert error_code(response) == code
    assert get_poll(moderator, poll["id"])["results"]["total"] == 5


def test_voting_needs_the_device_cookie(shared_server: Server, moderator: Viewer) -> None:
    poll = open_poll(moderator, "words")
    with shared_server.client() as anonymous:
        response = anonymous.post(f"{POLLS}/{poll['id']}/votes", json={"text": "wlan"})
    assert response.status_code == 400
    assert error_code(response) == "no_device"


# ---------------------------------------------------------------- visibility


@pytest.mark.parametrize(
    ("visibility", "while_open", "after_close"),
    [("live", True, True), ("after_close", False, True), ("never", False, False)],
)
def test_results_visibility(
    viewer: Callable[..., Viewer], moderator: Viewer, visibility: str, while_open: bool, after_close: bool
) -> None:
    poll = open_poll(moderator, "rating", results_visibility=visibility)
    device = viewer()
    vote(device, poll["id"], value=4)
    assert ("results" in get_poll(device, poll["id"])) is while_open
    listed = next(p for p in device.http.get(POLLS).json()["polls"] if p["id"] == poll["id"])
    assert ("results" in listed) is while_open
    assert get_poll(moderator, poll["id"])["results"]["total"] == 1
    patch(moderator, poll["id"], state="closed")
    seen = get_poll(device, poll["id"])
    assert ("results" in seen) is after_close
    if after_close:
        assert seen["results"]["mean"] == 4
    assert seen["my_ballot"] == {"value": 4}


# ---------------------------------------------------------------- live


def test_viewer_sees_a_poll_open_live_but_never_a_draft(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    device = viewer()
    socket = device.ws()
    snapshot = socket.recv()
    assert snapshot["type"] == "snapshot"
    assert all(p["state"] != "draft" for p in snapshot["polls"])
    staff_socket = moderator.ws()
    assert staff_socket.recv()["type"] == "snapshot"
    poll = create_poll(moderator, "words")
    staff_socket.recv_until(lambda m: m["type"] == "poll" and m["poll"]["id"] == poll["id"])
    patch(moderator, poll["id"], state="open")
    messages = socket.recv_until(lambda m: m["type"] == "poll" and m["poll"]["id"] == poll["id"])
    assert not any(m["type"] == "poll" and m["poll"]["state"] == "draft" for m in messages)
    assert messages[-1]["poll"]["state"] == "open"
    assert isinstance(messages[-1]["seq"], int)


def test_snapshot_carries_polls_with_my_ballot(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    poll = open_poll(moderator, "rating")
    device = viewer()
    vote(device, poll["id"], value=2)
    snapshot = device.ws().recv()
    mine = next(p for p in snapshot["polls"] if p["id"] == poll["id"])
    assert mine["my_ballot"] == {"value": 2}
    assert mine["results"]["total"] == 1


def test_results_follow_ballots_live(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    poll = open_poll(moderator, "single", results_visibility="after_close")
    staff_socket = moderator.ws()
    staff_socket.recv()
    watcher = viewer()
    public_socket = watcher.ws()
    public_socket.recv()
    vote(viewer(), poll["id"], options=[poll["options"][2]["id"]])
    messages = staff_socket.recv_until(
        lambda m: m["type"] == "poll_results" and m["poll_id"] == poll["id"] and m["results"]["total"] == 1
    )
    assert "seq" not in messages[-1]
    # Results hidden until the end: the viewer hears of the closing, with the final results, but not before.
    patch(moderator, poll["id"], state="closed")
    seen = public_socket.recv_until(lambda m: m["type"] == "poll" and m["poll"]["id"] == poll["id"])
    assert not any(m["type"] == "poll_results" and m["poll_id"] == poll["id"] for m in seen)
    assert seen[-1]["poll"]["results"]["total"] == 1


def test_resume_sends_current_results(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    poll = open_poll(moderator, "words")
    device = viewer()
    socket = device.ws()
    head = socket.recv()["seq"]
    socket.close()
    vote(viewer(), poll["id"], text="Open Data")
    resumed = device.ws(since=head)
    messages = resumed.recv_until(
        lambda m: m["type"] == "poll_results" and m["poll_id"] == poll["id"] and m["results"]["total"] == 1
    )
    assert any(m["type"] == "synced" for m in messages)


def test_a_burst_of_ballots_is_kept_exactly_with_few_result_messages(shared_server: Server, moderator: Viewer) -> None:
    devices = 400
    poll = open_poll(moderator, "single", options=["Ja", "Nein", "Weiß nicht"])
    option_ids = [o["id"] for o in poll["options"]]
    socket = moderator.ws()
    socket.recv()

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=16)  # httpx slows down badly with big pools
        cookies = []
        async with httpx.AsyncClient(base_url=shared_server.url, limits=limits, timeout=30) as setup:
            for _ in range(devices):
                setup.cookies.clear()  # each first visit makes a new device
                cookies.append((await setup.get("/healthz")).cookies["srl_device"])
        statuses: list[int] = []

        async def one(index: int, client: httpx.AsyncClient, option: int) -> None:
            response = await client.post(
                f"{POLLS}/{poll['id']}/votes",
                json={"options": [option_ids[option]]},
                headers={"Cookie": f"srl_device={cookies[index]}"},
            )
            statuses.append(response.status_code)
            if index < twice:
                answers[index].append((option, response.json()["replaced"]))

        async with httpx.AsyncClient(base_url=shared_server.url, limits=limits, timeout=30) as client:
            # The first devices change their mind at once: both ballots are likely in one batch (group commit).
            await asyncio.gather(
                *(one(i, client, i % 3) for i in range(devices)), *(one(i, client, (i + 1) % 3) for i in range(twice))
            )
        return statuses

    twice = 40
    answers: list[list[tuple[int, bool]]] = [[] for _ in range(twice)]
    started = time.monotonic()
    statuses = asyncio.run(burst())
    assert statuses == [201] * (devices + twice)
    results = get_poll(moderator, poll["id"])["results"]
    assert results["total"] == devices
    # Of a device's two ballots exactly one replaced the other, and that one counts.
    final = [i % 3 for i in range(devices)]
    for index, pair in enumerate(answers):
        assert sorted(replaced for _, replaced in pair) == [False, True], pair
        final[index] = next(option for option, replaced in pair if replaced)
    expected = {option_ids[k]: final.count(k) for k in range(3)}
    assert {o["id"]: o["count"] for o in results["options"]} == expected
    messages = socket.recv_until(
        lambda m: m["type"] == "poll_results" and m["poll_id"] == poll["id"] and m["results"]["total"] == devices,
        timeout=20,
    )
    elapsed = time.monotonic() - started
    result_messages = [m for m in messages if m["type"] == "poll_results" and m["poll_id"] == poll["id"]]
    # Coalesced to at most four a second (plus one for the partial second) instead of one per ballot.
    assert len(result_messages) <= 4 * elapsed + 2, (len(result_messages), elapsed)
    assert len(result_messages) < devices / 4


# ---------------------------------------------------------------- reactions


def test_reactions_count_once_per_device_and_kind_in_the_window(viewer: Callable[..., Viewer]) -> None:
    device = viewer()
    path = f"/api/events/{SLUG}/reactions"
    assert device.http.post(path, json={"kind": "thinking"}).json() == {"counted": True}
    assert device.http.post(path, json={"kind": "thinking"}).json() == {"counted": False}
    response = device.http.post(path, json={"kind": "heart"})
    assert response.status_code == 202
    assert response.json() == {"counted": True}
    response = device.http.post(path, json={"kind": "boo"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "kind"


def test_reaction_levels_are_pushed_live(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    watcher = moderator.ws()
    watcher.recv()
    tappers = [viewer() for _ in range(3)]
    sockets = [t.ws() for t in tappers]
    for socket in sockets:
        socket.recv()
        for _ in range(5):  # tapping fast still counts once
            socket.send({"type": "react", "kind": "applause"})
    messages = watcher.recv_until(lambda m: m["type"] == "reactions" and m["counts"]["applause"] >= 3)
    assert messages[-1]["counts"]["applause"] == 3
    assert messages[-1]["window_seconds"] == 10
    sockets[0].send({"type": "react", "kind": "boo"})
    error = sockets[0].recv_until(lambda m: m["type"] == "error")[-1]
    assert error["code"] == "invalid"
