"""Before, live and after: the countdown, questions in advance, the thank-you with the recording and the answered
questions as chapter marks, and the moderators' written answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from browsing import Pages, expect_live, log_in_and_moderate
from fixtures import Server, Viewer, bearer, csrf_of
from playwright.sync_api import expect

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(delta: timedelta) -> str:
    return (datetime.now(BERLIN) + delta).strftime("%Y-%m-%dT%H:%M")


def make_event(admin: httpx.Client, slug: str, starts: timedelta, ends: timedelta, **fields: str) -> None:
    form = {
        "title": f"Netzwerktreffen {slug}",
        "slug": slug,
        "starts_at": berlin(starts),
        "ends_at": berlin(ends),
        "moderation_mode": "approve",
        "questions_open": "on",
        "names_allowed": "on",
        **fields,
    }
    response = admin.post("/admin/events/new", data={**form, "csrf": csrf_of(admin)})
    assert response.status_code == 303, response.text


def reopen(moderator: Viewer, slug: str, minutes: int = 30) -> None:
    """After the end: the moderators take questions for a while (tests ask on ended events this way)."""
    response = moderator.http.post(f"/api/events/{slug}/questions/reopen", json={"minutes": minutes})
    assert response.status_code == 200, response.text


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    return viewer(headers=bearer(shared_moderator_token))


def test_a_written_answer_is_saved_broadcast_and_undone(
    shared_admin: httpx.Client, viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    make_event(shared_admin, "schriftlich", timedelta(hours=-2), timedelta(hours=-1))
    reopen(moderator, "schriftlich")
    audience = viewer()
    question = audience.ask("Gibt es die Folien zum Nachlesen?", slug="schriftlich")
    moderator.moderate(question["id"], slug="schriftlich", status="approved")
    live = audience.ws(slug="schriftlich")
    assert live.recv()["type"] == "snapshot"

    answer = "Ja, die Folien stehen ab Montag auf kaiserslautern.de/smartrlp."
    updated = moderator.moderate(question["id"], slug="schriftlich", answer=answer)
    assert updated["answer"] == answer
    assert updated["status"] == "approved"
    pushed = live.recv_until(lambda m: m["type"] == "question")[-1]["question"]
    assert pushed["answer"] == answer
    assert next(q for q in viewer().questions(slug="schriftlich") if q["id"] == question["id"])["answer"] == answer

    undone = moderator.http.post("/api/events/schriftlich/moderation/undo")
    assert undone.status_code == 200, undone.text
    assert undone.json()["question"]["answer"] is None
    assert moderator.moderate(question["id"], slug="schriftlich", answer=answer)["answer"] == answer
    assert moderator.moderate(question["id"], slug="schriftlich", answer="")["answer"] is None


@pytest.mark.parametrize(("answer", "status"), [("x" * 2001, 422), (42, 422), ("\x00", 422)])
def test_bad_written_answers_are_refused(
    shared_admin: httpx.Client, viewer: Callable[..., Viewer], moderator: Viewer, answer: object, status: int
) -> None:
    question = viewer().ask("Eine Frage für die Prüfung der Antwort")
    response = moderator.http.patch(f"/api/events/smart-rlp/questions/{question['id']}", json={"answer": answer})
    assert response.status_code == status, response.text
    assert response.json()["error"]["details"]["field"] == "answer"


def test_viewers_cannot_answer(viewer: Callable[..., Viewer]) -> None:
    asker = viewer()
    question = asker.ask("Darf ich mir selbst antworten?")
    response = asker.http.patch(f"/api/events/smart-rlp/questions/{question['id']}", json={"answer": "Ja"})
    assert response.status_code == 401


def test_the_recording_address_is_checked(shared_admin: httpx.Client) -> None:
    path = "/admin/events/new"
    form = {"title": "Mit Aufzeichnung", "slug": "mit-aufzeichnung", "recording_url": "ftp://example.org/video"}
    response = shared_admin.post(path, data={**form, "moderation_mode": "approve", "csrf": csrf_of(shared_admin)})
    assert response.status_code == 422
    assert "mit https:// beginnt" in response.text
    form["recording_url"] = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    response = shared_admin.post(path, data={**form, "moderation_mode": "approve", "csrf": csrf_of(shared_admin)})
    assert response.status_code == 303
    assert shared_admin.get("/api/events/mit-aufzeichnung").json()["recording_url"] == form["recording_url"]


def test_the_page_is_served_in_the_right_phase(shared_admin: httpx.Client) -> None:
    make_event(shared_admin, "bald", timedelta(days=2, hours=3), timedelta(days=2, hours=5))
    make_event(shared_admin, "vorbei", timedelta(hours=-3), timedelta(hours=-1), recording_url="https://example.org/r")
    soon = shared_admin.get("/e/bald").text
    assert re.search(r'data-phase="before" aria-labelledby="before-heading">', soon)
    assert re.search(r'data-phase="after" aria-labelledby="after-heading" hidden>', soon)
    over = shared_admin.get("/e/vorbei").text
    assert re.search(r'data-phase="after" aria-labelledby="after-heading">', over)
    assert 'href="https://example.org/r"' in over


@pytest.mark.browser
def test_before_the_start_a_countdown_and_questions_in_advance(
    pages: Pages, shared_server: Server, shared_admin: httpx.Client
) -> None:
    make_event(shared_admin, "vorab", timedelta(days=2, hours=3, minutes=5), timedelta(days=2, hours=5))
    page = pages.open(f"{shared_server.url}/e/vorab")
    expect_live(page)
    before = page.get_by_role("region", name="Die Veranstaltung hat noch nicht begonnen")
    expect(before).to_contain_text(re.compile(r"\(in 2 Tagen, 3 Stunden\)"))
    expect(before).to_contain_text("Sie können schon jetzt Fragen stellen")
    expect(page.get_by_role("region", name="Vielen Dank fürs Mitmachen!")).to_be_hidden()
    page.get_by_label("Ihre Frage", exact=True).fill("Wird es die Veranstaltung auch in Gebärdensprache geben?")
    page.get_by_role("button", name="Frage senden").click()
    mine = page.get_by_role("region", name="Meine Fragen", exact=True)
    expect(mine).to_contain_text("Gebärdensprache")
    expect(mine).not_to_contain_text("null")  # a question without a written answer once showed "null"


@pytest.mark.browser
def test_after_the_end_thanks_recording_chapter_marks_and_written_answers(
    pages: Pages,
    shared_server: Server,
    shared_admin: httpx.Client,
    viewer: Callable[..., Viewer],
    moderator: Viewer,
    tmp_path: Path,
) -> None:
    make_event(
        shared_admin, "danach", timedelta(minutes=-90), timedelta(minutes=-1), recording_url="https://example.org/aufz"
    )
    reopen(moderator, "danach")
    asker = viewer()
    answered = asker.ask("Wann kommt das WLAN in die Grundschulen?", slug="danach")
    moderator.moderate(answered["id"], slug="danach", status="answered")
    reached_not = asker.ask("Was kostet die neue Bürger-App?", slug="danach")
    moderator.moderate(reached_not["id"], slug="danach", status="approved")
    reopen(moderator, "danach", minutes=0)

    page = pages.open(f"{shared_server.url}/e/danach")
    expect_live(page)
    after = page.get_by_role("region", name="Vielen Dank fürs Mitmachen!")
    expect(after).to_be_visible()
    expect(after.get_by_role("link", name=re.compile("Aufzeichnung ansehen"))).to_have_attribute(
        "href", "https://example.org/aufz"
    )
    chapters = after.get_by_role("region", name="Die Fragen in der Aufzeichnung").get_by_role("listitem")
    expect(chapters).to_have_count(1)
    expect(chapters).to_contain_text(re.compile(r"1:(29|30|31):\d\d\s*Wann kommt das WLAN"))

    # A written answer added afterwards reaches the open page.
    moderator.moderate(reached_not["id"], slug="danach", answer="Die App ist kostenlos; die Stadt trägt die Kosten.")
    card = (
        page.get_by_role("region", name=re.compile("^Fragen aus dem Publikum"))
        .get_by_role("listitem")
        .filter(has_text="Bürger-App")
    )
    expect(card).to_contain_text("Schriftliche Antwort")
    expect(card).to_contain_text("Die App ist kostenlos")
    page.screenshot(path=tmp_path / "after.png", full_page=True)


@pytest.mark.browser
def test_a_moderator_writes_an_answer_on_the_page_and_the_viewer_sees_it(
    pages: Pages,
    shared_server: Server,
    shared_admin: httpx.Client,
    shared_moderator_credentials: tuple[str, str],
    viewer: Callable[..., Viewer],
    moderator: Viewer,
) -> None:
    make_event(shared_admin, "nachgereicht", timedelta(hours=-3), timedelta(hours=-2))
    reopen(moderator, "nachgereicht")
    question = viewer().ask("Wo finde ich die Förderprogramme für Vereine?", slug="nachgereicht")
    moderator.moderate(question["id"], slug="nachgereicht", status="approved")
    audience = pages.open(f"{shared_server.url}/e/nachgereicht")
    expect_live(audience)

    page = log_in_and_moderate(pages, shared_server, "nachgereicht", shared_moderator_credentials)
    card = page.get_by_role("tabpanel", name=re.compile("^Freigegeben")).get_by_role("listitem")
    expect(card).not_to_contain_text("null")
    card.get_by_role("button", name="Schriftlich antworten").click()
    field = card.get_by_label(re.compile("^Schriftliche Antwort"))
    expect(field).to_be_focused()
    field.fill("Auf der Seite der Kreisverwaltung unter „Ehrenamt“.")
    card.get_by_role("button", name="Antwort speichern").click()
    expect(card).to_contain_text("Schriftliche Antwort")
    expect(card.get_by_role("button", name="Antwort ändern")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Schriftliche Antwort gespeichert")).to_be_visible()

    public = audience.get_by_role("region", name=re.compile("^Fragen aus dem Publikum")).get_by_role("listitem")
    expect(public).to_contain_text("Auf der Seite der Kreisverwaltung")


def test_written_answers_and_addressees_reach_the_export(
    shared_server: Server, shared_admin: httpx.Client, viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    make_event(shared_admin, "dokumentiert", timedelta(hours=-3), timedelta(hours=-2))
    reopen(moderator, "dokumentiert")
    csrf = csrf_of(shared_admin, "/admin/events/dokumentiert")
    shared_admin.post(
        "/admin/events/dokumentiert/panelists",
        data={"name": "Malu Dreyer", "role": "Ministerpräsidentin", "csrf": csrf},
    )
    panelist = shared_admin.get("/api/events/dokumentiert").json()["panelists"][0]
    asked = (
        viewer()
        .http.post(
            "/api/events/dokumentiert/questions", json={"text": "Kommt der 5G-Ausbau?", "panelist_id": panelist["id"]}
        )
        .json()
    )
    moderator.moderate(asked["id"], slug="dokumentiert", status="approved", answer="Ja, bis 2027 im ganzen Land.")
    exported = moderator.http.get("/api/events/dokumentiert/export.json").json()["questions"][0]
    assert exported["answer"] == "Ja, bis 2027 im ganzen Land."
    assert exported["addressed_to"] == "Malu Dreyer"
    csv_text = moderator.http.get("/api/events/dokumentiert/export.csv").content.decode("utf-8-sig")
    assert "answer;addressed_to" in csv_text.splitlines()[0]
    assert "Ja, bis 2027 im ganzen Land.;Malu Dreyer" in csv_text
