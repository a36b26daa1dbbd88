"""Abuse against the real server: the event's own filter words, blocked devices, reports, and retention of all three.

Every test has an event of its own on the module's shared server, so they do not disturb each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fixtures import Server, Viewer, bearer, create_event, csrf_of

from smartrlp.db.store import Database
from smartrlp.realtime import protocol
from smartrlp.services import retention

_slugs = itertools.count(1)


def new_event(server: Server, mode: str = "post", ends_at: str | None = None) -> str:
    """An event of its own, in post-moderation (questions appear at once) unless `mode` says otherwise."""
    slug = f"abuse-{next(_slugs)}"
    create_event(server, slug, title=f"Missbrauch {slug}")
    with sqlite3.connect(server.db_path) as conn:
        conn.execute("UPDATE events SET moderation_mode = ?, ends_at = ? WHERE slug = ?", (mode, ends_at, slug))
    return slug


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error_code(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["code"])


def device_of(device: Viewer) -> str:
    cookie = device.device_cookie
    assert cookie
    return cookie.rsplit(".", 1)[0]


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    return viewer(headers=bearer(shared_moderator_token))


def notes(moderator: Viewer, slug: str) -> dict[int, dict[str, Any]]:
    data = ok(moderator.http.get(f"/api/events/{slug}/moderation/notes"))
    return {n["question_id"]: n for n in data["notes"]}


def test_event_words_hold_questions_even_in_post_moderation_and_stay_off_the_air(
    moderator: Viewer, viewer: Callable[..., Viewer]
) -> None:
    slug = new_event(moderator.server)
    base = f"/api/events/{slug}"
    asker, other = viewer(), viewer()
    staff_ws = moderator.ws(slug)
    asker_ws = asker.ws(slug)
    staff_ws.recv_until(lambda m: m["type"] == protocol.SNAPSHOT)
    asker_ws.recv_until(lambda m: m["type"] == protocol.SNAPSHOT)

    # Only moderators see or change the list; nonsense is refused with the field named.
    assert error_code(other.http.post(f"{base}/words", json={"word": "quatschkopf"}), 401) == "unauthorized"
    assert error_code(moderator.http.post(f"{base}/words", json={"word": "  ?! "}), 422) == "invalid"
    assert error_code(moderator.http.post(f"{base}/words", json={"word": 7}), 422) == "invalid"
    assert error_code(moderator.http.post(f"{base}/words", json={"word": "a/b"}), 422) == "invalid"
    added = ok(moderator.http.post(f"{base}/words", json={"word": " Quatschkopf "}), 201)
    assert added["word"] == "quatschkopf"
    ok(moderator.http.post(f"{base}/words", json={"word": "Rote  Karte"}), 201)
    assert ok(moderator.http.post(f"{base}/words", json={"word": "quatschkopf"}))["words"] == [
        "quatschkopf",
        "rote karte",
    ]
    words_message = staff_ws.recv_until(
        lambda m: m["type"] == protocol.MODERATION_NOTES and "rote karte" in m.get("words", [])
    )
    assert words_message

    fine = asker.ask("Wann kommt das Glasfaser?", slug=slug)
    assert fine["status"] == "approved"
    held = asker.ask("Der Minister ist ein QUATSCHKOPF", slug=slug)
    phrase = asker.ask("Dafür gibt es die rote Karte!", slug=slug)
    shipped = asker.ask("Was für eine Scheiße", slug=slug)
    for question in (held, phrase, shipped):
        assert question["status"] == "pending"
        assert "held_words" not in question  # the asker learns nothing of why
    seen = notes(moderator, slug)
    assert seen[held["id"]]["held_words"] == ["quatschkopf"]
    assert seen[phrase["id"]]["held_words"] == ["rote karte"]
    assert seen[shipped["id"]]["held_words"]
    assert fine["id"] not in seen
    staff_ws.recv_until(
        lambda m: m["type"] == protocol.MODERATION_NOTES and m["notes"][0]["question_id"] == shipped["id"]
    )
    # The asker's own socket hears of its waiting question, but never of the notes about it.
    asker_ws.recv_until(lambda m: m["type"] == protocol.QUESTION and m["question"]["id"] == shipped["id"])
    assert not [m for m in asker_ws.received if m["type"] == protocol.MODERATION_NOTES]
    assert [q["id"] for q in other.questions(slug)] == [fine["id"]]

    # "Auf Sendung" would approve a waiting question on the way; a held one must be approved on its own first.
    response = moderator.http.patch(f"{base}/questions/{held['id']}", json={"highlighted": True})
    assert error_code(response, 409) == "held_question"
    assert ok(moderator.http.get(f"/api/events/{slug}"))["on_air_question_id"] is None
    moderator.moderate(held["id"], slug=slug, status="rejected")
    assert error_code(moderator.http.patch(f"{base}/questions/{held['id']}", json={"highlighted": True}), 409)
    moderator.moderate(phrase["id"], slug=slug, status="approved")
    assert moderator.moderate(phrase["id"], slug=slug, highlighted=True)["highlighted"] is True

    # Word clouds refuse the event's words too.
    poll = ok(moderator.http.post(f"{base}/polls", json={"title": "Ein Wort", "kind": "words"}), 201)
    ok(moderator.http.patch(f"{base}/polls/{poll['id']}", json={"state": "open"}))
    response = other.http.post(f"{base}/polls/{poll['id']}/votes", json={"text": "Quatschkopf"})
    assert error_code(response, 422) == "blocked_text"

    # Removed again, the word no longer holds anything.
    assert ok(moderator.http.delete(f"{base}/words/quatschkopf"))["words"] == ["rote karte"]
    assert error_code(moderator.http.delete(f"{base}/words/quatschkopf"), 404) == "word_not_found"
    assert asker.ask("Quatschkopf ist doch nett gemeint", slug=slug)["status"] == "approved"
    ok(other.http.post(f"{base}/polls/{poll['id']}/votes", json={"text": "Quatschkopf"}), 201)

    # Pre-moderation holds everything anyway; the reason is still noted for the moderators.
    pre = new_event(moderator.server, mode="approve")
    ok(moderator.http.post(f"/api/events/{pre}/words", json={"word": "quatschkopf"}), 201)
    waiting = asker.ask("Quatschkopf!", slug=pre)
    assert notes(moderator, pre)[waiting["id"]]["held_words"] == ["quatschkopf"]


def test_a_blocked_device_is_held_and_not_counted_and_never_learns_it(
    moderator: Viewer, viewer: Callable[..., Viewer]
) -> None:
    slug = new_event(moderator.server)
    base = f"/api/events/{slug}"
    troll, citizen = viewer(), viewer()
    first = troll.ask("Erste Frage des Trolls", slug=slug)
    second = troll.ask("Zweite Frage des Trolls", slug=slug)
    honest = citizen.ask("Eine ehrliche Frage", slug=slug)
    poll = ok(
        moderator.http.post(f"{base}/polls", json={"title": "Ja?", "kind": "single", "options": ["Ja", "Nein"]}), 201
    )
    ok(moderator.http.patch(f"{base}/polls/{poll['id']}", json={"state": "open"}))
    staff_ws = moderator.ws(slug)
    staff_ws.recv_until(lambda m: m["type"] == protocol.SNAPSHOT)

    assert error_code(citizen.http.post(f"{base}/questions/{second['id']}/device-block"), 401) == "unauthorized"
    blocked = ok(moderator.http.post(f"{base}/questions/{second['id']}/device-block"))
    assert blocked["question_ids"] == [first["id"], second["id"]]
    assert [(b["question_id"], b["text"], b["questions"]) for b in blocked["blocks"]] == [
        (first["id"], "Erste Frage des Trolls", 2)
    ]
    ok(moderator.http.post(f"{base}/questions/{first['id']}/device-block"))  # twice is fine
    message = staff_ws.recv_until(lambda m: m["type"] == protocol.MODERATION_NOTES)[-1]
    assert {n["question_id"]: n["device_blocked"] for n in message["notes"]} == {first["id"]: True, second["id"]: True}
    assert len(message["blocks"]) == 1
    # Its questions so far stay public until a moderator rejects them.
    assert {q["id"] for q in citizen.questions(slug)} == {first["id"], second["id"], honest["id"]}

    # New questions wait for a moderator, marked for them only.
    third = troll.ask("Dritte Frage, jetzt gesperrt", slug=slug)
    assert third["status"] == "pending"
    assert notes(moderator, slug)[third["id"]] | {"report_reasons": {}} == {
        "question_id": third["id"],
        "held_words": [],
        "held_device": True,
        "device_blocked": True,
        "reports": 0,
        "report_reasons": {},
    }

    # Its vote is answered as if counted, but the count everyone else sees does not move.
    vote = ok(troll.http.post(f"{base}/questions/{honest['id']}/votes"))
    assert vote == {"question_id": honest["id"], "votes": 1, "counted": True, "voted": True}
    assert {q["id"]: q["votes"] for q in citizen.questions(slug)}[honest["id"]] == 0
    ok(citizen.http.post(f"{base}/questions/{first['id']}/votes"))
    # Its ballot is kept as its own answer but left out of the results.
    option = poll["options"][0]["id"]
    ok(troll.http.post(f"{base}/polls/{poll['id']}/votes", json={"options": [option]}), 201)
    assert ok(troll.http.get(f"{base}/polls/{poll['id']}"))["my_ballot"] == {"options": [option]}
    ok(citizen.http.post(f"{base}/polls/{poll['id']}/votes", json={"options": [poll["options"][1]["id"]]}), 201)
    results = ok(moderator.http.get(f"{base}/polls/{poll['id']}"))["results"]
    assert results["total"] == 1
    assert [o["count"] for o in results["options"]] == [0, 1]

    history = ok(moderator.http.get(f"{base}/questions/{third['id']}/device"))
    assert history["blocked"] is True
    assert [(q["id"], q["status"], q["held_device"]) for q in history["questions"]] == [
        (first["id"], "approved", False),
        (second["id"], "approved", False),
        (third["id"], "pending", True),
    ]
    assert history["votes"] == {"cast": 1, "not_counted": 1}
    assert history["ballots"] == {"cast": 1, "not_counted": 1}
    assert error_code(citizen.http.get(f"{base}/questions/{third['id']}/device"), 401) == "unauthorized"
    assert error_code(moderator.http.get(f"{base}/questions/999999/device"), 404) == "question_not_found"

    # No answer to anyone names the device.
    troll_id = device_of(troll)
    for path in (
        f"{base}/device-blocks",
        f"{base}/moderation/notes",
        f"{base}/questions",
        f"{base}/questions/{first['id']}/device",
    ):
        assert troll_id not in moderator.http.get(path).text
    assert troll_id not in " ".join(str(m) for m in staff_ws.received)

    unblocked = ok(moderator.http.delete(f"{base}/questions/{third['id']}/device-block"))
    assert unblocked["blocks"] == []
    assert troll.ask("Wieder frei", slug=slug)["status"] == "approved"


def test_reports_one_per_device_seen_by_moderators_only(moderator: Viewer, viewer: Callable[..., Viewer]) -> None:
    slug = new_event(moderator.server)
    base = f"/api/events/{slug}"
    asker, reporter, second, bystander = viewer(), viewer(), viewer(), viewer()
    target = asker.ask("Eine fragwürdige Frage", slug=slug)
    ok(moderator.http.post(f"{base}/words", json={"word": "geheimwort"}), 201)
    hidden = asker.ask("Mit geheimwort", slug=slug)
    public_ws = bystander.ws(slug)
    public_ws.recv_until(lambda m: m["type"] == protocol.SNAPSHOT)

    assert ok(reporter.http.post(f"{base}/questions/{target['id']}/reports", json={"reason": "spam"}), 201)["reported"]
    # A second report from the same device is answered alike but not counted.
    ok(reporter.http.post(f"{base}/questions/{target['id']}/reports", json={"reason": "offensive"}))
    ok(second.http.post(f"{base}/questions/{target['id']}/reports", json={}), 201)
    assert error_code(second.http.post(f"{base}/questions/{target['id']}/reports", json={"reason": "x"}), 422)
    # What a viewer cannot see, it cannot report.
    assert (
        error_code(second.http.post(f"{base}/questions/{hidden['id']}/reports", json={}), 404) == "question_not_found"
    )
    assert ok(reporter.http.get(f"{base}/reports/mine")) == {"question_ids": [target["id"]]}
    assert ok(bystander.http.get(f"{base}/reports/mine")) == {"question_ids": []}

    note = notes(moderator, slug)[target["id"]]
    assert (note["reports"], note["report_reasons"]) == (2, {"spam": 1, "other": 1})

    # Nothing about reports reaches the public: no notes, no report field in a question.
    ok(asker.http.post(f"{base}/questions/{target['id']}/votes"))
    public_ws.recv_until(lambda m: m["type"] == protocol.VOTES)
    assert not [m for m in public_ws.received if m["type"] == protocol.MODERATION_NOTES]
    assert "report" not in str(bystander.questions(slug))

    assert error_code(reporter.http.delete(f"{base}/questions/{target['id']}/reports"), 401) == "unauthorized"
    assert ok(moderator.http.delete(f"{base}/questions/{target['id']}/reports"))["dismissed"] == 2
    assert target["id"] not in notes(moderator, slug)
    # Dismissed stays dismissed: the same device cannot report the question again.
    ok(reporter.http.post(f"{base}/questions/{target['id']}/reports", json={"reason": "spam"}))
    assert target["id"] not in notes(moderator, slug)


def test_retention_removes_the_devices_of_blocks_and_reports(moderator: Viewer, viewer: Callable[..., Viewer]) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    slug = new_event(moderator.server)  # live while people take part: questions close at the end
    base = f"/api/events/{slug}"
    troll, reporter = viewer(), viewer()
    question = troll.ask("Alt und vergessen", slug=slug)
    ok(reporter.http.post(f"{base}/questions/{question['id']}/reports", json={"reason": "spam"}), 201)
    ok(moderator.http.post(f"{base}/questions/{question['id']}/device-block"))
    with contextlib.closing(sqlite3.connect(moderator.server.db_path)) as conn:  # ... and long over by now
        conn.execute("UPDATE events SET ends_at = ? WHERE slug = ?", (long_ago, slug))
        conn.commit()

    async def purge() -> list[str]:
        db = Database(moderator.server.db_path)
        await db.open()
        try:
            return await retention.purge(db, datetime.now(UTC), 30)
        finally:
            await db.close()

    assert slug in asyncio.run(purge())
    with sqlite3.connect(moderator.server.db_path) as conn:
        for device in (device_of(troll), device_of(reporter)):
            for table in ("device_blocks", "question_reports", "questions"):
                assert not conn.execute(f"SELECT 1 FROM {table} WHERE device_id = ?", (device,)).fetchall(), table
    # The report still counts; the device behind the question is no longer known.
    assert notes(moderator, slug)[question["id"]]["reports"] == 1
    assert error_code(moderator.http.get(f"{base}/questions/{question['id']}/device"), 409) == "device_unknown"


def test_the_filter_catches_phrases_and_an_exclamation_mark_ends_a_word() -> None:
    from smartrlp.core.wordfilter import WordFilter

    word_filter = WordFilter.shipped().extended(["rote karte", "quatsch*"])
    assert word_filter.matches("Die ROTE   Karte!") == ["rote karte"]
    assert word_filter.matches("rote Zahlen, Karte") == []
    assert word_filter.matches("Quatschköpfe!!") == ["quatschkopfe"]
    # "!" inside a word still stands for an "i"; at the end it is only punctuation.
    assert word_filter.matches("sh!t") == ["shit"]
    assert word_filter.matches("Hure!") == ["hure"]


def test_deleting_an_event_deletes_its_words_blocks_and_reports(
    moderator: Viewer, viewer: Callable[..., Viewer], shared_admin: Any
) -> None:
    slug = new_event(moderator.server)
    base = f"/api/events/{slug}"
    troll, reporter = viewer(), viewer()
    question = troll.ask("Gleich ist alles weg", slug=slug)
    ok(moderator.http.post(f"{base}/words", json={"word": "weg"}), 201)
    ok(reporter.http.post(f"{base}/questions/{question['id']}/reports", json={}), 201)
    ok(moderator.http.post(f"{base}/questions/{question['id']}/device-block"))
    with sqlite3.connect(moderator.server.db_path) as conn:
        event_id = conn.execute("SELECT id FROM events WHERE slug = ?", (slug,)).fetchone()[0]
    response = shared_admin.post(
        f"/admin/events/{slug}/delete", data={"csrf": csrf_of(shared_admin), "confirm_slug": slug}
    )
    assert response.status_code == 303, response.text
    with sqlite3.connect(moderator.server.db_path) as conn:
        for sql, key in (
            ("SELECT COUNT(*) FROM event_words WHERE event_id = ?", event_id),
            ("SELECT COUNT(*) FROM device_blocks WHERE event_id = ?", event_id),
            ("SELECT COUNT(*) FROM question_reports WHERE question_id = ?", question["id"]),
        ):
            assert conn.execute(sql, (key,)).fetchone()[0] == 0, sql
