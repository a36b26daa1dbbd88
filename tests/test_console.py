"""The moderator console's rules over real HTTP and websockets: undo with several moderators, bulk actions, the
activity list, and on air meaning on screen (issue 14)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fixtures import Server, Viewer, add_moderator, bearer, create_event, create_token

_events = itertools.count(1)


class Desk:
    """One event of its own on the shared server, with moderators made for it and a way to ask questions."""

    def __init__(self, server: Server, viewer: Callable[..., Viewer]) -> None:
        self.server = server
        self.viewer = viewer
        self.slug = f"console-{next(_events)}"
        create_event(server, self.slug, "Bürgerdialog am Pult")
        self.api = f"/api/events/{self.slug}"

    def moderator(self, name: str) -> Viewer:
        unique = f"{name}-{self.slug}"
        add_moderator(self.server, unique, "ein langes Passwort")
        return self.viewer(headers=bearer(create_token(self.server, unique)))

    def ask(self, text: str) -> dict[str, Any]:
        asker = self.viewer()
        response = asker.http.post(f"{self.api}/questions", json={"text": text})
        assert response.status_code == 201, response.text
        return response.json()

    def moderate(self, who: Viewer, question: dict[str, Any], **changes: Any) -> dict[str, Any]:
        response = who.http.patch(f"{self.api}/questions/{question['id']}", json=changes)
        assert response.status_code == 200, response.text
        return response.json()

    def undo(self, who: Viewer) -> httpx.Response:
        return who.http.post(f"{self.api}/moderation/undo")

    def statuses(self, who: Viewer) -> dict[int, str]:
        return {q["id"]: q["status"] for q in who.http.get(f"{self.api}/questions").json()["questions"]}

    def event(self, who: Viewer) -> dict[str, Any]:
        return who.http.get(self.api).json()


@pytest.fixture
def desk(shared_server: Server, viewer: Callable[..., Viewer]) -> Desk:
    return Desk(shared_server, viewer)


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()["error"]


# ---------------------------------------------------------------- undo with two moderators


def test_a_conflict_on_one_action_names_it_and_does_not_block_undoing_the_earlier_one(desk: Desk) -> None:
    """The issue's case: B approves X, rejects Y; A edits Y; B presses undo (twice)."""
    a, b = desk.moderator("a"), desk.moderator("b")
    x, y = desk.ask("Wann kommt das Glasfasernetz?"), desk.ask("Warum ist das Bürgerbüro montags zu?")
    desk.moderate(b, x, status="approved")
    desk.moderate(b, y, status="rejected")
    desk.moderate(a, y, text="Warum ist das Bürgerbüro montags geschlossen?")

    # B's most recent action that can still be undone is the approval of X; the rejection of Y is named.
    undone = desk.undo(b)
    assert undone.status_code == 200, undone.text
    body = undone.json()
    assert [q["id"] for q in body["questions"]] == [x["id"]]
    assert body["question"]["status"] == "pending"
    assert [(q["id"], q["text"]) for q in body["skipped"]] == [
        (y["id"], "Warum ist das Bürgerbüro montags geschlossen?")
    ]
    assert desk.statuses(b) == {x["id"]: "pending", y["id"]: "rejected"}

    # Nothing of B's is left that can be undone: the conflict names Y, it does not pretend there is nothing.
    error = error_of(desk.undo(b), 409)
    assert error["code"] == "changed_since"
    assert "montags geschlossen" in error["message"]
    assert [q["id"] for q in error["details"]["skipped"]] == [y["id"]]

    # Once A takes back the edit, B's rejection of Y can be undone after all.
    assert desk.undo(a).status_code == 200
    again = desk.undo(b)
    assert again.status_code == 200, again.text
    assert (again.json()["question"]["id"], again.json()["question"]["status"]) == (y["id"], "pending")
    assert error_of(desk.undo(b), 404)["code"] == "nothing_to_undo"


# ---------------------------------------------------------------- bulk actions


def test_bulk_approve_is_one_action_and_one_undo(desk: Desk) -> None:
    jana = desk.moderator("jana")
    asked = [desk.ask(f"Frage {n} zum Haushalt der Verbandsgemeinde") for n in range(4)]
    desk.moderate(jana, asked[3], status="approved")
    staff = jana.ws(slug=desk.slug)
    staff.recv()  # snapshot
    response = jana.http.post(
        f"{desk.api}/moderation/bulk", json={"question_ids": [q["id"] for q in asked], "status": "approved"}
    )
    assert response.status_code == 200, response.text
    done = response.json()
    # The one already approved is left out: it is not part of the action, and undo leaves it approved.
    assert sorted(q["id"] for q in done["questions"]) == sorted(q["id"] for q in asked[:3])
    assert set(desk.statuses(jana).values()) == {"approved"}

    actions = jana.http.get(f"{desk.api}/moderation/actions").json()["actions"]
    assert actions[0]["id"] == done["action_id"]
    assert (actions[0]["kind"], actions[0]["moderator"], len(actions[0]["questions"])) == (
        "approved",
        f"jana-{desk.slug}",
        3,
    )
    staff.with_activity = True
    live = staff.recv_until(lambda m: m["type"] == "moderation_action")[-1]
    assert live["action"]["id"] == done["action_id"]

    undone = desk.undo(jana)
    assert undone.status_code == 200, undone.text
    assert sorted(q["id"] for q in undone.json()["questions"]) == sorted(q["id"] for q in asked[:3])
    assert desk.statuses(jana) == {**{q["id"]: "pending" for q in asked[:3]}, asked[3]["id"]: "approved"}
    assert staff.recv_until(lambda m: m["type"] == "moderation_action")[-1]["action"]["undone_at"]


def test_bulk_refuses_bad_input_with_clear_errors_and_changes_nothing(desk: Desk) -> None:
    jana = desk.moderator("jana")
    asked = desk.ask("Gibt es bald einen Bürgerbus?")
    url = f"{desk.api}/moderation/bulk"
    assert error_of(jana.http.post(url, json={"question_ids": [], "status": "approved"}), 422)["code"] == "invalid"
    assert error_of(jana.http.post(url, json={"question_ids": [asked["id"]], "status": "answered"}), 422)
    missing = jana.http.post(url, json={"question_ids": [asked["id"], 987654321], "status": "rejected"})
    assert error_of(missing, 404)["code"] == "question_not_found"
    assert desk.statuses(jana) == {asked["id"]: "pending"}
    assert error_of(desk.viewer().http.post(url, json={"question_ids": [asked["id"]], "status": "approved"}), 401)


# ---------------------------------------------------------------- the activity list


def test_the_activity_list_says_who_did_what_and_any_moderator_can_undo_a_row(desk: Desk) -> None:
    a, b = desk.moderator("a"), desk.moderator("b")
    question = desk.ask("Wird der Spielplatz am Rhein erneuert?")
    desk.moderate(a, question, highlighted=True)
    desk.moderate(b, question, answer="Ja, im Frühjahr.")
    actions = b.http.get(f"{desk.api}/moderation/actions").json()["actions"]
    assert [(e["kind"], e["moderator"]) for e in actions] == [
        ("answer", f"b-{desk.slug}"),
        ("on_air", f"a-{desk.slug}"),
    ]
    assert actions[1]["questions"][0]["after"] == {
        "status": "approved",
        "text": question["text"],
        "on_air": True,
        "answer": None,
    }
    # A's row cannot be undone while B's answer stands: the question is no longer as A left it.
    row = f"{desk.api}/moderation/actions/{actions[1]['id']}/undo"
    assert error_of(b.http.post(row), 409)["code"] == "changed_since"
    # B undoes A's ... no: B's own answer row first, by anyone (here A), then A's row works.
    assert a.http.post(f"{desk.api}/moderation/actions/{actions[0]['id']}/undo").status_code == 200
    undone = b.http.post(row)
    assert undone.status_code == 200, undone.text
    assert (undone.json()["question"]["status"], undone.json()["question"]["highlighted"]) == ("pending", False)
    assert error_of(b.http.post(row), 409)["code"] == "already_undone"
    listed = {e["id"]: e for e in a.http.get(f"{desk.api}/moderation/actions").json()["actions"]}
    assert listed[actions[1]["id"]]["undone_by"] == f"b-{desk.slug}"
    assert error_of(b.http.post(f"{desk.api}/moderation/actions/99999999/undo"), 404)["code"] == "action_not_found"
    assert error_of(b.http.post(f"{desk.api}/moderation/actions/x1/undo"), 404)["code"] == "action_not_found"
    assert desk.viewer().http.get(f"{desk.api}/moderation/actions").status_code == 401


# ---------------------------------------------------------------- on air means on screen


def test_on_air_switches_the_screen_in_the_same_change_unless_pinned(desk: Desk) -> None:
    jana = desk.moderator("jana")
    poll = jana.http.post(f"{desk.api}/polls", json={"title": "Wie digital?", "kind": "rating"}).json()
    assert jana.http.patch(f"{desk.api}/polls/{poll['id']}", json={"state": "open"}).status_code == 200
    assert jana.http.put(f"{desk.api}/screen", json={"mode": "poll", "poll_id": poll["id"]}).status_code == 200
    first, second = desk.ask("Wo kann ich parken?"), desk.ask("Wann fährt der letzte Bus?")
    studio = desk.viewer().ws(slug=desk.slug)
    studio.recv()

    desk.moderate(jana, first, highlighted=True)
    message = studio.recv_until(lambda m: m["type"] == "on_air")[-1]
    assert message["question_id"] == first["id"]
    assert message["screen"] == {"mode": "question", "poll_id": None, "pinned": False}
    assert desk.event(jana)["screen"] == {"mode": "question", "poll_id": None, "pinned": False}

    # Pinned on purpose: the poll stays on screen while the next question goes on air.
    pinned = jana.http.put(f"{desk.api}/screen", json={"mode": "poll", "poll_id": poll["id"], "pinned": True})
    assert pinned.json() == {"mode": "poll", "poll_id": poll["id"], "pinned": True}
    desk.moderate(jana, second, highlighted=True)
    message = studio.recv_until(lambda m: m["type"] == "on_air")[-1]
    assert message["question_id"] == second["id"]
    assert "screen" not in message
    assert desk.event(jana)["screen"] == {"mode": "poll", "poll_id": poll["id"], "pinned": True}
    # Choosing the question view unpins.
    shown = jana.http.put(f"{desk.api}/screen", json={"mode": "question", "pinned": True})
    assert shown.json() == {"mode": "question", "poll_id": None, "pinned": False}


# ---------------------------------------------------------------- word clouds


def test_word_clouds_keep_the_spelling_most_people_used_and_take_up_to_three_words(desk: Desk) -> None:
    jana = desk.moderator("jana")
    created = jana.http.post(f"{desk.api}/polls", json={"title": "Was fehlt?", "kind": "words", "max_words": 3})
    assert created.status_code == 201, created.text
    poll = created.json()
    assert poll["max_words"] == 3
    assert jana.http.patch(f"{desk.api}/polls/{poll['id']}", json={"state": "open"}).status_code == 200
    votes = f"{desk.api}/polls/{poll['id']}/votes"
    for words in (["wlan", "Bürgernähe"], ["WLAN"], ["WLAN", "bürgernähe", "Bürgernähe!"], ["Radwege"]):
        response = desk.viewer().http.post(votes, json={"words": words})
        assert response.status_code == 201, response.text
    results = jana.http.get(f"{desk.api}/polls/{poll['id']}").json()["results"]
    assert results["words"] == [
        {"text": "WLAN", "count": 3},
        {"text": "Bürgernähe", "count": 2},
        {"text": "Radwege", "count": 1},
    ]
    device = desk.viewer()
    too_many = device.http.post(votes, json={"words": ["a1", "b2", "c3", "d4"]})
    assert error_of(too_many, 422)["code"] == "invalid"
    both = device.http.post(votes, json={"text": "x", "words": ["y"]})
    assert error_of(both, 422)["code"] == "invalid"
    mine = device.http.post(votes, json={"words": ["Glasfaser", "Bus"]})
    assert mine.json()["ballot"] == {"text": "Glasfaser", "words": ["Glasfaser", "Bus"]}
    # One word per device unless the poll says otherwise; other kinds have no such setting.
    single = jana.http.post(f"{desk.api}/polls", json={"title": "Ein Wort", "kind": "words"}).json()
    assert single["max_words"] == 1
    rating = jana.http.post(f"{desk.api}/polls", json={"title": "Note", "kind": "rating", "max_words": 2})
    assert error_of(rating, 422)["code"] == "invalid"
    jana.http.patch(f"{desk.api}/polls/{single['id']}", json={"state": "open"})
    two = desk.viewer().http.post(f"{desk.api}/polls/{single['id']}/votes", json={"words": ["a1", "b2"]})
    assert error_of(two, 422)["code"] == "invalid"
