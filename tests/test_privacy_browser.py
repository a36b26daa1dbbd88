"""Privacy by design in a real browser (Debian's Chromium through Playwright) against the real server.

The viewer page must not contact anybody but its own server until the viewer asks for the stream, and then only
youtube-nocookie.com. Requests there are aborted in the browser, so nothing leaves the machine. Any console error,
uncaught page error or dialog fails the test (see `Pages` in browsing.py).
"""

from __future__ import annotations

import re

import pytest
from browsing import PHONE_OPTIONS, Pages, expect_live
from fixtures import SLUG, Server
from playwright.sync_api import WebSocket, expect

pytestmark = pytest.mark.browser

NOCOOKIE = re.compile(r"^https://www\.youtube-nocookie\.com/")


def test_the_viewer_page_talks_only_to_its_own_server_until_the_viewer_consents(
    pages: Pages, shared_server: Server
) -> None:
    page = pages.open()
    requested: list[str] = []
    sockets: list[str] = []
    # Registered before the page loads: every request of the page and its frames, from the first one on.
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.route(NOCOOKIE, lambda route: route.abort())
    # The aborted frame is the browser's own doing, not the page's.
    pages.allow_failed_load("https://www.youtube-nocookie.com/")

    with page.expect_websocket() as opened:
        page.goto(f"{shared_server.url}/e/{SLUG}")
    expect_live(page)
    socket: WebSocket = opened.value

    page.mouse.wheel(0, 1500)
    page.wait_for_function("window.scrollY > 0")
    page.get_by_label("Ihre Frage").fill("Bleiben meine Daten hier?")
    # The question goes over the page's own websocket (HTTP is only the fallback).
    with socket.expect_event("framesent", lambda payload: '"ask"' in str(payload)):
        page.get_by_role("button", name="Frage senden", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Danke! Ihre Frage ist angekommen.")).to_be_visible()
    with socket.expect_event("framesent", lambda payload: '"react"' in str(payload)):
        page.get_by_role("button", name="Applaus", exact=True).click()
    page.wait_for_load_state("networkidle")

    own = f"{shared_server.url}/"
    assert any(url.startswith(f"{own}static/js/") for url in requested), requested
    assert [url for url in requested if not url.startswith(own)] == []
    assert sockets == [f"{shared_server.ws_url}/ws/events/{SLUG}"]
    assert page.locator("iframe").count() == 0

    # Only the viewer's own click loads the stream, and then from youtube-nocookie.com alone.
    before = len(requested)
    with page.expect_request(NOCOOKIE) as frame_request:
        page.get_by_role("button", name="Livestream von YouTube laden").click()
    assert frame_request.value.url.startswith("https://www.youtube-nocookie.com/embed/")
    assert frame_request.value.resource_type == "document"
    expect(page.locator("iframe[title='Livestream auf YouTube']")).to_have_attribute("src", NOCOOKIE)
    foreign = [url for url in requested[before:] if not url.startswith(own)]
    assert foreign, requested[before:]
    assert all(NOCOOKIE.match(url) for url in foreign), foreign


def test_the_footer_leads_to_the_legal_pages_and_they_fit_a_phone(pages: Pages, shared_server: Server) -> None:
    page = pages.open(f"{shared_server.url}/e/{SLUG}", **PHONE_OPTIONS)
    expect_live(page)
    footer = page.get_by_role("contentinfo")
    legal = footer.get_by_role("navigation", name="Rechtliches")
    for link, heading in (
        ("Datenschutz", "Datenschutzerklärung"),
        ("Barrierefreiheit", "Erklärung zur Barrierefreiheit"),
    ):
        legal.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1, name=heading, exact=True)).to_be_visible()
        # Nothing may stick out sideways at 360 pixels: text reflows instead (WCAG 1.4.10).
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), heading
        box = page.get_by_role("contentinfo").get_by_role("link", name=link, exact=True).bounding_box()
        assert box is not None
        assert box["height"] >= 44, box
        page.go_back()
        expect_live(page)
