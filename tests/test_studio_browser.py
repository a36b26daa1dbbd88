"""The studio views in a real browser (Debian's Chromium through Playwright) against the real server.

The presenter screen (the host's tablet, a 1080p studio monitor), the transparent overlay for OBS/vMix and the
/join page. Studio machines open their view with a studio link; the moderator decides over the API what goes on
screen, and both views follow live over their websocket. Each test has an event of its own, each page a browser
context of its own. Any console error, uncaught page error or dialog fails the test (except the one Chromium logs for
a page that is expected to answer 403 or 404). Nothing sleeps: every wait is Playwright's auto-waiting with a deadline.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browsing import PHONE, WAIT, Pages, log_in, log_in_and_moderate, new_event
from fixtures import Server, Viewer, bearer, wait_until
from PIL import Image
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

TABLET = {"width": 1280, "height": 800}
MONITOR = {"width": 1920, "height": 1080}
TRANSPARENT = "rgba(0, 0, 0, 0)"
# 300 characters, the longest question there can be, with the long words German is known for.
LONG_QUESTION = (
    "Sehr geehrte Frau Ministerpräsidentin, in unserer Verbandsgemeinde warten viele Familien seit Jahren auf einen "
    "Glasfaseranschluss, und die Grundschulen haben kaum WLAN. Was genau plant die Landesregierung, damit auch die "
    "kleinen Dörfer im Hunsrück und in der Eifel nicht abgehängt werden, und wer ist vor Ort zuständig dafür?"
)[:300]


# ---------------------------------------------------------------- an event, its moderator, its audience


class Studio:
    """One event of its own on the shared server, a moderator with a bearer token, and devices in the audience."""

    def __init__(self, server: Server, viewer: Callable[..., Viewer], token: str, title: str) -> None:
        self.server = server
        self.slug = new_event(server, title, prefix="studio")
        self.title = title
        self.viewer = viewer
        self.moderator = viewer(headers=bearer(token))
        self.api = f"/api/events/{self.slug}"

    def event(self) -> dict[str, Any]:
        response = self.moderator.http.get(self.api)
        assert response.status_code == 200, response.text
        return response.json()

    def approved_question(self, text: str, name: str | None = None, votes: int = 0) -> dict[str, Any]:
        asker = self.viewer()
        question = asker.ask(text, name, slug=self.slug)
        self.moderator.moderate(question["id"], slug=self.slug, status="approved")
        for _ in range(votes):
            response = self.viewer().http.post(f"{self.api}/questions/{question['id']}/votes")
            assert response.status_code == 200, response.text
        return question

    def on_air(self, question_id: int) -> None:
        self.moderator.moderate(question_id, slug=self.slug, highlighted=True)

    def screen(self, mode: str, poll_id: int | None = None) -> None:
        body: dict[str, Any] = {"mode": mode}
        if poll_id is not None:
            body["poll_id"] = poll_id
        response = self.moderator.http.put(f"{self.api}/screen", json=body)
        assert response.status_code == 200, response.text

    def open_poll(self, title: str, options: list[str], visibility: str = "live") -> dict[str, Any]:
        body = {"title": title, "kind": "single", "options": options, "results_visibility": visibility}
        response = self.moderator.http.post(f"{self.api}/polls", json=body)
        assert response.status_code == 201, response.text
        poll = response.json()
        response = self.moderator.http.patch(f"{self.api}/polls/{poll['id']}", json={"state": "open"})
        assert response.status_code == 200, response.text
        return response.json()

    def vote(self, poll: dict[str, Any], label: str) -> None:
        option = next(o["id"] for o in poll["options"] if o["label"] == label)
        response = self.viewer().http.post(f"{self.api}/polls/{poll['id']}/votes", json={"options": [option]})
        assert response.status_code == 201, response.text

    def link(self, view: str) -> dict[str, Any]:
        response = self.moderator.http.post(f"{self.api}/studio-links", json={"view": view, "label": f"Test {view}"})
        assert response.status_code == 201, response.text
        link = response.json()
        # The link names the public address the server was told; the test talks to its own port.
        link["local_url"] = re.sub(r"^https?://[^/]+", self.server.url, link["url"])
        return link


@pytest.fixture
def studio(
    shared_server: Server, viewer: Callable[..., Viewer], shared_moderator_token: str, request: pytest.FixtureRequest
) -> Studio:
    return Studio(shared_server, viewer, shared_moderator_token, f"Bürgerdialog {request.node.name[:40]}")


# ---------------------------------------------------------------- what the screens show


def fits_the_viewport(page: Page) -> dict[str, int]:
    size = page.evaluate(
        """() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth,
                   scrollHeight: document.documentElement.scrollHeight, innerHeight: innerHeight})"""
    )
    assert size["scrollWidth"] <= size["innerWidth"], f"the page scrolls sideways: {size}"
    assert size["scrollHeight"] <= size["innerHeight"], f"the page scrolls: {size}"
    return size


def wait_until_fitted(page: Page, selector: str) -> None:
    """The presenter sets long texts smaller until they fit their box; wait until nothing is cut off."""
    page.wait_for_function(
        """(selector) => {
            const box = document.querySelector(selector);
            return box && box.clientHeight > 0 && box.scrollHeight <= box.clientHeight + 1
                && box.scrollWidth <= box.clientWidth + 1;
        }""",
        arg=selector,
        timeout=WAIT,
    )


def result_row(page: Page, container: str, label: str) -> Any:
    """One bar of a poll's results, by its label (a screen reader hears "Ja: 3 Stimmen · 75 %")."""
    return page.locator(f"{container} .result-row").filter(has_text=re.compile(rf"^{re.escape(label)}:"))


def expect_bar(page: Page, container: str, label: str, percent: int) -> None:
    row = result_row(page, container, label)
    expect(row).to_contain_text(re.compile(rf"\b{percent}\s%"))
    expect(row.locator(".result-fill")).to_have_attribute("style", re.compile(rf"width:\s*{percent}%"))


def shown_panel(page: Page) -> Any:
    return page.locator("[data-panel].is-shown")


# ---------------------------------------------------------------- (a) the presenter screen


@pytest.mark.parametrize("viewport", [TABLET, MONITOR], ids=["tablet-1280x800", "monitor-1920x1080"])
def test_presenter_shows_the_question_on_air_and_never_scrolls(
    pages: Pages, studio: Studio, viewport: dict[str, int], tmp_path: Path
) -> None:
    short = studio.approved_question("Wann kommt schnelles Internet in den Westerwald?", "Maria aus Hachenburg")
    studio.approved_question("Gibt es Förderprogramme für Tablets an Grundschulen?", "Jonas", votes=3)
    studio.approved_question("Wird es einen digitalen Führerschein geben?", votes=1)
    answered = studio.approved_question("Diese Frage ist schon beantwortet.", votes=5)
    studio.moderator.moderate(answered["id"], slug=studio.slug, status="answered")
    studio.on_air(short["id"])
    studio.screen("question")

    page = pages.open(studio.link("present")["local_url"], viewport=viewport, status=200)
    stage = page.get_by_role("region", name="Bühnenbild")
    expect(stage.get_by_text(short["text"])).to_be_visible()
    expect(stage.get_by_text("Frage von Maria aus Hachenburg")).to_be_visible()
    # The strip: the next approved questions by votes, not the one on air, not answered ones.
    upcoming = page.get_by_role("complementary", name="Als Nächstes").get_by_role("listitem")
    expect(upcoming).to_have_count(2)
    expect(upcoming.first).to_contain_text("Förderprogramme")
    expect(upcoming.nth(1)).to_contain_text("Führerschein")
    expect(page.get_by_role("heading", level=1)).to_have_text(studio.title)
    # A studio link is read-only: no shortcuts for the host.
    expect(page.locator(".legend")).to_have_count(0)
    wait_until_fitted(page, "[data-question-box]")
    fits_the_viewport(page)
    name = f"present-{viewport['width']}x{viewport['height']}"
    page.screenshot(path=tmp_path / f"{name}.png")

    # The longest question there can be shrinks to fit, live, without a reload.
    page.evaluate("window.__notReloaded = true")
    long = studio.approved_question(LONG_QUESTION, "Bernd Schmidt-Hauenstein aus Morbach")
    studio.on_air(long["id"])
    expect(stage.locator("[data-question-text]")).to_have_text(LONG_QUESTION)
    expect(stage.get_by_text("Frage von Bernd Schmidt-Hauenstein aus Morbach")).to_be_visible()
    expect(upcoming.filter(has_text="Westerwald")).to_have_count(1)  # back in the queue
    wait_until_fitted(page, "[data-question-box]")
    fits_the_viewport(page)
    size = float(page.locator("[data-question-box]").evaluate("box => parseFloat(getComputedStyle(box).fontSize)"))
    assert size >= 20, f"the long question is set too small to read from a distance: {size}px"
    assert page.evaluate("window.__notReloaded === true")
    page.screenshot(path=tmp_path / f"{name}-long.png")


# ---------------------------------------------------------------- (b) screen modes, live on both views


def test_switching_the_screen_changes_presenter_and_overlay_live(pages: Pages, studio: Studio, tmp_path: Path) -> None:
    question = studio.approved_question("Wie schützt das Land unsere Daten?", None)
    studio.on_air(question["id"])
    studio.screen("none")  # on air switched the screen to the question; the test starts from the title
    # Results hidden from the audience still reach the studio views: the host may read them out.
    poll = studio.open_poll("Nutzen Sie schon das Bürgerkonto?", ["Ja", "Nein"], visibility="never")
    studio.vote(poll, "Ja")
    studio.vote(poll, "Ja")
    code = studio.event()["join_code"]

    presenter = pages.open(studio.link("present")["local_url"], viewport=MONITOR, status=200)
    overlay = pages.open(studio.link("overlay")["local_url"], viewport=MONITOR, status=200)
    for page in (presenter, overlay):
        page.evaluate("window.__notReloaded = true")
    stage = presenter.get_by_role("region", name="Bühnenbild")
    expect(stage.get_by_text(studio.title)).to_be_visible()  # mode "none": the idle slide
    expect(shown_panel(overlay)).to_have_count(0)

    studio.screen("question")
    expect(stage.get_by_text(question["text"])).to_be_visible()
    expect(stage.get_by_text("Anonym")).to_be_visible()
    expect(shown_panel(overlay)).to_contain_text(question["text"])

    studio.screen("poll", poll["id"])
    expect(stage.get_by_text(poll["title"])).to_be_visible()
    expect_bar(presenter, ".poll-box", "Ja", 100)
    expect_bar(overlay, ".lt-poll", "Ja", 100)
    # New ballots move the bars while the poll is on screen.
    studio.vote(poll, "Ja")
    studio.vote(poll, "Nein")
    for page, container in ((presenter, ".poll-box"), (overlay, ".lt-poll")):
        expect_bar(page, container, "Ja", 75)
        expect_bar(page, container, "Nein", 25)
        expect(page.locator(container)).to_contain_text("4 Antworten")
    fits_the_viewport(presenter)
    presenter.screenshot(path=tmp_path / "present-poll.png")
    overlay.screenshot(path=tmp_path / "overlay-poll.png", omit_background=True)

    studio.screen("join")
    join = stage.locator("[data-slide='join']")
    expect(join).to_be_visible()
    expect(join.locator(".join-code")).to_have_text(re.compile(rf"{code[:3]}\s*{code[3:]}"))
    expect(join.get_by_role("img", name=re.compile("QR-Code"))).to_be_visible()
    expect(join).to_contain_text(f"/j/{code}")
    panel = shown_panel(overlay)
    expect(panel).to_have_attribute("data-panel", "join")
    expect(panel.locator(".lt-code")).to_have_text(re.compile(rf"{code[:3]}\s*{code[3:]}"))
    # The QR code really is the image the server makes (and it loaded).
    assert presenter.locator(".join-qr img").evaluate("img => img.complete && img.naturalWidth > 0")
    fits_the_viewport(presenter)
    presenter.screenshot(path=tmp_path / "present-join.png")

    studio.screen("none")
    expect(stage.locator("[data-slide='none']")).to_be_visible()
    expect(shown_panel(overlay)).to_have_count(0)
    expect(overlay.locator("[data-panel='join']")).to_be_hidden()
    for page in (presenter, overlay):
        assert page.evaluate("window.__notReloaded === true"), "a view was reloaded"


# ---------------------------------------------------------------- (c) the overlay


def test_overlay_is_transparent_and_shows_the_question_as_a_lower_third(
    pages: Pages, studio: Studio, tmp_path: Path
) -> None:
    question = studio.approved_question("Warum dauert die Digitalisierung der Bauanträge so lange?", "Petra K.")
    studio.on_air(question["id"])
    studio.screen("question")
    link = studio.link("overlay")

    overlay = pages.open(link["local_url"], viewport=MONITOR, status=200)
    panel = overlay.locator("[data-panel='question']")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(question["text"])
    expect(panel).to_contain_text("Frage von Petra K.")
    backgrounds = overlay.evaluate(
        "[document.documentElement, document.body].map((e) => getComputedStyle(e).backgroundColor)"
    )
    assert backgrounds == [TRANSPARENT, TRANSPARENT], backgrounds
    # Wait for the slide-in to end before measuring and taking the picture.
    expect(panel).to_have_css("opacity", "1")
    expect(panel).to_have_css("transform", "none")
    # A lower third: in the bottom part of the picture, left, 60 px from the edges by default.
    box = panel.bounding_box()
    assert box is not None
    assert box["y"] > MONITOR["height"] / 2, box
    assert box["x"] == pytest.approx(60, abs=2), box
    assert box["y"] + box["height"] == pytest.approx(MONITOR["height"] - 60, abs=2), box
    picture = Image.open(io.BytesIO(overlay.screenshot(omit_background=True))).convert("RGBA")
    picture.save(tmp_path / "overlay-question.png")
    assert picture.size == (MONITOR["width"], MONITOR["height"])
    assert picture.getpixel((5, 5))[3] == 0, "the overlay paints over the top left corner"
    assert picture.getpixel((MONITOR["width"] - 5, 5))[3] == 0, "the overlay paints over the top right corner"
    inside = (int(box["x"] + box["width"] / 2), int(box["y"] + box["height"] / 2))
    assert picture.getpixel(inside)[3] > 200, "the lower third is not opaque"

    # The producer's placement: a light banner at the top right, smaller, closer to the edge.
    placed = pages.open(
        f"{link['local_url']}&position=top&align=right&scale=0.75&margin=30&theme=light", viewport=MONITOR, status=200
    )
    banner = placed.locator("[data-panel='question']")
    expect(banner).to_be_visible()
    expect(banner).to_have_css("opacity", "1")
    expect(banner).to_have_css("transform", "none")
    box = banner.bounding_box()
    assert box is not None
    assert box["y"] == pytest.approx(30, abs=2), box
    assert box["x"] + box["width"] == pytest.approx(MONITOR["width"] - 30, abs=2), box
    assert placed.locator("body").evaluate("b => b.classList.contains('theme-light')")
    font = float(banner.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert font == pytest.approx(30 * 0.75, abs=0.5), font

    # Off air: the lower third leaves and the picture is empty again.
    studio.moderator.moderate(question["id"], slug=studio.slug, status="answered")
    expect(panel).to_be_hidden()
    picture = Image.open(io.BytesIO(overlay.screenshot(omit_background=True))).convert("RGBA")
    assert picture.getextrema()[3] == (0, 0), "something is still painted on the overlay"


# ---------------------------------------------------------------- (d) studio links


def test_presenter_with_a_revoked_or_wrong_link_is_refused(pages: Pages, studio: Studio) -> None:
    present = studio.link("present")
    overlay = studio.link("overlay")
    page = pages.open(present["local_url"], status=200)
    expect(page.get_by_role("region", name="Bühnenbild")).to_be_visible()

    response = studio.moderator.http.delete(f"{studio.api}/studio-links/{present['id']}")
    assert response.status_code == 204, response.text
    refused = pages.open(present["local_url"], status=403)
    expect(refused.get_by_role("heading", level=1)).to_be_visible()
    expect(refused.locator("[data-stage]")).to_have_count(0)
    # An overlay link does not open the presenter screen, and no link at all opens nothing.
    overlay_as_present = overlay["local_url"].replace("/overlay?", "/present?")
    pages.open(overlay_as_present, status=403)
    pages.open(f"{studio.server.url}/e/{studio.slug}/present", status=403)


def test_a_moderator_session_gets_the_host_shortcuts(
    pages: Pages, studio: Studio, shared_moderator_credentials: tuple[str, str]
) -> None:
    first = studio.approved_question("Wie digital ist die Kreisverwaltung?", "Anna", votes=1)
    top = studio.approved_question("Kommt der Mobilfunkmast ins Dorf?", "Karl", votes=2)
    studio.screen("question")
    present = f"/e/{studio.slug}/present"
    page = log_in(pages, studio.server, f"/login?next={present}", shared_moderator_credentials, lands_on=present)
    stage = page.get_by_role("region", name="Bühnenbild")
    # Each answer of the server takes a while, as on a busy evening: the test must wait for what it checks.
    page.route(f"**/api/events/{studio.slug}/questions/*", lambda route: (time.sleep(0.3), route.continue_()))
    expect(page.get_by_label("Tastenkürzel")).to_contain_text("nächste Frage auf Sendung")
    # The empty slide's text is always in the page, hidden while a question is on air: wait for it to be seen.
    empty_slide = stage.get_by_text("Gerade ist keine Frage auf Sendung")
    expect(empty_slide).to_be_visible()
    upcoming = page.get_by_role("complementary", name="Als Nächstes").get_by_role("listitem")
    expect(upcoming).to_have_count(2)  # the host sees what comes next before pressing N

    page.keyboard.press("n")  # the next question: most votes first
    expect(stage.locator("[data-question-text]")).to_have_text(top["text"])
    expect(page.get_by_role("status").filter(has_text="Nächste Frage ist auf Sendung")).to_be_visible()
    page.keyboard.press("a")
    # Said once the server has answered (and so committed): only then may the API be asked what it stored.
    expect(page.get_by_role("status").filter(has_text="Frage als beantwortet markiert")).to_be_visible()
    expect(empty_slide).to_be_visible()
    statuses = {q["id"]: q["status"] for q in studio.moderator.questions(slug=studio.slug)}
    assert statuses == {top["id"]: "answered", first["id"]: "approved"}
    page.keyboard.press("n")
    expect(stage.locator("[data-question-text]")).to_have_text(first["text"])
    assert studio.event()["on_air_question_id"] == first["id"]

    # A host in a hurry presses A and N at once: the second key waits for the first action, it is not dropped.
    last = studio.approved_question("Wer hilft kleinen Gemeinden bei der Digitalisierung?", "Ute")
    expect(upcoming).to_have_count(1)
    page.keyboard.press("a")
    page.keyboard.press("n")
    expect(stage.locator("[data-question-text]")).to_have_text(last["text"])
    statuses = {q["id"]: q["status"] for q in studio.moderator.questions(slug=studio.slug)}
    assert statuses[first["id"]] == "answered"
    wait_until(lambda: studio.event()["on_air_question_id"] == last["id"], what="the last question on air")


# ---------------------------------------------------------------- (e) joining by code


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "desktop"])
def test_join_page_leads_from_the_code_to_the_event(
    pages: Pages, studio: Studio, viewport: dict[str, int], tmp_path: Path
) -> None:
    code = studio.event()["join_code"]
    page = pages.open(f"{studio.server.url}/join", viewport=viewport, status=200, is_mobile=viewport is PHONE)
    field = page.get_by_role("textbox", name="Code")
    expect(field).to_have_attribute("autocomplete", "off")
    expect(field).to_have_attribute("autocapitalize", "characters")
    if viewport is TABLET:
        fits_the_viewport(page)
    page.screenshot(path=tmp_path / f"join-{viewport['width']}.png", full_page=True)
    # People type what they see, in any case and with the dash of the spoken form.
    field.fill(f"{code[:3].lower()}-{code[3:].lower()}")
    page.get_by_role("button", name="Mitmachen").click()
    expect(page).to_have_url(f"{studio.server.url}/e/{studio.slug}/mitmachen")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Fragen & Umfragen {studio.title}")
    expect(page.locator("iframe, [data-consent]")).to_have_count(0)  # no stream on the phone view


def test_join_page_explains_an_unknown_code(pages: Pages, studio: Studio, tmp_path: Path) -> None:
    page = pages.open(f"{studio.server.url}/join", viewport=PHONE, status=200, is_mobile=True)
    pages.allow_failed_load(f"{studio.server.url}/join?")
    field = page.get_by_role("textbox", name="Code")
    field.fill("zz-0000")
    with page.expect_response(re.compile(r"/join\?code=")) as answer:
        page.get_by_role("button", name="Mitmachen").click()
    assert answer.value.status == 404
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Zu diesem Code gibt es keine Veranstaltung")
    field = page.get_by_role("textbox", name="Code")
    expect(field).to_have_value("zz-0000")
    expect(field).to_have_attribute("aria-invalid", "true")
    described_by = field.get_attribute("aria-describedby") or ""
    assert alert.get_attribute("id") in described_by.split(), described_by
    expect(field).to_be_focused()
    page.screenshot(path=tmp_path / "join-error.png", full_page=True)


# ---------------------------------------------------------------- (f) the moderator's studio control


def test_the_moderator_page_decides_what_the_studio_shows_and_makes_studio_links(
    pages: Pages, studio: Studio, shared_moderator_credentials: tuple[str, str], tmp_path: Path
) -> None:
    question = studio.approved_question("Wann kommt das schnelle Internet in die Schulen?", "Jana")
    studio.on_air(question["id"])
    studio.screen("none")  # on air switched the screen to the question; the test starts from the title
    poll = studio.open_poll("Kennen Sie MiniMOGLI?", ["Ja", "Nein"])
    studio.vote(poll, "Nein")

    moderator = log_in_and_moderate(pages, studio.server, studio.slug, shared_moderator_credentials)
    control = moderator.get_by_role("region", name="Im Studio zeigen")
    expect(control.get_by_role("radio", name="Nichts (Titel)")).to_be_checked()

    # A studio link is made on the page, shown once, and opens the presenter screen without a login.
    control.get_by_text("Studio-Links ohne Anmeldung").click()
    control.get_by_label("Ansicht").select_option("present")
    control.get_by_label("Bezeichnung").fill("Tablet Moderation")
    control.get_by_role("button", name="Link erstellen").click()
    url_field = control.get_by_label(re.compile("Neuer Link"))
    expect(url_field).to_have_value(re.compile(r"/present\?token=srs_"))
    link = re.sub(r"^https?://[^/]+", studio.server.url, url_field.input_value())
    presenter = pages.open(link, viewport=MONITOR, status=200)
    stage = presenter.get_by_role("region", name="Bühnenbild")
    expect(stage.get_by_text(studio.title)).to_be_visible()

    # One click on the moderator page changes the presenter screen live.
    control.get_by_role("radio", name="Die Frage auf Sendung").check()
    expect(control.get_by_role("status").first).to_have_text("Im Studio wird jetzt die Frage auf Sendung gezeigt.")
    expect(stage.get_by_text(question["text"])).to_be_visible()
    control.get_by_label("Umfrage für den Bildschirm").select_option(label="Kennen Sie MiniMOGLI? (läuft)")
    expect(control.get_by_role("radio", name="Ergebnis der Umfrage:")).to_be_checked()
    expect(stage.get_by_text(poll["title"])).to_be_visible()
    expect_bar(presenter, ".poll-box", "Nein", 100)
    control.get_by_role("radio", name=re.compile("Mitmach-Folie")).check()
    expect(stage.get_by_text(studio.event()["join_code"][:3], exact=True)).to_be_visible()
    moderator.screenshot(path=tmp_path / "moderate-studio.png", full_page=True)

    # Revoked on the page, the link opens nothing any more.
    control.get_by_role("button", name="Link widerrufen: Präsentations-Bildschirm: Tablet Moderation").click()
    expect(control.get_by_text("widerrufen", exact=True)).to_be_visible()
    expect(url_field).to_be_hidden()
    pages.open(link, status=403)
