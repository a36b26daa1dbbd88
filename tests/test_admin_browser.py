"""The event administration in a real browser (Debian's Chromium through Playwright) against the real server:
an administrator creates an event the way a city's staff would, makes a typical mistake, corrects it, and the
event is there for viewers. Keyboard alone, on a phone and on a desktop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browsing import DESKTOP, PHONE_OPTIONS, Pages, log_in
from fixtures import Server, demo_credentials
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_an_admin_creates_an_event_corrects_a_mistake_and_viewers_see_it(
    pages: Pages, shared_server: Server, device: str, tmp_path: Path
) -> None:
    options = PHONE_OPTIONS if device == "phone" else {"viewport": DESKTOP}
    page = log_in(pages, shared_server, "/admin", demo_credentials(shared_server), **options)
    expect(page.get_by_role("heading", level=1)).to_have_text("Verwaltung Veranstaltungen")
    expect(page.get_by_role("link", name=re.compile(r"^Bearbeiten\W+Smart RLP – Digitalisierung"))).to_be_visible()
    page.screenshot(path=tmp_path / f"admin-{device}.png", full_page=True)

    title = f"Austausch {device}: Interkommunal und digital"  # the device early: slugs keep 40 characters
    page.get_by_role("link", name="Neue Veranstaltung").click()
    # The keyboard alone: type into each field, Tab onwards, Enter sends.
    page.get_by_label("Titel", exact=True).focus()
    page.keyboard.type(title)
    page.get_by_label("Beginn", exact=True).fill("2026-12-03T17:30")
    page.get_by_label("Ende", exact=True).fill("2026-12-03T19:00")
    page.get_by_label("YouTube-Adresse").fill("https://vimeo.com/76979871")
    pages.allow_failed_load(f"{shared_server.url}/admin/events/new")  # the form comes back with 422
    page.get_by_label("YouTube-Adresse").press("Enter")

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("keine YouTube-Videoadresse")
    expect(summary).to_be_focused()  # a screen reader hears what to correct, at once
    expect(page.get_by_label("Titel", exact=True)).to_have_value(title)
    page.screenshot(path=tmp_path / f"admin-form-error-{device}.png", full_page=True)
    summary.get_by_role("link").click()
    expect(page.get_by_label("YouTube-Adresse")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("https://www.youtube.com/live/dQw4w9WgXcQ?feature=share")
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{shared_server.url}/admin/events/{slug_of(title)}?done=created")
    expect(page.get_by_role("status")).to_have_text("Die Veranstaltung wurde angelegt.")
    # A draft until published: the team prepares it in peace.
    page.get_by_role("button", name="Veröffentlichen", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Die Veranstaltung ist veröffentlicht.")
    page.get_by_role("link", name="Alle Veranstaltungen").click()
    entry = page.locator(f"#event-{slug_of(title)}")
    expect(entry).to_contain_text("Donnerstag, 3. Dezember 2026 um 17:30 – 19:00 Uhr")

    viewer = pages.open(f"{shared_server.url}/e/{slug_of(title)}", **options)
    expect(viewer.get_by_role("heading", level=1)).to_have_text(title)
    expect(viewer.get_by_text("Livestream auf YouTube", exact=True)).to_be_visible()


def test_an_admin_with_an_english_browser_creates_an_event_in_english(pages: Pages, shared_server: Server) -> None:
    english = {"locale": "en-GB", "extra_http_headers": {"Accept-Language": "en-GB,en;q=0.9"}}
    page = pages.open(f"{shared_server.url}/admin", **english)
    name, password = demo_credentials(shared_server)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration Events")
    assert page.locator("html").get_attribute("lang") == "en"

    title = "Digital town hall for English speakers"
    page.get_by_role("link", name="New event").click()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Start", exact=True).fill("2026-12-10T18:00")
    page.get_by_label("End", exact=True).fill("2026-12-10T17:00")
    page.get_by_label("YouTube address").fill("https://vimeo.com/76979871")
    pages.allow_failed_load(f"{shared_server.url}/admin/events/new")  # the form comes back with 422
    page.get_by_role("button", name="Create event").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct the 2 marked entries:")
    expect(summary).to_contain_text("The end must come after the start.")
    expect(summary).to_contain_text("That is not a YouTube video address.")
    expect(page.get_by_label("End", exact=True)).to_have_accessible_description("The end must come after the start.")
    page.get_by_label("End", exact=True).fill("2026-12-10T19:30")
    page.get_by_label("YouTube address").fill("https://youtu.be/dQw4w9WgXcQ")
    page.get_by_role("button", name="Create event").click()

    expect(page.get_by_role("status")).to_have_text("The event has been created.")
    page.get_by_role("link", name="All events").click()
    expect(page.locator(f"#event-{slug_of(title)}")).to_contain_text("Thursday 10 December 2026 at 18:00 – 19:30")
    expect(page.locator(f"#event-{slug_of(title)}")).to_contain_text("Draft")


def slug_of(title: str) -> str:
    from smartrlp.services.event_admin import slugify

    return slugify(title)
