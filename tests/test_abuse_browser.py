"""Abuse in a real browser against the real server: a moderator holds, blocks and looks up a device on the page,
a held question never reaches the presenter screen or the overlay, and a viewer reports a question with the keyboard.

Each test has an event of its own on the module's shared server; nothing sleeps, every wait has a deadline.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from browsing import Pages, log_in_and_moderate, new_event
from fixtures import Server, Viewer, bearer
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

MONITOR = {"width": 1920, "height": 1080}
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def assert_accessible(page: Page) -> None:
    """axe-core on the page in the state it is in now (the states opened here are not in test_accessibility)."""
    violations = Axe().run(page, options=WCAG_21_AA).response["violations"]
    assert not violations, [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in violations]


def post_moderated_event(server: Server, title: str) -> str:
    slug = new_event(server, title, prefix="abuse")
    with sqlite3.connect(server.db_path) as conn:
        conn.execute("UPDATE events SET moderation_mode = 'post' WHERE slug = ?", (slug,))
    return slug


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def card(page: Page, column: str, text: str) -> Any:
    return page.locator(f"[data-column='{column}'] li").filter(has_text=text)


def test_moderator_blocks_a_device_and_a_held_question_never_reaches_the_studio(
    pages: Pages,
    shared_server: Server,
    shared_moderator_credentials: tuple[str, str],
    shared_moderator_token: str,
    viewer: Callable[..., Viewer],
) -> None:
    slug = post_moderated_event(shared_server, "Bürgerdialog mit Trollen")
    api = f"/api/events/{slug}"
    moderator_api = viewer(headers=bearer(shared_moderator_token))
    troll, citizen = viewer(), viewer()
    first = troll.ask("Erste Frage des Trolls", slug=slug)
    honest = citizen.ask("Wann kommt das schnelle Internet?", slug=slug)

    # The studio views, opened with studio links, show the question on air.
    links = {
        view: ok(moderator_api.http.post(f"{api}/studio-links", json={"view": view}), 201)["url"]
        for view in ("present", "overlay")
    }
    presenter = pages.open(re.sub(r"^https?://[^/]+", shared_server.url, links["present"]), viewport=MONITOR)
    overlay = pages.open(re.sub(r"^https?://[^/]+", shared_server.url, links["overlay"]), viewport=MONITOR)
    ok(moderator_api.http.put(f"{api}/screen", json={"mode": "question"}))

    page = log_in_and_moderate(pages, shared_server, slug, shared_moderator_credentials)
    # The event's own word, added on the page.
    page.get_by_text("Wortfilter dieser Veranstaltung").click()
    page.get_by_label("Wort oder Wortgruppe").fill("Quatschkopf")
    page.get_by_role("button", name="Hinzufügen").click()
    expect(page.locator("[data-word-list]")).to_contain_text("quatschkopf")

    # Blocking the device from one of its questions: it stays public, and is marked for the moderators.
    troll_card = card(page, "approved", first["text"])
    troll_card.get_by_text("Mehr", exact=True).click()  # the tools against abuse wait under "Mehr"
    troll_card.get_by_role("button", name="Gerät sperren").click()
    expect(troll_card.get_by_text("Das Gerät dieser Frage ist gesperrt.")).to_be_visible()
    expect(page.locator("[data-toast]")).to_contain_text("Gerät gesperrt")
    page.get_by_text("Gesperrte Geräte").click()
    expect(page.locator("[data-block-list] li")).to_have_count(1)
    expect(page.locator("[data-block-list]")).to_contain_text(first["text"])

    blocked = troll.ask("Noch eine Frage, jetzt gesperrt", slug=slug)
    filtered = citizen.ask("Der Minister ist ein Quatschkopf", slug=slug)
    assert blocked["status"] == filtered["status"] == "pending"
    blocked_card = card(page, "pending", blocked["text"])
    filtered_card = card(page, "pending", filtered["text"])
    expect(blocked_card.get_by_text("Zurückgehalten: gesperrtes Gerät")).to_be_visible()
    expect(filtered_card.get_by_text("Vom Wortfilter zurückgehalten: „quatschkopf“")).to_be_visible()
    # A held question offers no "Auf Sendung"; the server refuses it too, and the studio views stay empty of it.
    expect(filtered_card.get_by_role("button", name="Auf Sendung")).to_have_count(0)
    response = moderator_api.http.patch(f"{api}/questions/{filtered['id']}", json={"highlighted": True})
    assert response.status_code == 409, response.text

    # What did this device send? Opened from its newest question.
    blocked_card.get_by_text("Mehr", exact=True).click()
    blocked_card.get_by_role("button", name="Was hat dieses Gerät gesendet?").click()
    history = blocked_card.get_by_role("region", name="Was dieses Gerät gesendet hat")
    expect(history.locator("li")).to_have_count(2)
    expect(history).to_contain_text(first["text"])
    expect(history).to_contain_text("Gerät gesperrt seit")
    assert_accessible(page)  # held and blocked notes, both tool cards and a device history open

    # An honest question goes on air: the studio shows it, never a held one.
    card(page, "approved", honest["text"]).get_by_role("button", name="Auf Sendung").click()
    expect(presenter.get_by_text(honest["text"])).to_be_visible()
    expect(overlay.locator("[data-lt-text]")).to_have_text(honest["text"])
    for studio_page in (presenter, overlay):
        expect(studio_page.get_by_text(filtered["text"])).to_have_count(0)
        expect(studio_page.get_by_text(blocked["text"])).to_have_count(0)
    # Approved on its own, a held question may go on air like any other.
    filtered_card.get_by_role("button", name="Freigeben").click()
    card(page, "approved", filtered["text"]).get_by_role("button", name="Auf Sendung").click()
    expect(presenter.get_by_text(filtered["text"])).to_be_visible()

    # Unblocked from the list; the device's next question appears at once again.
    page.locator("[data-block-list]").get_by_role("button", name="Sperre aufheben").click()
    expect(page.locator("[data-block-list] li")).to_have_count(0)
    expect(page.get_by_text("Kein Gerät gesperrt.")).to_be_visible()
    assert troll.ask("Wieder frei", slug=slug)["status"] == "approved"


def test_a_viewer_reports_a_question_with_the_keyboard_and_the_moderator_sees_it_live(
    pages: Pages,
    shared_server: Server,
    shared_moderator_credentials: tuple[str, str],
    viewer: Callable[..., Viewer],
) -> None:
    slug = post_moderated_event(shared_server, "Bürgerdialog mit Meldungen")
    question = viewer().ask("Kaufen Sie billige Uhren auf example.com", slug=slug)
    moderator = log_in_and_moderate(pages, shared_server, slug, shared_moderator_credentials)
    page = pages.open(f"{shared_server.url}/e/{slug}")
    item = page.locator("[data-public-list] li").filter(has_text=question["text"])
    report = item.get_by_role("button", name=re.compile("^Melden"))

    # Escape closes the form again and puts the keyboard back on "Melden".
    report.focus()
    page.keyboard.press("Enter")
    form = item.get_by_role("form", name="Diese Frage der Moderation melden?")
    expect(form).to_be_visible()
    expect(form.get_by_role("radio", name="beleidigend")).to_be_focused()
    page.keyboard.press("Escape")
    expect(form).to_have_count(0)
    expect(report).to_be_focused()

    page.keyboard.press("Enter")
    expect(form.get_by_role("radio", name="beleidigend")).to_be_focused()
    assert_accessible(page)  # the report form open
    page.keyboard.press("ArrowRight")  # arrow keys move through a radio group and choose
    expect(form.get_by_role("radio", name="Spam")).to_be_checked()
    page.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Melden")).to_be_focused()
    page.keyboard.press("Enter")
    expect(item.get_by_text("Gemeldet")).to_be_visible()
    expect(page.locator("[data-announcer]")).to_have_text("Danke. Die Moderation sieht Ihre Meldung.")

    mod_card = card(moderator, "approved", question["text"])
    expect(mod_card.get_by_text("1 Meldung: Spam (1)")).to_be_visible()
    mod_card.get_by_role("button", name="Meldungen verwerfen").click()
    expect(mod_card.get_by_text("Meldung")).to_have_count(0)

    # The page remembers after a reload that this device reported the question.
    page.reload()
    expect(item.get_by_text("Gemeldet")).to_be_visible()
    expect(item.get_by_role("button", name=re.compile("^Melden"))).to_have_count(0)
