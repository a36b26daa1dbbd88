"""The citizen's phone in Chromium (issue 15): Q&A first on a 390×844 phone, the end of the event closing the page
while it is open (what someone is typing stays), chapter marks into the recording, no viewer text widening any page,
and no German left on English pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.pofile import read_po
from browsing import Pages, expect_live, log_in
from fixtures import PROJECT_ROOT, Server, Viewer, bearer
from playwright.sync_api import Page, expect
from test_phases import make_event

pytestmark = pytest.mark.browser

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SHOTS = Path("/tmp/shots-citizen")
_numbers = iter(range(1, 10_000))


def shot(page: Page, name: str) -> None:
    """Screenshots to look at (never committed)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    return viewer(headers=bearer(shared_moderator_token))


def live_event(admin: httpx.Client, prefix: str, **fields: str) -> str:
    slug = f"{prefix}-{next(_numbers)}"
    make_event(admin, slug, timedelta(minutes=-10), timedelta(minutes=80), **fields)
    return slug


def on_air(viewer: Callable[..., Viewer], moderator: Viewer, slug: str, text: str, name: str | None = None) -> int:
    question = viewer().ask(text, name=name, slug=slug)
    moderator.moderate(question["id"], slug=slug, status="approved")
    moderator.moderate(question["id"], slug=slug, highlighted=True)
    return int(question["id"])


def bottom(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"] + box["height"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_on_the_phone_page_the_question_on_air_and_the_ask_form_are_in_the_first_screen(
    pages: Pages,
    shared_server: Server,
    shared_admin: httpx.Client,
    viewer: Callable[..., Viewer],
    moderator: Viewer,
    lang: str,
) -> None:
    slug = live_event(shared_admin, "handy", description="Ein Abend über digitale Dörfer. " * 20)
    on_air(viewer, moderator, slug, "Wie kommen kleine Gemeinden an ein Kitaportal?", name="Mehmet")
    page = pages.open(f"{shared_server.url}/e/{slug}/mitmachen?lang={lang}", **PHONE_390)
    expect_live_any(page)
    expect(page.locator("[data-on-air]")).to_be_visible()
    assert bottom(page, "[data-on-air]") <= 844
    assert bottom(page, "[data-ask-form] textarea") <= 844, "the ask form starts in the first screen"
    shot(page, f"mitmachen-{lang}-phone")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_on_the_event_page_a_section_bar_reaches_stream_questions_and_polls(
    pages: Pages,
    shared_server: Server,
    shared_admin: httpx.Client,
    viewer: Callable[..., Viewer],
    moderator: Viewer,
    lang: str,
) -> None:
    slug = live_event(
        shared_admin, "leiste", youtube_url="https://www.youtube.com/watch?v=abcdefghijk", description="Text. " * 80
    )
    on_air(viewer, moderator, slug, "Wo fährt der Bus ohne Fahrer?")
    poll = moderator.http.post(f"/api/events/{slug}/polls", json={"title": "Wie gut ist das Netz?", "kind": "rating"})
    moderator.http.patch(f"/api/events/{slug}/polls/{poll.json()['id']}", json={"state": "open"})
    page = pages.open(f"{shared_server.url}/e/{slug}?lang={lang}", **PHONE_390)
    expect_live_any(page)
    form = page.locator("[data-ask-form]")
    form_box = form.bounding_box()
    assert form_box is not None
    assert form_box["y"] < 2 * 844, "the ask form is within the first two screens"
    names = {"de": ("Stream", "Fragen", "Umfragen"), "en": ("Stream", "Questions", "Polls")}[lang]
    bar = page.get_by_role("navigation", name={"de": "Bereiche der Seite", "en": "Parts of the page"}[lang])
    for name in names:
        expect(bar.get_by_role("link", name=name, exact=True)).to_be_visible()
    bar.get_by_role("link", name=names[1], exact=True).click()
    expect(page.locator("#qa-heading")).to_be_in_viewport()
    bar.get_by_role("link", name=names[2], exact=True).click()
    expect(page.locator("#polls-heading")).to_be_in_viewport()
    # The bar stays at the top of the screen while the page scrolls.
    box = bar.bounding_box()
    assert box is not None
    assert box["y"] <= 1
    shot(page, f"viewer-{lang}-phone")


def test_a_finished_poll_is_one_line_and_the_banner_leaves_once_answered(
    pages: Pages, shared_server: Server, shared_admin: httpx.Client, moderator: Viewer
) -> None:
    slug = live_event(shared_admin, "banner")
    page = pages.open(f"{shared_server.url}/e/{slug}", **PHONE_390)
    expect_live_any(page)
    created = moderator.http.post(
        f"/api/events/{slug}/polls",
        json={"title": "Welches Projekt zuerst?", "kind": "single", "options": ["Kitaportal", "Bürgerbüro"]},
    ).json()
    moderator.http.patch(f"/api/events/{slug}/polls/{created['id']}", json={"state": "open"})
    banner = page.locator("[data-poll-banner]")
    expect(banner).to_be_visible()
    # Answer from the page without following the banner (it must not stay pinned once answered).
    page.locator(f"#poll-{created['id']}").get_by_role("button", name="Kitaportal").click()
    expect(page.locator(f"#poll-{created['id']}")).to_contain_text("Ihre Antwort wurde gezählt.")
    expect(banner).to_be_hidden()

    moderator.http.patch(f"/api/events/{slug}/polls/{created['id']}", json={"state": "closed"})
    card = page.locator(f"#poll-{created['id']}")
    expect(card.locator("summary")).to_contain_text("Umfrage beendet")
    # Closed while the viewer watched: it stays unfolded with its final result.
    expect(card.locator(".poll-total")).to_be_visible()
    expect(card).to_contain_text("Ihre Antwort: Kitaportal")
    # Finished before the page was opened (here on another phone): one line, unfolded with a tap.
    page = pages.open(f"{shared_server.url}/e/{slug}", **PHONE_390)
    card = page.locator(f"#poll-{created['id']}")
    expect(card.locator("summary")).to_contain_text("Umfrage beendet")
    expect(card.locator(".poll-total")).to_be_hidden()
    box = card.bounding_box()
    assert box is not None
    assert box["height"] < 90, "a finished poll is collapsed to one line"
    card.locator("summary").click()
    expect(card.locator(".poll-total")).to_be_visible()
    expect(card).to_contain_text("Kitaportal: 1 Stimme")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_end_closes_the_open_page_and_keeps_what_someone_is_typing(
    pages: Pages,
    shared_server: Server,
    shared_admin: httpx.Client,
    viewer: Callable[..., Viewer],
    moderator: Viewer,
    lang: str,
) -> None:
    slug = f"ende-{lang}-{next(_numbers)}"
    make_event(
        shared_admin, slug, timedelta(hours=-2), timedelta(minutes=-1),
        recording_url="https://www.youtube.com/watch?v=abcdefghijk",
    )  # fmt: skip
    moderator.http.post(f"/api/events/{slug}/questions/reopen", json={"minutes": 30})
    answered = viewer().ask("Wann kommt das Glasfaser nach Eisenberg?", slug=slug)
    moderator.moderate(answered["id"], slug=slug, status="answered")

    idle = pages.open(f"{shared_server.url}/e/{slug}?lang={lang}", **PHONE_390)
    typing = pages.open(f"{shared_server.url}/e/{slug}?lang={lang}")
    for page in (idle, typing):
        expect_live_any(page)
        expect(page.locator("[data-ask-form]")).to_be_visible()
        expect(page.locator("[data-questions-reopened]")).to_be_visible()
    typing.locator("#question-text").fill("Eine Frage, die ich gerade schreibe")

    moderator.http.post(f"/api/events/{slug}/questions/reopen", json={"minutes": 0})
    ended = {"de": "Es werden keine neuen Fragen mehr angenommen", "en": "no more new questions are being taken"}[lang]
    for page in (idle, typing):
        expect(page.locator('[data-closed-reason="ended"]')).to_contain_text(ended)
        expect(page.locator("[data-reactions]")).to_be_hidden()
        badge = {"de": "Die Veranstaltung ist beendet", "en": "The event has ended"}[lang]
        expect(page.locator("[data-connection]")).to_have_text(badge)
    expect(idle.locator("[data-ask-form]")).to_be_hidden()
    expect(typing.locator("#question-text")).to_have_value("Eine Frage, die ich gerade schreibe")

    chapter = idle.locator("[data-chapters] a")
    expect(chapter).to_have_count(1)
    href = chapter.get_attribute("href") or ""
    assert re.fullmatch(r"https://www\.youtube\.com/watch\?v=abcdefghijk&t=7\d{3}s", href), href
    shot(idle, f"after-{lang}-phone")


# --- any text, any script -------------------------------------------------------------------------------------

LONG_NAME = "Maximiliane" * 5 + "Mustermann"[:5]  # 60 characters without a break
LONG_WORD = "Breitbandausbauförderungsrichtlinienumsetzungsverordnungen12"  # 60 characters
ARABIC = "متى سيصل الإنترنت السريع إلى القرى الصغيرة في المنطقة؟"
HEBREW = "מתי יגיע האינטרנט המהיר לכפרים הקטנים?"
EMOJI = "🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌🚌 Wann fährt der Bus? 👍🏽👍🏽👍🏽"


def studio_link(server: Server, moderator: Viewer, slug: str, view: str) -> str:
    """The path (with its key) of a studio view of the event, as a moderator hands it to the studio."""
    response = moderator.http.post(f"/api/events/{slug}/studio-links", json={"view": view, "label": f"Test {view}"})
    assert response.status_code == 201, response.text
    return re.sub(r"^https?://[^/]+", "", response.json()["url"])


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def too_wide(page: Page, width: int = 360) -> str:
    """The elements that reach beyond `width`, for the failure message."""
    return str(
        page.evaluate(
            """(width) => [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > width + 1
                || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'))
              .map(e => e.tagName + '.' + e.className).slice(0, 12)""",
            width,
        )
    )


def test_no_viewer_text_widens_any_page(
    pages: Pages,
    shared_server: Server,
    shared_admin: httpx.Client,
    shared_moderator_credentials: tuple[str, str],
    viewer: Callable[..., Viewer],
    moderator: Viewer,
) -> None:
    assert len(LONG_NAME) == 60
    assert len(LONG_WORD) == 60
    slug = live_event(shared_admin, "breit")
    for text, name in ((LONG_WORD + " " + LONG_WORD, LONG_NAME), (ARABIC, None), (HEBREW, LONG_NAME), (EMOJI, None)):
        question = viewer().ask(text, name=name, slug=slug)
        moderator.moderate(question["id"], slug=slug, status="approved")
    pending = viewer().ask(LONG_WORD * 2, name=LONG_NAME, slug=slug)
    on_air_id = on_air(viewer, moderator, slug, LONG_WORD * 3, name=LONG_NAME)
    poll = moderator.http.post(
        f"/api/events/{slug}/polls", json={"title": LONG_WORD * 2, "kind": "single", "options": [LONG_WORD, "x" * 100]}
    ).json()
    moderator.http.patch(f"/api/events/{slug}/polls/{poll['id']}", json={"state": "open"})
    words = moderator.http.post(f"/api/events/{slug}/polls", json={"title": "Ein Wort?", "kind": "words"}).json()
    moderator.http.patch(f"/api/events/{slug}/polls/{words['id']}", json={"state": "open"})
    voter = viewer()
    assert voter.http.post(f"/api/events/{slug}/polls/{words['id']}/votes", json={"text": "w" * 40}).status_code == 201
    assert pending["status"] == "pending"
    assert on_air_id

    narrow = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
    studio = {view: studio_link(shared_server, moderator, slug, view) for view in ("present", "overlay")}
    for path in (f"/e/{slug}", f"/e/{slug}/mitmachen", "/", studio["present"]):
        page = pages.open(f"{shared_server.url}{path}", **narrow)
        page.wait_for_load_state("networkidle")
        if path.startswith(f"/e/{slug}") and "present" not in path:
            expect(page.locator("[data-public-list] li")).to_have_count(5)
            texts = page.locator("[data-public-list] .question-text")
            assert texts.evaluate_all("els => els.every(e => e.dir === 'auto')"), "user text carries dir=auto"
            arabic = page.locator("[data-public-list] .question-text", has_text=ARABIC)
            assert arabic.evaluate("e => getComputedStyle(e).direction") == "rtl"
        assert page_width(page) <= 360, f"{path} is {page_width(page)} px wide at 360 px: {too_wide(page)}"
        shot(page, "width" + path.split("?")[0].replace("/", "-"))
    for path in studio.values():
        page = pages.open(f"{shared_server.url}{path}", viewport={"width": 1280, "height": 720})
        page.wait_for_load_state("networkidle")
        assert page_width(page) <= 1280, f"{path} is {page_width(page)} px wide at 1280 px: {too_wide(page, 1280)}"

    # The moderator's page and the page the form without JavaScript answers with.
    moderation = log_in(pages, shared_server, f"/e/{slug}/moderate", shared_moderator_credentials, **narrow)
    expect_live(moderation)
    expect(moderation.locator(".question-text", has_text=LONG_WORD * 2).first).to_be_visible()
    assert page_width(moderation) <= 360, (
        f"the moderator page is {page_width(moderation)} px wide: {too_wide(moderation)}"
    )
    no_js = pages.open(f"{shared_server.url}/e/{slug}", java_script_enabled=False, **narrow)
    no_js.locator("#question-text").fill(LONG_WORD * 2)
    no_js.locator("#question-name").fill(LONG_NAME)
    no_js.get_by_role("button", name="Frage senden").click()
    expect(no_js.get_by_role("heading", name="Danke! Ihre Frage ist angekommen.")).to_be_visible()
    assert page_width(no_js) <= 360, f"the page after asking is {page_width(no_js)} px wide: {too_wide(no_js)}"


def expect_live_any(page: Page) -> None:
    """Connected, in either language (expect_live reads the German badge)."""
    expect(page.locator('[data-connection][data-state="live"], [data-connection][data-state="ended"]')).to_be_visible()


# --- English complete -----------------------------------------------------------------------------------------


def german_catalogue_texts() -> list[str]:
    """Every German text of the catalogue that English pages must not show (translated to something else)."""
    with (PROJECT_ROOT / "smartrlp" / "locale" / "en.po").open("rb") as file:
        catalogue = read_po(file)
    texts = []
    for message in catalogue:
        if not message.id or not isinstance(message.id, str) or message.string == message.id:
            continue
        # The fixed part before any placeholder, long enough not to be a name or a word English shares.
        fixed = re.split(r"\{\w+\}|%\(\w+\)s", message.id)[0].strip()
        if len(fixed) >= 12 and " " in fixed:
            texts.append(fixed)
    return texts


def german_on(page: Page, texts: list[str]) -> list[str]:
    shown = page.evaluate(
        """() => [document.body.innerText,
          ...[...document.querySelectorAll('[aria-label],[title],[placeholder]')].flatMap(e =>
            [e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('placeholder')]),
          ...[...document.querySelectorAll('.visually-hidden')].map(e => e.textContent)].join('\\n')"""
    )
    return [text for text in texts if text in shown]


def test_english_pages_show_no_german_in_any_phase_or_state(
    pages: Pages,
    shared_server: Server,
    shared_admin: httpx.Client,
    viewer: Callable[..., Viewer],
    moderator: Viewer,
) -> None:
    texts = german_catalogue_texts()
    assert len(texts) > 100
    live = live_event(shared_admin, "english", youtube_url="https://www.youtube.com/watch?v=abcdefghijk")
    on_air(viewer, moderator, live, "Question on air")
    running = moderator.http.post(
        f"/api/events/{live}/polls", json={"title": "Running poll", "kind": "single", "options": ["One", "Two"]}
    ).json()
    moderator.http.patch(f"/api/events/{live}/polls/{running['id']}", json={"state": "open"})
    finished = moderator.http.post(
        f"/api/events/{live}/polls", json={"title": "Finished poll", "kind": "rating"}
    ).json()
    moderator.http.patch(f"/api/events/{live}/polls/{finished['id']}", json={"state": "open"})
    voter = viewer()
    voter.http.post(f"/api/events/{live}/polls/{running['id']}/votes", json={"options": [running["options"][0]["id"]]})
    voter.http.post(f"/api/events/{live}/polls/{finished['id']}/votes", json={"value": 4})
    moderator.http.patch(f"/api/events/{live}/polls/{finished['id']}", json={"state": "closed"})

    before = f"english-before-{next(_numbers)}"
    make_event(shared_admin, before, timedelta(days=2), timedelta(days=2, hours=2))
    after = f"english-after-{next(_numbers)}"
    make_event(
        shared_admin, after, timedelta(hours=-2), timedelta(minutes=-1),
        recording_url="https://www.youtube.com/watch?v=abcdefghijk",
    )  # fmt: skip
    moderator.http.post(f"/api/events/{after}/questions/reopen", json={"minutes": 30})
    answered = viewer().ask("An answered question", slug=after)
    moderator.moderate(answered["id"], slug=after, status="answered", answer="A written answer")
    moderator.http.post(f"/api/events/{after}/questions/reopen", json={"minutes": 0})

    found: dict[str, list[str]] = {}
    states: list[tuple[str, str, dict[str, Any]]] = [
        ("live, poll running and results, on air", f"/e/{live}", {}),
        ("live on the phone", f"/e/{live}/mitmachen", PHONE_390),
        ("before the start", f"/e/{before}", {}),
        ("after the end", f"/e/{after}", PHONE_390),
        ("home", "/", {}),
    ]
    for state, path, options in states:
        page = pages.open(f"{shared_server.url}{path}?lang=en", **options)
        expect_live_any(page) if path != "/" else page.wait_for_load_state("networkidle")
        if path == f"/e/{live}":
            expect(page.locator(f"#poll-{running['id']}")).to_contain_text("Interim result")
            page.locator(f"#poll-{finished['id']} summary").click()
            expect(page.locator(f"#poll-{finished['id']}")).to_contain_text("Final result")
            page.locator("[data-public-list] .vote").first.click()
        german = german_on(page, texts)
        if german:
            found[state] = german
        shot(page, "english-" + state.split(",")[0].replace(" ", "-"))
    # Asked without JavaScript, in English.
    no_js = pages.open(f"{shared_server.url}/e/{live}?lang=en", java_script_enabled=False)
    no_js.locator("#question-text").fill("Asked without scripts")
    no_js.get_by_role("button", name="Send question").click()
    expect(no_js.get_by_role("heading", name="Thank you! Your question has arrived.")).to_be_visible()
    if german := german_on(no_js, texts):
        found["after asking without JavaScript"] = german
    assert not found, f"German on English pages: {found}"
