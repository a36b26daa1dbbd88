"""WCAG 2.1 AA, checked by axe-core in Chromium on every page, filled with what a live event has on it:
questions in every state, one on air, an open poll, a poll with results, the phases before and after, and
forms showing their errors. On a phone and on a desktop, in German and, for the pages translated so far, English."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from browsing import DESKTOP, PHONE_OPTIONS, Pages
from fixtures import SLUG, Server, Viewer, bearer, csrf_of
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BERLIN = ZoneInfo("Europe/Berlin")

# The page's websocket is open (after the end of the event the badge says "ended" instead of "live").
CONNECTED = "[data-connection][data-state='live'], [data-connection][data-state='ended']"


@pytest.fixture(scope="module")
def live_event(shared_server: Server, shared_admin: httpx.Client, shared_moderator_token: str) -> dict[str, Any]:
    """The demo event in full swing, plus one event still to come and one that is over."""
    with httpx.Client(base_url=shared_server.url, headers=bearer(shared_moderator_token)) as moderator:
        texts = {
            "approved": "Wie unterstützt MiniMOGLI die Schulen in der Pandemie?",
            "answered": "Wann kommt der teilautonome Bus in die Fußgängerzone?",
            "pending": "Welche Projekte helfen kleinen Gemeinden?",
            "rejected": "Das ist alles nur Show!!!",
            "on_air": "Wie sicher sind unsere Daten im Bürgerportal?",
        }
        for status, text in texts.items():
            with httpx.Client(base_url=shared_server.url) as asker:
                asker.get(f"/e/{SLUG}")
                question = asker.post(f"/api/events/{SLUG}/questions", json={"text": text, "name": "Jana"}).json()
            if status == "on_air":
                change: dict[str, Any] = {"highlighted": True}
            elif status == "answered":
                change = {"status": "answered", "answer": "Im Frühjahr, sagt die Stadt."}
            else:
                change = {"status": status}
            if status != "pending":
                assert moderator.patch(f"/api/events/{SLUG}/questions/{question['id']}", json=change).status_code == 200
        poll = moderator.post(
            f"/api/events/{SLUG}/polls",
            json={"title": "Welche Projekte kennen Sie?", "kind": "multiple", "options": ["MiniMOGLI", "Park-App"]},
        ).json()
        moderator.patch(f"/api/events/{SLUG}/polls/{poll['id']}", json={"state": "open"})
        moderator.put(f"/api/events/{SLUG}/screen", json={"mode": "question"})
    now = datetime.now(BERLIN)
    for slug, start, end in (("kommt-noch", 48, 50), ("ist-vorbei", -3, -1)):
        form = {
            "title": f"Netzwerktreffen {slug}",
            "slug": slug,
            "starts_at": (now + timedelta(hours=start)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=end)).strftime("%Y-%m-%dT%H:%M"),
            "recording_url": "https://example.org/aufzeichnung",
            "moderation_mode": "approve",
            "questions_open": "on",
            "names_allowed": "on",
        }
        assert shared_admin.post("/admin/events/new", data={**form, "csrf": csrf_of(shared_admin)}).status_code == 303
    return {"poll": poll}


def submit_empty_event_form(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^(Veranstaltung anlegen|Create event)$")).click()
    page.get_by_role("alert").wait_for()


PAGES: list[tuple[str, bool, Callable[[Page], None] | None]] = [
    # path, needs a moderator login, what to do on the page before checking it
    ("/", False, None),
    (f"/e/{SLUG}", False, None),
    (f"/e/{SLUG}/mitmachen", False, None),
    (f"/e/{SLUG}?lang=en", False, None),
    ("/join?lang=en", False, None),
    ("/login?lang=en", False, None),
    ("/?lang=en", False, None),
    (f"/e/{SLUG}/moderate?lang=en", True, None),
    ("/datenschutz?lang=en", False, None),
    ("/barrierefreiheit?lang=en", False, None),
    (f"/e/{SLUG}/summary?lang=en", True, None),
    ("/admin?lang=en", True, None),
    ("/admin/users?lang=en", True, None),
    ("/admin/users/new?lang=en", True, None),
    ("/admin/events/new?lang=en", True, submit_empty_event_form),
    ("/e/kommt-noch", False, None),
    ("/e/ist-vorbei", False, None),
    ("/join", False, None),
    ("/join?code=XXXXXX", False, None),
    ("/login", False, None),
    ("/datenschutz", False, None),
    ("/barrierefreiheit", False, None),
    ("/e/gibt-es-nicht", False, None),
    (f"/e/{SLUG}/moderate", True, None),
    (f"/e/{SLUG}/present", True, None),
    (f"/e/{SLUG}/summary", True, None),
    ("/admin", True, None),
    ("/admin/users", True, None),
    ("/admin/users/new", True, None),
    (f"/admin/events/{SLUG}", True, None),
    ("/admin/events/new", True, submit_empty_event_form),
]


# Every page at phone and desktop size in German; the English pages share their templates and styles with the German
# ones, so what a translation can break (lang attributes, labels, names) is checked once, at desktop size.
CHECKS = [
    pytest.param(path, logged_in, action, device, id=f"{path}-{device}")
    for path, logged_in, action in PAGES
    for device in (("desktop",) if "lang=en" in path else ("phone", "desktop"))
]


@pytest.mark.parametrize(("path", "logged_in", "action", "device"), CHECKS)
def test_axe_finds_no_wcag_21_aa_violations(
    pages: Pages,
    shared_server: Server,
    shared_admin: httpx.Client,
    live_event: dict[str, Any],
    viewer: Callable[..., Viewer],
    path: str,
    logged_in: bool,
    action: Callable[[Page], None] | None,
    device: str,
) -> None:
    options = PHONE_OPTIONS if device == "phone" else {"viewport": DESKTOP}
    page = pages.open(**options)
    if logged_in:
        cookie = shared_admin.cookies.get("srl_session")
        page.context.add_cookies([{"name": "srl_session", "value": cookie, "url": shared_server.url}])
    # Pages that answer with an error on purpose log that as a console error in Chromium.
    pages.allow_failed_load(f"{shared_server.url}/e/gibt-es-nicht")
    pages.allow_failed_load(f"{shared_server.url}/join?code=")
    pages.allow_failed_load(f"{shared_server.url}/admin/events/new")
    page.goto(f"{shared_server.url}{path}")
    if page.locator("[data-connection]").count():
        page.locator(CONNECTED).wait_for(state="attached")
    if action is not None:
        action(page)
    violations = Axe().run(page, options=WCAG_21_AA).response["violations"]
    report = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in violations]
    assert not violations, f"{path} on a {device}:\n" + "\n".join(report)


def test_the_check_itself_finds_a_violation(pages: Pages, shared_server: Server) -> None:
    """A page with an unlabelled field and low contrast fails: the check above is not silently empty."""
    page = pages.open(f"{shared_server.url}/datenschutz")
    page.evaluate(
        """() => {
        const field = document.createElement("input");
        const faint = document.createElement("p");
        faint.textContent = "kaum lesbar";
        faint.setAttribute("class", "legal-note");
        document.querySelector("main").append(field, faint);
        faint.style.color = "#eeeeee";
    }"""
    )
    found = {v["id"] for v in Axe().run(page, options=WCAG_21_AA).response["violations"]}
    assert {"label", "color-contrast"} <= found


def test_keyboard_alone_asks_and_supports_a_question(
    pages: Pages, shared_server: Server, live_event: dict[str, Any]
) -> None:
    page = pages.open(f"{shared_server.url}/e/{SLUG}")
    page.locator(CONNECTED).wait_for(state="attached")
    page.get_by_label("Ihre Frage", exact=True).focus()
    page.keyboard.type("Gibt es das Programm auch in Leichter Sprache?")
    for _ in range(20):  # Tab on through the form to its button, as a keyboard user would
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Frage senden":
            break
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Danke! Ihre Frage ist angekommen.").wait_for()
    vote = page.get_by_role("button", name=re.compile("^Frage unterstützen")).first
    vote.focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name=re.compile("^Sie unterstützen diese Frage")).first.wait_for()


def test_news_is_announced_without_taking_the_focus(
    pages: Pages, shared_server: Server, viewer: Callable[..., Viewer], shared_moderator_token: str
) -> None:
    page = pages.open(f"{shared_server.url}/e/{SLUG}")
    page.locator(CONNECTED).wait_for(state="attached")
    field = page.get_by_label("Ihre Frage", exact=True)
    field.focus()
    page.keyboard.type("Ich tippe gerade")
    question = viewer().ask("Kommt das Glasfasernetz auch nach Mölschbach?")
    moderator = viewer(headers=bearer(shared_moderator_token))
    moderator.moderate(question["id"], status="approved")
    announcer = page.locator("[data-announcer]")
    expect(announcer).to_have_text("Neue Frage: Kommt das Glasfasernetz auch nach Mölschbach?")
    assert announcer.get_attribute("aria-live") == "polite"
    expect(field).to_be_focused()
    expect(field).to_have_value("Ich tippe gerade")


def test_reduced_motion_is_honoured(pages: Pages, shared_server: Server) -> None:
    page = pages.open(f"{shared_server.url}/e/{SLUG}", reduced_motion="reduce")
    durations = page.evaluate(
        """() => [...document.querySelectorAll("button, .card, .poll-banner")].map(
            (e) => parseFloat(getComputedStyle(e).transitionDuration) || 0)"""
    )
    assert durations
    assert max(durations) <= 0.001, f"transitions of up to {max(durations)}s despite prefers-reduced-motion"
