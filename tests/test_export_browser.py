"""The summary after the event in a real browser (Debian's Chromium through Playwright) against the real server.

A moderator opens "Zusammenfassung" from the moderator page on a desktop, or directly on a phone after logging in,
and reads what a person would: the answered question, the questions left open, a poll's result, the downloads;
printed, only the content remains. Screenshots at phone and desktop size go to the test's tmp_path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browsing import Pages, log_in, new_event
from fixtures import Server, Viewer, bearer
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PHONE_SIZE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP_SIZE: dict[str, Any] = {"viewport": {"width": 1440, "height": 900}}
TITLE = "Bürgerdialog „Digitale Schule“ – Kaiserslautern"
ANSWERED = "Wann kommt das Glasfasernetz nach Mölschbach? Grüße aus der Pfalz"
OPEN = "Gibt es bald WLAN in allen Grundschulen der Verbandsgemeinde Weilerbach?"
POLL = "Wie gefällt Ihnen das Format?"


def fill(server: Server, viewer: Callable[..., Viewer], token: str) -> str:
    """An event of its own with an answered and an open question and a closed poll, all through the API."""
    slug = new_event(server, TITLE, prefix="summary")
    api = f"/api/events/{slug}"
    moderator = viewer(headers=bearer(token))
    crowd = [viewer() for _ in range(3)]
    answered = crowd[0].ask(ANSWERED, "Jürgen Müßig", slug=slug)["id"]
    still_open = crowd[1].ask(OPEN, slug=slug)["id"]
    for question_id in (answered, still_open):
        moderator.moderate(question_id, slug=slug, status="approved")
    for voter in crowd:
        assert voter.http.post(f"{api}/questions/{answered}/votes").status_code == 200
    moderator.moderate(answered, slug=slug, status="answered")
    response = moderator.http.post(
        f"{api}/polls", json={"title": POLL, "kind": "single", "options": ["Gut", "Schlecht"]}
    )
    assert response.status_code == 201, response.text
    poll = response.json()
    assert moderator.http.patch(f"{api}/polls/{poll['id']}", json={"state": "open"}).status_code == 200
    good, bad = (o["id"] for o in poll["options"])
    for voter, choice in zip(crowd, (good, good, bad), strict=True):
        response = voter.http.post(f"{api}/polls/{poll['id']}/votes", json={"options": [choice]})
        assert response.status_code == 201, response.text
    assert moderator.http.patch(f"{api}/polls/{poll['id']}", json={"state": "closed"}).status_code == 200
    return slug


def check_summary(page: Page, slug: str) -> None:
    expect(page).to_have_title(f"Zusammenfassung: {TITLE} – Smart RLP Live")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Zusammenfassung {TITLE}")

    answered = page.get_by_role("region", name="Beantwortete Fragen (1)")
    item = answered.get_by_role("listitem")
    expect(item).to_have_count(1)
    expect(item.get_by_text(ANSWERED)).to_be_visible()
    expect(item).to_contain_text("Jürgen Müßig")
    expect(item).to_contain_text(re.compile(r"beantwortet am \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr"))
    expect(item).to_contain_text("3 Stimmen")

    still_open = page.get_by_role("region", name="Freigegeben, noch offen (1)")
    expect(still_open.get_by_role("listitem")).to_have_text(re.compile(re.escape(OPEN) + r"\s+anonym\s+0 Stimmen"))

    poll = page.get_by_role("article", name=POLL)
    expect(poll).to_contain_text("Einfachauswahl · Beendet · 3 Antworten")
    expect(poll.get_by_role("listitem").filter(has_text="Gut")).to_contain_text("2 Stimmen · 66,7\u00a0%")
    expect(poll.get_by_role("listitem").filter(has_text="Schlecht")).to_contain_text("1 Stimme · 33,3\u00a0%")
    expect(poll.locator(".summary-bar-fill").first).to_have_attribute("width", "66.7")

    downloads = page.get_by_role("navigation", name="Herunterladen und Drucken")
    expect(downloads.get_by_role("link", name="Fragen als CSV")).to_have_attribute(
        "href", f"/api/events/{slug}/export.csv?what=questions"
    )
    expect(downloads.get_by_role("link", name="Alles als JSON")).to_have_attribute(
        "href", f"/api/events/{slug}/export.json"
    )
    # The button exists only with script: the static module unhides it.
    expect(downloads.get_by_role("button", name="Drucken")).to_be_visible()


def check_print(page: Page) -> None:
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Herunterladen und Drucken")).to_be_hidden()
    expect(page.get_by_role("button", name="Abmelden")).to_be_hidden()
    expect(page.get_by_text(ANSWERED)).to_be_visible()
    page.emulate_media(media="screen")


def test_summary_from_the_moderator_page_on_a_desktop(
    shared_server: Server,
    viewer: Callable[..., Viewer],
    shared_moderator_token: str,
    shared_moderator_credentials: tuple[str, str],
    pages: Pages,
    tmp_path: Path,
) -> None:
    slug = fill(shared_server, viewer, shared_moderator_token)
    page = log_in(pages, shared_server, f"/e/{slug}/moderate", shared_moderator_credentials, **DESKTOP_SIZE)
    link = page.get_by_role("link", name="Zusammenfassung")
    expect(link).to_have_attribute("href", f"/e/{slug}/summary")
    page.goto(shared_server.url + (link.get_attribute("href") or ""))
    check_summary(page, slug)
    page.screenshot(path=tmp_path / "summary-desktop-1440x900.png", full_page=True)
    check_print(page)


def test_summary_on_a_phone(
    shared_server: Server,
    viewer: Callable[..., Viewer],
    shared_moderator_token: str,
    shared_moderator_credentials: tuple[str, str],
    pages: Pages,
    tmp_path: Path,
) -> None:
    slug = fill(shared_server, viewer, shared_moderator_token)
    # Not logged in yet: the summary sends the moderator to the login form and back.
    page = log_in(pages, shared_server, f"/e/{slug}/summary", shared_moderator_credentials, **PHONE_SIZE)
    check_summary(page, slug)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    page.screenshot(path=tmp_path / "summary-phone-390x844.png", full_page=True)
