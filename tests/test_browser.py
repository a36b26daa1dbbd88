"""The pages in a real browser (Debian's Chromium through Playwright) against the real server.

Each test opens its own browser contexts (one per person: viewers, moderators), works through the pages as
a person would and checks what that person would see. Any console error, uncaught page error or dialog fails
the test (see `Pages` in browsing.py). Nothing sleeps: every wait is Playwright's auto-waiting or `wait_until`,
both with deadlines.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from browsing import PHONE, Pages, expect_live, log_in_and_moderate, new_event
from fixtures import SLUG, Server, Viewer, add_moderator, bearer, wait_until
from playwright.sync_api import Locator, Page, Route, expect

pytestmark = pytest.mark.browser

RECONNECT_WAIT = 30_000  # ms: the page retries with a growing, jittered backoff


# ---------------------------------------------------------------- server-side helpers


@pytest.fixture(scope="module")
def second_moderator_credentials(shared_server: Server) -> tuple[str, str]:
    name, password = "zweite-moderatorin", "correct horse zweite"
    add_moderator(shared_server, name, password)
    return name, password


@pytest.fixture
def staff(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    """A moderator working through the API with a bearer token, on the shared server."""
    return viewer(headers=bearer(shared_moderator_token))


# ---------------------------------------------------------------- what people see


def connection_status(page: Page, text: str) -> Locator:
    return page.get_by_role("status").filter(has_text=text)


def open_viewer(pages: Pages, server: Server, slug: str, **options: Any) -> Page:
    page = pages.open(f"{server.url}/e/{slug}", **options)
    expect_live(page)
    return page


def public_questions(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile(r"^Fragen aus dem Publikum")).get_by_role("listitem")


def my_questions(page: Page) -> Locator:
    return page.get_by_role("region", name="Meine Fragen", exact=True).get_by_role("listitem")


def on_air_box(page: Page) -> Locator:
    return page.locator("[data-on-air]")


def on_air_panel(moderator: Page) -> Locator:
    """The moderator page's box for the question on air."""
    return moderator.get_by_role("region", name="Auf Sendung", exact=True)


def column(page: Page, heading: str) -> Locator:
    """A list of the moderator console: the inbox ("Eingang 3": the name ends in a count), or the tab of that name
    beside it ("Freigegeben", "Beantwortet", "Nicht angenommen"), which is chosen first so that its cards show."""
    name = re.compile(rf"^{re.escape(heading)} \d+$")
    if heading == "Eingang":
        return page.locator("section").filter(has=page.get_by_role("heading", name=name))
    page.get_by_role("tab", name=name).click()
    return page.get_by_role("tabpanel", name=name)


def cards(page: Page, heading: str) -> Locator:
    return column(page, heading).get_by_role("listitem")


def count_in(page: Page, heading: str) -> Locator:
    name = re.compile(rf"^{re.escape(heading)} \d+$")
    return page.get_by_role("heading", name=name).or_(page.get_by_role("tab", name=name))


def mark_page(page: Page) -> None:
    """Set a flag in the page's JavaScript world; `assert_not_reloaded` proves the page was never reloaded."""
    page.evaluate("window.__notReloaded = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"


def ask_through_form(page: Page, text: str, name: str | None = None) -> None:
    page.get_by_label("Ihre Frage").fill(text)
    if name is not None:
        page.get_by_label(re.compile(r"^Ihr Name")).fill(name)
    page.get_by_role("button", name="Frage senden", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Danke! Ihre Frage ist angekommen.")).to_be_visible()


# ---------------------------------------------------------------- 1. the whole way of a question


def test_a_question_goes_from_asker_through_moderation_to_air_and_answer(
    pages: Pages, shared_server: Server, shared_moderator_credentials: tuple[str, str]
) -> None:
    slug = new_event(shared_server, "Bürgerdialog Mobilität")
    text = "Wann fährt der autonome Shuttle auch am Wochenende?"
    moderator = log_in_and_moderate(pages, shared_server, slug, shared_moderator_credentials)
    asker = open_viewer(pages, shared_server, slug)
    bystander = open_viewer(pages, shared_server, slug)
    for page in (moderator, asker, bystander):
        mark_page(page)

    ask_through_form(asker, text, name="Erika")
    mine = my_questions(asker).filter(has_text=text)
    expect(mine).to_contain_text("Wartet auf Freigabe")
    expect(mine).to_contain_text("Erika")
    expect(public_questions(asker)).to_have_count(0)
    expect(asker.get_by_label("Ihre Frage")).to_have_value("")

    pending = cards(moderator, "Eingang").filter(has_text=text)
    expect(pending).to_be_visible()
    expect(count_in(moderator, "Eingang")).to_have_text("Eingang 1")
    expect(public_questions(bystander)).to_have_count(0)

    pending.get_by_role("button", name="Freigeben", exact=True).click()
    approved = cards(moderator, "Freigegeben").filter(has_text=text)
    expect(approved).to_be_visible()
    expect(cards(moderator, "Eingang")).to_have_count(0)
    for viewer_page in (bystander, asker):
        expect(public_questions(viewer_page).filter(has_text=text)).to_be_visible()
    expect(mine).to_contain_text("Freigegeben")
    expect(mine).not_to_contain_text("Wartet auf Freigabe")

    approved.get_by_role("button", name="Auf Sendung", exact=True).click()
    expect(on_air_panel(moderator)).to_contain_text(text)
    for viewer_page in (bystander, asker):
        expect(on_air_box(viewer_page)).to_be_visible()
        expect(on_air_box(viewer_page)).to_contain_text("Jetzt auf Sendung")
        expect(on_air_box(viewer_page)).to_contain_text(text)
        expect(on_air_box(viewer_page)).to_contain_text("Gefragt von Erika")
        expect(public_questions(viewer_page).filter(has_text=text)).to_contain_text("Auf Sendung")

    on_air_panel(moderator).get_by_role("button", name="Beantwortet", exact=True).click()
    expect(cards(moderator, "Beantwortet").filter(has_text=text)).to_have_count(1)
    expect(on_air_panel(moderator)).to_contain_text("Zurzeit ist keine Frage auf Sendung.")
    for viewer_page in (bystander, asker):
        item = public_questions(viewer_page).filter(has_text=text)
        expect(item).to_contain_text("Beantwortet")
        expect(item).not_to_contain_text("Auf Sendung")
        expect(on_air_box(viewer_page)).to_be_hidden()
        # An answered question takes no more votes.
        expect(item.locator("[data-action='vote']")).to_be_disabled()
    expect(mine).to_contain_text("Beantwortet")
    for page in (moderator, asker, bystander):
        assert_not_reloaded(page)


# ---------------------------------------------------------------- 2. the server restarts


def test_the_viewer_page_rides_out_a_server_restart_and_catches_up(
    pages: Pages, server: Server, viewer: Callable[..., Viewer], moderator_token: str
) -> None:
    # While the server is down, Chromium itself logs every refused reconnection attempt; that is expected here.
    pages.allow_console(r"^WebSocket connection to 'ws://127\.0\.0\.1:\d+/ws/events/[^']+' failed")
    sockets: list[str] = []
    page = pages.open()
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(f"{server.url}/e/{SLUG}")
    expect_live(page)
    mark_page(page)
    before = viewer().ask("Eine Frage von vor dem Neustart")
    viewer(headers=bearer(moderator_token)).moderate(before["id"], status="approved")
    expect(public_questions(page).filter(has_text="Eine Frage von vor dem Neustart")).to_be_visible()

    server.stop()
    expect(connection_status(page, "Verbindung unterbrochen")).to_be_visible()

    # While the server is down, changes are made in the same database through a stand-in process on another
    # port; the page cannot hear of them live and must fetch them by resuming from its last sequence number.
    stand_in = Server(server.directory, db=server.db).start()
    try:
        with contextlib.ExitStack() as stack:
            asker = Viewer(stand_in, stack)
            missed = asker.ask("Verpasst während des Neustarts?")
            Viewer(stand_in, stack, headers=bearer(moderator_token)).moderate(missed["id"], status="approved")
    finally:
        stand_in.stop()
    stand_in.assert_clean_log()
    expect(public_questions(page).filter(has_text="Verpasst")).to_have_count(0)
    expect(connection_status(page, "Verbindung unterbrochen")).to_be_visible()

    server.start()
    expect_live(page, timeout=RECONNECT_WAIT)
    expect(public_questions(page).filter(has_text="Verpasst während des Neustarts?")).to_be_visible()
    expect(public_questions(page)).to_have_count(2)
    expect(page.get_by_text("Verbindung unterbrochen")).to_have_count(0)
    assert re.search(r"[?&]since=\d+$", sockets[-1]), f"the page reconnected without resuming: {sockets}"

    # And the new connection carries live changes again.
    after = viewer().ask("Und eine Frage nach dem Neustart")
    viewer(headers=bearer(moderator_token)).moderate(after["id"], status="approved")
    expect(public_questions(page).filter(has_text="Und eine Frage nach dem Neustart")).to_be_visible()
    assert_not_reloaded(page)


# ---------------------------------------------------------------- 3. privacy of the stream embeds


def test_video_providers_load_only_after_consent_which_is_remembered_and_revocable(
    pages: Pages, shared_server: Server
) -> None:
    page = pages.open()
    foreign: list[str] = []  # requests that left the server, in order

    def record(request: Any) -> None:
        if not request.url.startswith(shared_server.url):
            foreign.append(request.url)

    def abort(route: Route) -> None:
        # No internet here, and no need for it: the request having been made is what counts.
        route.abort()

    page.context.on("request", record)
    page.context.route(lambda url: not url.startswith(shared_server.url), abort)

    page.goto(f"{shared_server.url}/e/{SLUG}")
    expect_live(page)
    youtube = page.get_by_role("button", name="YouTube", exact=True)
    facebook = page.get_by_role("button", name="Facebook", exact=True)
    expect(youtube).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text("Livestream auf YouTube", exact=True)).to_be_visible()
    expect(page.get_by_text("YouTube (Google Ireland Limited)")).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert foreign == [], f"requests before any consent: {foreign}"

    # Switching provider before consenting shows the other placeholder and loads nothing either.
    facebook.click()
    expect(facebook).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text("Livestream auf Facebook", exact=True)).to_be_visible()
    expect(page.get_by_text("Facebook (Meta Platforms Ireland Limited)")).to_be_visible()
    expect(page.get_by_role("button", name="Livestream von Facebook laden", exact=True)).to_be_visible()
    expect(page.get_by_text("Livestream auf YouTube", exact=True)).to_be_hidden()
    youtube.click()
    expect(page.get_by_text("Livestream auf YouTube", exact=True)).to_be_visible()
    assert foreign == [], f"requests before any consent: {foreign}"

    # Remembering is a choice of its own: the box starts unticked (an active consent), the viewer ticks it.
    remember = page.get_by_role("checkbox", name="Auswahl auf diesem Gerät merken")
    expect(remember).not_to_be_checked()
    remember.check()
    page.get_by_role("button", name="Livestream von YouTube laden", exact=True).click()
    player = page.get_by_title("Livestream auf YouTube")
    expect(player).to_have_attribute("src", re.compile(r"^https://www\.youtube-nocookie\.com/embed/[\w-]{11}\?"))
    expect(page.get_by_role("button", name="Livestream von YouTube laden", exact=True)).to_be_hidden()
    wait_until(lambda: foreign, what="the YouTube embed to be requested")
    assert all(url.startswith("https://www.youtube-nocookie.com/") for url in foreign), foreign

    # With YouTube allowed, Facebook still needs its own consent.
    facebook.click()
    expect(page.get_by_role("button", name="Livestream von Facebook laden", exact=True)).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    assert not [url for url in foreign if "facebook" in url or "fbcdn" in url], foreign
    youtube.click()
    expect(player).to_be_visible()

    # The choice is remembered on this device.
    page.reload()
    expect_live(page)
    expect(player).to_have_attribute("src", re.compile(r"^https://www\.youtube-nocookie\.com/embed/"))
    expect(page.get_by_role("button", name="Livestream von YouTube laden", exact=True)).to_be_hidden()

    # ... and can be withdrawn; afterwards nothing loads any more, not even after a reload.
    page.get_by_role("button", name="Video-Zustimmung auf diesem Gerät widerrufen", exact=True).click()
    expect(page.locator("iframe")).to_have_count(0)
    expect(page.get_by_role("button", name="Livestream von YouTube laden", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Video-Zustimmung auf diesem Gerät widerrufen", exact=True)).to_be_hidden()
    requests_before = len(foreign)
    page.reload()
    expect_live(page)
    page.wait_for_load_state("networkidle")
    expect(page.locator("iframe")).to_have_count(0)
    expect(page.get_by_role("button", name="Livestream von YouTube laden", exact=True)).to_be_visible()
    assert foreign[requests_before:] == [], f"requests after withdrawing consent: {foreign[requests_before:]}"

    # Consent to Facebook loads its plugin, on Facebook's own host, and nothing from YouTube.
    facebook.click()
    page.get_by_role("checkbox", name="Auswahl auf diesem Gerät merken").uncheck()
    page.get_by_role("button", name="Livestream von Facebook laden", exact=True).click()
    expect(page.get_by_title("Livestream auf Facebook")).to_have_attribute(
        "src", re.compile(r"^https://www\.facebook\.com/plugins/video\.php\?")
    )
    wait_until(lambda: len(foreign) > requests_before, what="the Facebook embed to be requested")
    assert all(url.startswith("https://www.facebook.com/") for url in foreign[requests_before:]), foreign
    # Not remembered this time: after a reload the placeholder is back.
    page.reload()
    facebook.click()
    expect(page.get_by_role("button", name="Livestream von Facebook laden", exact=True)).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)


# ---------------------------------------------------------------- 4. upvotes


def test_a_viewer_can_upvote_a_question_once(
    pages: Pages, shared_server: Server, viewer: Callable[..., Viewer], staff: Viewer
) -> None:
    slug = new_event(shared_server, "Haushalt 2026")
    text = "Wie viel Geld fließt in die Radwege?"
    question = viewer().ask(text, slug=slug)
    staff.moderate(question["id"], slug=slug, status="approved")
    supporter = viewer()
    assert supporter.http.post(f"/api/events/{slug}/questions/{question['id']}/votes").status_code == 200

    page = open_viewer(pages, shared_server, slug)
    item = public_questions(page).filter(has_text=text)
    vote = item.get_by_role("button", name=re.compile(r"^Frage unterstützen"))
    expect(vote).to_be_enabled()
    expect(vote).to_have_attribute("aria-pressed", "false")
    expect(vote).to_have_text(re.compile(r"1$"))

    vote.click()
    voted = item.get_by_role("button", name=re.compile(r"^Sie unterstützen diese Frage"))
    expect(voted).to_have_text(re.compile(r"2$"))
    expect(voted).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text("Ihre Stimme wurde gezählt.")).to_be_attached()
    assert staff.questions(slug=slug)[0]["votes"] == 2

    page.reload()
    expect_live(page)
    expect(voted).to_have_text(re.compile(r"2$"))
    expect(voted).to_have_attribute("aria-pressed", "true")
    expect(item.get_by_role("button", name=re.compile(r"^Frage unterstützen"))).to_have_count(0)
    # A second vote sent with this browser's cookies is not counted again.
    again = page.request.post(f"{shared_server.url}/api/events/{slug}/questions/{question['id']}/votes")
    assert again.ok, again.text()
    assert again.json()["counted"] is False
    assert staff.questions(slug=slug)[0]["votes"] == 2

    # Pressing the pressed button takes the vote back (and it can be given again).
    voted.click()
    expect(page.get_by_text("Ihre Stimme wurde zurückgenommen.")).to_be_attached()
    unvoted = item.get_by_role("button", name=re.compile(r"^Frage unterstützen"))
    expect(unvoted).to_have_attribute("aria-pressed", "false")
    expect(unvoted).to_have_text(re.compile(r"1$"))
    assert staff.questions(slug=slug)[0]["votes"] == 1
    unvoted.click()
    expect(voted).to_have_text(re.compile(r"2$"))


def test_the_vote_button_label_uses_the_singular_for_one_vote(
    pages: Pages, shared_server: Server, viewer: Callable[..., Viewer], staff: Viewer
) -> None:
    slug = new_event(shared_server, "Einzahl")
    question = viewer().ask("Eine Stimme oder eine Stimmen?", slug=slug)
    staff.moderate(question["id"], slug=slug, status="approved")
    assert viewer().http.post(f"/api/events/{slug}/questions/{question['id']}/votes").status_code == 200
    page = open_viewer(pages, shared_server, slug)
    expect(page.get_by_role("button", name="Frage unterstützen. Bisher 1 Stimme", exact=True)).to_be_visible(
        timeout=3_000
    )


# ---------------------------------------------------------------- 5. escaping


def test_question_text_that_looks_like_html_is_shown_as_text(
    pages: Pages, shared_server: Server, shared_moderator_credentials: tuple[str, str]
) -> None:
    slug = new_event(shared_server, "Sicherheit")
    text = "<img src=x onerror=alert(1)> & <script>alert(2)</script>"
    name = "<b>Mallory</b>"
    moderator = log_in_and_moderate(pages, shared_server, slug, shared_moderator_credentials)
    asker = open_viewer(pages, shared_server, slug)
    bystander = open_viewer(pages, shared_server, slug)

    ask_through_form(asker, text, name=name)
    expect(my_questions(asker).get_by_text(text, exact=True)).to_be_visible()
    expect(my_questions(asker).get_by_text(name, exact=True)).to_be_visible()
    card = cards(moderator, "Eingang").filter(has_text=text)
    expect(card.get_by_text(text, exact=True)).to_be_visible()
    expect(card.get_by_text(name, exact=True)).to_be_visible()

    card.get_by_role("button", name="Auf Sendung", exact=True).click()
    expect(on_air_box(bystander).get_by_text(text, exact=True)).to_be_visible()
    expect(on_air_box(bystander)).to_contain_text(f"Gefragt von {name}")
    expect(public_questions(bystander).get_by_text(text, exact=True)).to_be_visible()
    expect(on_air_panel(moderator).get_by_text(text, exact=True)).to_be_visible()
    for shown in (
        my_questions(asker),
        public_questions(bystander),
        on_air_box(bystander),
        cards(moderator, "Freigegeben"),
        on_air_panel(moderator),
    ):
        expect(shown.locator("img, script, b")).to_have_count(0)
    # A dialog (alert) or a CSP report of a blocked inline handler would have been recorded as a problem.


# ---------------------------------------------------------------- 6. two moderators, undo and editing


def test_two_moderators_see_each_other_reject_undo_and_edit(
    pages: Pages,
    shared_server: Server,
    viewer: Callable[..., Viewer],
    shared_moderator_credentials: tuple[str, str],
    second_moderator_credentials: tuple[str, str],
) -> None:
    slug = new_event(shared_server, "Stadtrat live")
    typo = "Wann wird die Schule in Hohenecken saniret?"
    fixed = "Wann wird die Schule in Hohenecken saniert?"
    first = log_in_and_moderate(pages, shared_server, slug, shared_moderator_credentials)
    second = log_in_and_moderate(pages, shared_server, slug, second_moderator_credentials)
    audience = open_viewer(pages, shared_server, slug)
    for page in (first, second, audience):
        mark_page(page)
    viewer().ask(typo, slug=slug)
    for page in (first, second):
        expect(cards(page, "Eingang").filter(has_text=typo)).to_be_visible()

    cards(first, "Eingang").filter(has_text=typo).get_by_role("button", name="Ablehnen", exact=True).click()
    for page in (first, second):
        expect(cards(page, "Eingang")).to_have_count(0)
        expect(count_in(page, "Nicht angenommen")).to_have_text("Nicht angenommen 1")
    # The rejected column is folded away; unfolding it shows the question.
    count_in(second, "Nicht angenommen").click()
    expect(cards(second, "Nicht angenommen").filter(has_text=typo)).to_be_visible()

    first.get_by_role("button", name="Letzte Aktion rückgängig", exact=True).click()
    expect(first.get_by_role("status").filter(has_text="Rückgängig gemacht")).to_be_visible()
    for page in (first, second):
        expect(cards(page, "Eingang").filter(has_text=typo)).to_be_visible()
        expect(count_in(page, "Nicht angenommen")).to_have_text("Nicht angenommen 0")
    expect(cards(second, "Nicht angenommen")).to_have_count(0)

    # The second moderator approves, the audience sees the typo, the first moderator corrects it.
    cards(second, "Eingang").filter(has_text=typo).get_by_role("button", name="Freigeben", exact=True).click()
    expect(public_questions(audience).filter(has_text=typo)).to_be_visible()
    cards(first, "Freigegeben").filter(has_text=typo).get_by_role("button", name="Bearbeiten", exact=True).click()
    editor = first.get_by_label("Text der Frage bearbeiten")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(typo)
    editor.fill(fixed)
    cards(first, "Freigegeben").filter(has=editor).get_by_role("button", name="Speichern", exact=True).click()
    expect(first.get_by_role("status").filter(has_text="Text geändert")).to_be_visible()
    for page in (first, second):
        expect(cards(page, "Freigegeben").filter(has_text=fixed)).to_be_visible()
        expect(page.get_by_role("listitem").filter(has_text=typo)).to_have_count(0)
    expect(public_questions(audience).filter(has_text=fixed)).to_be_visible()
    expect(audience.get_by_role("listitem").filter(has_text=typo)).to_have_count(0)
    for page in (first, second, audience):
        assert_not_reloaded(page)


def test_a_question_taken_back_from_the_public_disappears_for_other_viewers(
    pages: Pages, shared_server: Server, viewer: Callable[..., Viewer], staff: Viewer
) -> None:
    slug = new_event(shared_server, "Zurückgezogen")
    text = "Diese Frage wird nach der Freigabe doch abgelehnt"
    question = viewer().ask(text, slug=slug)
    staff.moderate(question["id"], slug=slug, status="approved")
    page = open_viewer(pages, shared_server, slug)
    expect(public_questions(page).filter(has_text=text)).to_be_visible()

    staff.moderate(question["id"], slug=slug, status="rejected")
    expect(public_questions(page)).to_have_count(0)
    expect(page.get_by_role("listitem").filter(has_text=text)).to_have_count(0, timeout=3_000)
    expect(page.get_by_role("region", name="Meine Fragen", exact=True)).to_be_hidden()


# ---------------------------------------------------------------- 7. on a phone


def test_the_viewer_page_fits_a_phone_and_the_form_works_there(
    pages: Pages, shared_server: Server, staff: Viewer
) -> None:
    def page_width() -> int:
        return int(page.evaluate("document.scrollingElement.scrollWidth"))

    page = open_viewer(pages, shared_server, SLUG, viewport=PHONE, is_mobile=True, has_touch=True)
    assert page_width() <= PHONE["width"], f"the page is {page_width()}px wide on a {PHONE['width']}px screen"

    # A long word without break opportunities (German has plenty) must wrap, not widen the page.
    text = "Was kostet die Breitbandversorgungsinfrastrukturausbauförderrichtlinienumsetzung die Gemeinde?"
    field = page.get_by_label("Ihre Frage")
    field.scroll_into_view_if_needed()
    expect(field).to_be_in_viewport()
    field.tap()
    field.fill(text)
    expect(page.get_by_text(f"{len(text)} von 300 Zeichen")).to_be_visible()
    send = page.get_by_role("button", name="Frage senden", exact=True)
    send.scroll_into_view_if_needed()
    expect(send).to_be_in_viewport()
    box = send.bounding_box()
    assert box is not None
    assert box["height"] >= 44, f"the send button is only {box['height']}px high: too small to tap"
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    send.tap()
    expect(page.get_by_role("status").filter(has_text="Danke! Ihre Frage ist angekommen.")).to_be_visible()
    mine = my_questions(page).filter(has_text=text)
    expect(mine).to_contain_text("Wartet auf Freigabe")

    # Approved and on air, it shows in the list and in the on-air box; the page still fits.
    question = next(q for q in staff.questions() if q["text"] == text)
    staff.moderate(question["id"], highlighted=True)
    expect(on_air_box(page)).to_contain_text(text)
    expect(public_questions(page).filter(has_text=text)).to_be_visible()
    assert page_width() <= PHONE["width"], f"the page is {page_width()}px wide on a {PHONE['width']}px screen"
    staff.moderate(question["id"], status="answered")
    expect(on_air_box(page)).to_be_hidden()
