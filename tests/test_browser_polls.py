"""Live polls and reactions in a real browser (Debian's Chromium through Playwright) against the real server.

Moderators prepare and launch polls on the moderator page, viewers answer on the viewer page (often on a phone),
and both see results arrive live over the page's one websocket. Each person is a browser context of their own.
Any console error, uncaught page error or dialog fails the test. Nothing sleeps: every wait is Playwright's
auto-waiting with a deadline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from browsing import PHONE, PHONE_OPTIONS, Pages, expect_live, log_in_and_moderate, new_event
from fixtures import Server, Viewer
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser


# ---------------------------------------------------------------- what people do and see


def open_viewer(pages: Pages, server: Server, slug: str, **options: Any) -> Page:
    page = pages.open(f"{server.url}/e/{slug}", **options)
    expect_live(page)
    page.evaluate("window.__notReloaded = true")
    return page


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"


def create_poll(
    page: Page,
    title: str,
    kind: str,
    *,
    options: list[str] | None = None,
    scale: str | None = None,
    visibility: str | None = None,
) -> Locator:
    """Fill in "Neue Umfrage vorbereiten" on the moderator page; returns the new draft's card."""
    form = page.locator("[data-poll-form]")
    form.get_by_label("Frage", exact=True).fill(title)
    form.get_by_label("Art der Umfrage").select_option(label=kind)
    if options is not None:
        form.get_by_role("textbox", name="Antwortmöglichkeiten").fill("\n".join(options))
    if scale is not None:
        form.get_by_label("Skala").select_option(label=scale)
    if visibility is not None:
        form.get_by_label("Ergebnisse für das Publikum").select_option(label=visibility)
    form.get_by_role("button", name="Als Entwurf speichern").click()
    expect(form.get_by_role("status")).to_contain_text(f"Entwurf gespeichert: „{title}“")
    card = admin_card(page, title)
    expect(card).to_contain_text("Entwurf")
    return card


def admin_card(page: Page, title: str) -> Locator:
    polls = page.get_by_role("region", name=re.compile(r"^Umfragen \d+$"))
    return polls.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title))


def viewer_poll(page: Page, title: str) -> Locator:
    polls = page.get_by_role("region", name=re.compile(r"^Umfragen?$"))
    return polls.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title, exact=True))


def result_row(card: Locator, label: str) -> Locator:
    """One bar of the results, found by its label (a screen reader hears "label: 3 Stimmen · 50 %")."""
    rows = card.locator(".poll-results").get_by_role("listitem")
    return rows.filter(has_text=re.compile(rf"^{re.escape(label)}:"))


def poll_id(page: Page, title: str) -> int:
    heading_id = viewer_poll(page, title).get_by_role("heading", name=title).get_attribute("id")
    assert heading_id is not None
    match = re.fullmatch(r"poll-(\d+)-title", heading_id)
    assert match, heading_id
    return int(match.group(1))


# ---------------------------------------------------------------- 1. single choice, from launch to a changed answer


def test_a_launched_single_choice_poll_reaches_the_viewer_who_votes_and_changes_the_answer(
    pages: Pages, shared_server: Server, shared_moderator_credentials: tuple[str, str]
) -> None:
    slug = new_event(shared_server, "Mobilität im Landkreis", prefix="polls")
    title = "Wie kommen Sie meistens zur Arbeit?"
    moderator = log_in_and_moderate(pages, shared_server, slug, shared_moderator_credentials)
    phone = open_viewer(pages, shared_server, slug, **PHONE_OPTIONS)
    expect(phone.get_by_role("region", name=re.compile(r"^Umfragen?$"))).to_be_hidden()

    card = create_poll(moderator, title, "Einfachauswahl", options=["Auto", "Bus und Bahn", "Fahrrad"])
    # A draft is for the moderators only.
    expect(card.get_by_role("button", name="Starten")).to_be_visible()
    expect(phone.get_by_role("region", name=re.compile(r"^Umfragen?$"))).to_be_hidden()

    card.get_by_role("button", name="Starten").click()
    expect(card).to_contain_text("Läuft")
    expect(card.get_by_role("button", name="Starten")).to_have_count(0)

    # It appears without a reload, with a hint that leads to it.
    poll = viewer_poll(phone, title)
    expect(poll).to_be_visible()
    banner = phone.locator("[data-poll-banner]")
    expect(banner).to_contain_text(f"Neue Umfrage: {title}")
    expect(phone.locator("[data-announcer]")).to_have_text(f"Neue Umfrage: {title}")  # said to screen readers
    banner.get_by_role("link", name="Zur Umfrage").tap()
    expect(poll.get_by_role("heading", name=title)).to_be_focused()
    expect(banner).to_be_hidden()

    bus = poll.get_by_role("button", name=re.compile(r"^Bus und Bahn"))
    box = bus.bounding_box()
    assert box is not None
    assert box["height"] >= 44, f"an answer button is only {box['height']}px high"
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    expect(bus).to_have_attribute("aria-pressed", "false")
    bus.tap()
    expect(poll).to_contain_text("Ihre Antwort wurde gezählt.")
    expect(bus).to_have_attribute("aria-pressed", "true")
    expect(bus).to_contain_text("Ihre Wahl")
    expect(poll).to_contain_text("Zwischenstand: 1 Antwort")

    expect(card).to_contain_text("1 Antwort")
    expect(result_row(card, "Bus und Bahn")).to_contain_text("1 Stimme · 100 %")
    expect(result_row(card, "Fahrrad")).to_contain_text("0 Stimmen · 0 %")

    # Changing the answer replaces it: still one answer from this device.
    bike = poll.get_by_role("button", name=re.compile(r"^Fahrrad"))
    bike.tap()
    expect(poll).to_contain_text("Ihre geänderte Antwort wurde gezählt.")
    expect(bike).to_have_attribute("aria-pressed", "true")
    expect(bus).to_have_attribute("aria-pressed", "false")
    expect(result_row(card, "Fahrrad")).to_contain_text("1 Stimme · 100 %")
    expect(result_row(card, "Bus und Bahn")).to_contain_text("0 Stimmen · 0 %")
    expect(card.locator(".poll-total")).to_have_text("Live-Ergebnis: 1 Antwort")
    expect(poll.locator(".poll-total")).to_have_text("Zwischenstand: 1 Antwort")
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]

    # After a reload the device's answer is still chosen.
    phone.reload()
    expect_live(phone)
    expect(viewer_poll(phone, title).get_by_role("button", name=re.compile(r"^Fahrrad"))).to_have_attribute(
        "aria-pressed", "true"
    )
    assert_not_reloaded(moderator)


# ---------------------------------------------------------------- 2. rating, results only after the end


def test_rating_results_shown_after_the_end_reach_viewers_only_when_the_poll_is_closed(
    pages: Pages,
    shared_server: Server,
    shared_moderator_credentials: tuple[str, str],
    viewer: Callable[..., Viewer],
) -> None:
    slug = new_event(shared_server, "Verwaltung digital", prefix="polls")
    title = "Wie digital erleben Sie Ihre Verwaltung?"
    moderator = log_in_and_moderate(pages, shared_server, slug, shared_moderator_credentials)
    page = open_viewer(pages, shared_server, slug, **PHONE_OPTIONS)
    card = create_poll(moderator, title, "Bewertung", scale="1 bis 5", visibility="nach dem Ende")
    card.get_by_role("button", name="Starten").click()

    poll = viewer_poll(page, title)
    expect(poll).to_contain_text("1 = gar nicht")
    expect(poll).to_contain_text("5 = sehr")
    expect(poll).to_contain_text("Die Ergebnisse erscheinen, sobald die Umfrage beendet ist.")
    scale = poll.get_by_role("group", name=title)
    expect(scale.get_by_role("button")).to_have_count(5)
    for button in scale.get_by_role("button").all():
        box = button.bounding_box()
        assert box is not None
        assert box["width"] >= 44, box
        assert box["height"] >= 44, box
    scale.get_by_role("button", name=re.compile(r"^4 von 5")).tap()
    expect(poll).to_contain_text("Ihre Antwort wurde gezählt.")
    expect(poll).to_contain_text("Ihre Antwort: 4 von 5")

    # A second device answers 3 through the API: the mean is 3.5, written the German way.
    other = viewer()
    response = other.http.post(f"/api/events/{slug}/polls/{poll_id(page, title)}/votes", json={"value": 3})
    assert response.status_code == 201, response.text
    expect(card.locator(".poll-total")).to_have_text("Live-Ergebnis: 2 Antworten")
    expect(card).to_contain_text("Durchschnitt 3,5")
    # The moderators see the results live; the audience does not, yet.
    expect(poll.locator(".poll-results")).to_have_count(0)
    expect(poll).not_to_contain_text("Durchschnitt")

    card.get_by_role("button", name="Beenden").click()
    expect(card).to_contain_text("Beendet")
    expect(poll).to_contain_text("Umfrage beendet")
    expect(poll.get_by_role("button", name=re.compile(r"^\d+ von 5"))).to_have_count(0)
    expect(poll.locator(".poll-total")).to_have_text("Endergebnis: 2 Antworten")
    expect(poll).to_contain_text("Durchschnitt 3,5")
    expect(result_row(poll, "4 (Ihre Wahl)")).to_contain_text("1 Stimme · 50 %")
    expect(result_row(poll, "3")).to_contain_text("1 Stimme · 50 %")
    expect(result_row(poll, "1 = gar nicht")).to_contain_text("0 Stimmen · 0 %")
    assert_not_reloaded(page)


# ---------------------------------------------------------------- 3. words, normalised


def test_words_from_two_viewers_are_counted_as_one_normalised_word(
    pages: Pages, shared_server: Server, shared_moderator_credentials: tuple[str, str]
) -> None:
    slug = new_event(shared_server, "Smart City", prefix="polls")
    title = "Was fehlt Ihnen in Ihrem Ort am meisten?"
    moderator = log_in_and_moderate(pages, shared_server, slug, shared_moderator_credentials)
    first = open_viewer(pages, shared_server, slug, **PHONE_OPTIONS)
    second = open_viewer(pages, shared_server, slug)
    card = create_poll(moderator, title, "Wortwolke")
    card.get_by_role("button", name="Starten").click()

    for page, typed in ((first, "  WLAN "), (second, "wlan")):
        poll = viewer_poll(page, title)
        field = poll.get_by_label("Ihr Wort oder kurzer Begriff")
        expect(field).to_have_attribute("maxlength", "40")
        field.fill(typed)
        expect(poll).to_contain_text(f"{len(typed)} von 40 Zeichen")
        poll.get_by_role("button", name="Wort senden").click()
        expect(poll).to_contain_text("Ihre Antwort wurde gezählt.")
        expect(poll).to_contain_text(f"Ihre Antwort: „{typed.strip()}“")

    for where in (viewer_poll(first, title), viewer_poll(second, title), card):
        words = where.get_by_role("list", name="Genannte Wörter, die häufigsten zuerst").get_by_role("listitem")
        expect(words).to_have_count(1)
        expect(words.first).to_contain_text("WLAN")  # grouped with "wlan", in the spelling given first
        expect(words.first).to_contain_text("2 Nennungen")
        expect(where.locator(".poll-total")).to_contain_text("2 Antworten")
    for page in (moderator, first, second):
        assert_not_reloaded(page)


# ---------------------------------------------------------------- 4. reactions


def test_a_reaction_tapped_by_a_viewer_shows_on_the_moderators_meter(
    pages: Pages, shared_server: Server, shared_moderator_credentials: tuple[str, str]
) -> None:
    slug = new_event(shared_server, "Applaus bitte", prefix="polls")
    moderator = log_in_and_moderate(pages, shared_server, slug, shared_moderator_credentials)
    page = pages.open(f"{shared_server.url}/e/{slug}", **PHONE_OPTIONS)
    sent: list[Any] = []
    # Registered before the page's websocket opens: the frames the page sends are recorded.
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.reload()
    expect_live(page)

    buttons = page.get_by_role("group", name="Ihre Reaktion").get_by_role("button")
    expect(buttons).to_have_count(4)
    for name in ("Applaus", "Daumen hoch", "Herz", "Nachdenklich"):
        box = page.get_by_role("button", name=name, exact=True).bounding_box()
        assert box is not None
        assert box["width"] >= 44, box
        assert box["height"] >= 44, box

    page.get_by_role("button", name="Applaus", exact=True).tap()
    meter = moderator.get_by_role("region", name="Reaktionen im Publikum")
    expect(meter.locator('[data-kind="applause"] .meter-count')).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(meter.get_by_text(re.compile(r"^Reaktionen der letzten 10 Sekunden: Applaus [1-9]"))).to_be_attached()
    expect(page.locator('[data-reaction-meter] [data-kind="applause"] .meter-count')).to_have_text(
        re.compile(r"^[1-9]\d*$")
    )
    reacts = [json.loads(p) for p in sent if isinstance(p, str) and '"react"' in p]
    assert reacts == [{"type": "react", "kind": "applause"}], sent
    assert_not_reloaded(moderator)
