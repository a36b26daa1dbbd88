"""Every citizen can follow: Leichte Sprache, German Sign Language, captions and interpreting per event, and the
Impressum (BITV 2.0 § 4, WCAG 1.2.4, § 5 DDG). The pages as a visitor gets them, from a real server; axe in Chromium
finds no WCAG 2.1 AA violation on them, in German and English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from browsing import DESKTOP, PHONE_OPTIONS, Pages
from fixtures import SLUG, Server, csrf_of, demo_credentials, login
from playwright.sync_api import expect

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

# ---------------------------------------------------------------- the text of a page, block by block


class _Blocks(HTMLParser):
    """The text of <main>, one entry per paragraph, list item or heading (a line of its own on the page)."""

    BLOCKS: ClassVar = {"p", "li", "h1", "h2", "h3", "dt", "dd", "summary"}

    def __init__(self) -> None:
        super().__init__()
        self.in_main = 0
        self.blocks: list[str] = []
        self._current: list[str] | None = None
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.in_main += 1
        if self.in_main and tag in self.BLOCKS:
            self._current = []
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main -= 1
        if self.in_main and tag in self.BLOCKS and self._current is not None:
            text = " ".join("".join(self._current).split())
            if text:
                self.blocks.append(text)
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)


def blocks_of(html: str) -> _Blocks:
    parser = _Blocks()
    parser.feed(html)
    return parser


# ---------------------------------------------------------------- Leichte Sprache

MAX_WORDS = 12  # Leichte Sprache: short sentences; the longest ones here have ten words
MAX_WORD_PART = 15  # longer words are split with a hyphen (Bürger-Versammlung), or are not easy words at all
ABBREVIATIONS = {
    "de": [
        "z. B.",
        "z.B.",
        "bzw.",
        "usw.",
        "etc.",
        "ca.",
        "d. h.",
        "d.h.",
        "u. a.",
        "u.a.",
        "ggf.",
        "evtl.",
        "Nr.",
        "Tel.",
        "inkl.",
        "vgl.",
        "bspw.",
        "o. ä.",
        "s. o.",
        "Std.",
        "Min.",
        "Abs.",
        "Str.",
    ],
    "en": ["e.g.", "i.e.", "etc.", "approx.", "no.", "tel.", "incl.", "vs.", "min.", "ca."],
}
# Upper-case words that are abbreviations (BITV, DGS, WCAG, EU …); only RLP, which the text explains, may stay, and
# in English TV, the word easy-read English uses (it is also the label of the button the text names).
EXPLAINED_ACRONYMS = {"de": {"RLP"}, "en": {"RLP", "TV"}}
SUBJUNCTIVES = {"de": re.compile(r"\b(würde|würden|könnte|könnten|hätte|hätten|wäre|wären|müsste|sollte)\b", re.I)}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def easy_read(server: Server, language: str) -> list[str]:
    response = httpx.get(f"{server.url}/leichte-sprache", params={"lang": language}, timeout=10)
    assert response.status_code == 200
    assert f'<html lang="{language}"' in response.text
    return blocks_of(response.text).blocks


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_leichte_sprache_page_keeps_the_rules_a_program_can_check(shared_server: Server, language: str) -> None:
    blocks = easy_read(shared_server, language)
    assert len(blocks) > 60, "the page explains the site, watching, asking, voting, the way around and access"
    text = " ".join(blocks)
    problems = []
    for block in blocks:
        sentences = [s for s in SENTENCE_END.split(block) if s]
        if len(sentences) > 1:
            problems.append(f"more than one sentence on a line: {block!r}")
        for sentence in sentences:
            words = sentence.split()
            if len(words) > MAX_WORDS:
                problems.append(f"{len(words)} words: {sentence!r}")
            for word in words:
                for part in re.split(r"[-–]", re.sub(r"[^\w-]", "", word)):
                    if len(part) > MAX_WORD_PART:
                        problems.append(f"long word {part!r} (split it with a hyphen): {sentence!r}")
                if (
                    re.fullmatch(r"[A-ZÄÖÜ]{2,}", re.sub(r"[^\w]", "", word))
                    and re.sub(r"[^\w]", "", word) not in (EXPLAINED_ACRONYMS[language])
                ):
                    problems.append(f"abbreviation {word!r}: {sentence!r}")
    for bracket in "()[]":
        if bracket in text:
            problems.append(f"a bracket {bracket!r} in the text")
    for abbreviation in ABBREVIATIONS[language]:
        if re.search(rf"(?<!\w){re.escape(abbreviation)}", text, re.IGNORECASE if language == "en" else 0):
            problems.append(f"the abbreviation {abbreviation!r}")
    if language in SUBJUNCTIVES:
        problems += [f"subjunctive {m.group(0)!r}" for m in SUBJUNCTIVES[language].finditer(text)]
    assert not problems, "\n".join(problems)


def test_the_rule_check_itself_finds_what_breaks_the_rules() -> None:
    """The check above is not silently empty: a sentence in ordinary official German fails it."""
    html = (
        "<main><p>Die Veranstaltung (ca. 2 Std.) wird gemäß BITV 2.0 barrierefrei übertragen, wobei z. B. "
        "Untertitel angeboten werden könnten, sofern die Übertragungsgeschwindigkeit ausreicht.</p></main>"
    )
    block = blocks_of(html).blocks[0]
    assert len(block.split()) > MAX_WORDS
    assert "(" in block
    assert "z. B." in block
    assert "BITV" in block
    assert SUBJUNCTIVES["de"].search(block)
    assert any(len(part) > MAX_WORD_PART for part in re.split(r"\W+", block))


def test_the_easy_read_page_explains_what_the_law_asks(shared_server: Server) -> None:
    response = httpx.get(f"{shared_server.url}/leichte-sprache", timeout=10)
    found = blocks_of(response.text)
    headings = set(found.blocks)
    for heading in (
        "Was ist Smart RLP Live?",
        "So schauen Sie zu",
        "So stellen Sie eine Frage",
        "So stimmen Sie ab",
        "So finden Sie sich auf der Seite zurecht",
        "Barriere-Freiheit",
    ):
        assert heading in headings
    # The accessibility statement and the sign-language explanation are one link away.
    assert {"/barrierefreiheit", "/gebaerdensprache"} <= set(found.links)
    # Hard words come with their explanation, and the limit of a question is the one the form enforces.
    assert "Live bedeutet: Es passiert genau jetzt." in headings
    assert "Die Frage darf 300 Zeichen lang sein." in headings


# ---------------------------------------------------------------- the ways in, from every page


@pytest.mark.parametrize(
    ("path", "easy", "sign", "imprint"),
    [
        ("/", "Leichte Sprache", "Gebärdensprache", "Impressum"),
        (f"/e/{SLUG}", "Leichte Sprache", "Gebärdensprache", "Impressum"),
        (f"/e/{SLUG}?lang=en", "Easy read", "Sign language", "Legal notice"),
        ("/login?lang=en", "Easy read", "Sign language", "Legal notice"),
        ("/datenschutz", "Leichte Sprache", "Gebärdensprache", "Impressum"),
        ("/join", "Leichte Sprache", "Gebärdensprache", "Impressum"),
    ],
)
def test_every_page_links_leichte_sprache_sign_language_and_the_impressum(
    shared_server: Server, path: str, easy: str, sign: str, imprint: str
) -> None:
    html = httpx.get(f"{shared_server.url}{path}", timeout=10).text
    header = html[html.index('<header class="site-header">') : html.index("</header>")]
    assert re.search(rf'<a href="/leichte-sprache"[^>]*><svg[^>]*aria-hidden="true".*?<span>{easy}</span></a>', header)
    assert re.search(rf'<a href="/gebaerdensprache"[^>]*><svg[^>]*aria-hidden="true".*?<span>{sign}</span></a>', header)
    footer = html[html.index('<footer class="site-footer">') : html.index("</footer>")]
    assert f'<a href="/impressum">{imprint}</a>' in footer


# ---------------------------------------------------------------- sign language


def test_without_a_video_the_sign_language_page_says_so_and_gives_the_text(shared_server: Server) -> None:
    for language, notice in (("de", "noch nicht eingestellt"), ("en", "has not been added yet")):
        response = httpx.get(f"{shared_server.url}/gebaerdensprache", params={"lang": language}, timeout=10)
        assert response.status_code == 200
        assert "data-no-sign-video" in response.text
        assert notice in response.text
        assert "<video" not in response.text
        assert "data-consent" not in response.text
        found = blocks_of(response.text)
        assert "/leichte-sprache" in found.links
        assert "/barrierefreiheit" in found.links


@pytest.fixture(scope="module")
def operator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose operator filled in the Impressum and named a DGS video on YouTube."""
    directory = tmp_path_factory.mktemp("operator")
    env = {
        "SMARTRLP_DGS_VIDEO_URL": "https://www.youtube.com/watch?v=DGSvideo-01",
        "SMARTRLP_IMPRINT_NAME": "Stadtverwaltung Kaiserslautern",
        "SMARTRLP_IMPRINT_ADDRESS": "Willy-Brandt-Platz 1\\n67657 Kaiserslautern",
        "SMARTRLP_IMPRINT_REPRESENTATIVE": "Oberbürgermeisterin Beate Kimmel",
        "SMARTRLP_IMPRINT_CONTACT": "digital@kaiserslautern.de, 0631 365-0",
        "SMARTRLP_IMPRINT_SUPERVISORY_AUTHORITY": "Aufsichts- und Dienstleistungsdirektion, Trier",
        "SMARTRLP_IMPRINT_VAT_ID": "DE 123456789",
        "SMARTRLP_IMPRINT_CONTENT_RESPONSIBLE": "Referat Digitalisierung, Willy-Brandt-Platz 1, 67657 Kaiserslautern",
    }
    server = Server(directory, env=env).start()
    try:
        yield server
    finally:
        server.stop()
    server.assert_clean_log()


def test_a_sign_language_video_elsewhere_waits_behind_the_consent(operator_server: Server) -> None:
    response = httpx.get(f"{operator_server.url}/gebaerdensprache", timeout=10)
    assert 'data-embed="https://www.youtube-nocookie.com/embed/DGSvideo-01' in response.text
    assert "<iframe" not in response.text
    assert "data-no-sign-video" not in response.text
    csp = response.headers["content-security-policy"]
    assert "frame-src https://www.youtube-nocookie.com;" in csp
    # Only this page may frame it; the others still frame nothing.
    assert (
        "frame-src 'none'"
        in httpx.get(f"{operator_server.url}/leichte-sprache", timeout=10).headers["content-security-policy"]
    )


def test_a_sign_language_video_of_our_own_plays_at_once(tmp_path: Path) -> None:
    server = Server(tmp_path, env={"SMARTRLP_DGS_VIDEO_URL": "/static/video/dgs.mp4"}).start()
    try:
        html = httpx.get(f"{server.url}/gebaerdensprache", timeout=10).text
        assert '<video controls preload="metadata" src="/static/video/dgs.mp4"' in html
        assert "data-consent" not in html
    finally:
        server.stop()


# ---------------------------------------------------------------- the Impressum


def test_the_impressum_shows_the_operators_details(operator_server: Server) -> None:
    html = httpx.get(f"{operator_server.url}/impressum", timeout=10).text
    found = blocks_of(html).blocks
    pairs = dict(
        zip(
            found[found.index("Anbieter dieser Seite") :: 2],
            found[found.index("Anbieter dieser Seite") + 1 :: 2],
            strict=False,
        )
    )
    assert pairs["Anbieter dieser Seite"] == "Stadtverwaltung Kaiserslautern"
    assert pairs["Anschrift"] == "Willy-Brandt-Platz 1 67657 Kaiserslautern"
    assert pairs["Vertreten durch"] == "Oberbürgermeisterin Beate Kimmel"
    assert pairs["Zuständige Aufsichtsbehörde"] == "Aufsichts- und Dienstleistungsdirektion, Trier"
    assert pairs["Umsatzsteuer-Identifikationsnummer"] == "DE 123456789"
    assert "Register und Registernummer" not in pairs  # not set, and not every public body has one
    assert "Bitte ersetzen" not in html


def test_an_impressum_not_filled_in_marks_what_is_missing(shared_server: Server) -> None:
    html = httpx.get(f"{shared_server.url}/impressum", timeout=10).text
    for setting in (
        "SMARTRLP_IMPRINT_NAME",
        "SMARTRLP_IMPRINT_ADDRESS",
        "SMARTRLP_IMPRINT_REPRESENTATIVE",
        "SMARTRLP_IMPRINT_CONTACT",
        "SMARTRLP_IMPRINT_SUPERVISORY_AUTHORITY",
    ):
        assert f"Einstellung {setting}]" in html


def test_the_operators_own_impressum_replaces_the_fields(tmp_path: Path) -> None:
    own = tmp_path / "impressum.html"
    own.write_text("<h2>Herausgeberin</h2><p>Verbandsgemeinde Hachenburg</p>", encoding="utf-8")
    server = Server(tmp_path / "server", env={"SMARTRLP_IMPRINT_FILE": str(own)}).start()
    try:
        html = httpx.get(f"{server.url}/impressum", params={"lang": "en"}, timeout=10).text
        assert '<div class="legal-text" lang="de"><h2>Herausgeberin</h2>' in html
        assert "Bitte ersetzen" not in html
        assert "Please replace" not in html
    finally:
        server.stop()


# ---------------------------------------------------------------- captions and interpreting per event


CAPTIONED_FORM = {
    "title": "Bürgerdialog mit Untertiteln",
    "slug": "mit-untertiteln",
    "youtube_url": "https://youtu.be/SmartRLP-21",
    "stream_captions": "on",
    "captions_url": "https://untertitel.example.org/live/42",
    "sign_language_url": "https://www.youtube.com/watch?v=DGSlive-042",
    "stream_delay_youtube": "20",
    "stream_delay_facebook": "0",
    "stream_delay_tv": "30",
    "moderation_mode": "approve",
    "questions_open": "on",
}


@pytest.fixture(scope="module")
def operator_admin(operator_server: Server) -> Iterator[httpx.Client]:
    client = login(operator_server, *demo_credentials(operator_server))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def captioned_event(operator_admin: httpx.Client) -> str:
    """An event with live captions, a sign-language stream and YouTube captions, made in /admin."""
    created = operator_admin.post("/admin/events/new", data={**CAPTIONED_FORM, "csrf": csrf_of(operator_admin)})
    assert created.status_code == 303, created.text
    return CAPTIONED_FORM["slug"]


def test_captions_and_interpreting_set_in_admin_appear_beside_the_stream(
    operator_server: Server, operator_admin: httpx.Client, captioned_event: str
) -> None:
    event = httpx.get(f"{operator_server.url}/api/events/{captioned_event}", timeout=10).json()
    assert event["stream_delays"] == {"youtube": 20, "facebook": 0, "tv": 30}
    assert (event["captions_url"], event["stream_captions"]) == ("https://untertitel.example.org/live/42", True)
    assert event["sign_language_url"] == "https://www.youtube.com/watch?v=DGSlive-042"
    assert event["streams"][0]["embed_url"].endswith("&cc_load_policy=1&cc_lang_pref=de")
    for path in (f"/e/{captioned_event}", f"/e/{captioned_event}/mitmachen"):
        found = blocks_of(httpx.get(f"{operator_server.url}{path}", timeout=10).text)
        assert "https://untertitel.example.org/live/42" in found.links
        assert "https://www.youtube.com/watch?v=DGSlive-042" in found.links
        assert "Live-Untertitel (öffnet neues Fenster)" in " ".join(found.blocks)
    # The form shows what is stored, for the next edit.
    edit = operator_admin.get(f"/admin/events/{captioned_event}").text
    assert re.search(r'name="stream_delay_tv" type="number"[^>]*value="30"', edit)
    assert 'name="stream_captions" id="field-stream_captions" checked' in edit


def test_the_event_form_refuses_delays_beyond_the_limit_and_addresses_that_are_none(
    operator_admin: httpx.Client,
) -> None:
    form = {**CAPTIONED_FORM, "slug": "zu-lang", "stream_delay_tv": "125", "captions_url": "untertitel bitte"}
    refused = operator_admin.post("/admin/events/new", data={**form, "csrf": csrf_of(operator_admin)})
    assert refused.status_code == 422
    assert "Bitte ganze Sekunden von 0 bis 120 angeben." in refused.text
    assert "Bitte eine vollständige Adresse angeben, die mit https:// beginnt." in refused.text


def test_an_event_without_captions_embeds_without_them(shared_server: Server) -> None:
    event = httpx.get(f"{shared_server.url}/api/events/{SLUG}", timeout=10).json()
    assert event["stream_captions"] is False
    assert event["captions_url"] is None
    youtube = next(s for s in event["streams"] if s["provider"] == "youtube")
    assert "cc_load_policy" not in youtube["embed_url"]
    assert "enablejsapi=1" in youtube["embed_url"]


# ---------------------------------------------------------------- axe


AXE_PAGES = [
    "/gebaerdensprache?operator",
    "/impressum?operator",
    "/leichte-sprache",
    "/leichte-sprache?lang=en",
    "/gebaerdensprache",
    "/gebaerdensprache?lang=en",
    "/impressum",
    "/impressum?lang=en",
    "/e/mit-untertiteln",
    "/e/mit-untertiteln?lang=en",
    "/e/mit-untertiteln/mitmachen",
    "/e/mit-untertiteln/mitmachen?lang=en",
]


@pytest.mark.browser
@pytest.mark.parametrize("device", ["phone", "desktop"])
@pytest.mark.parametrize("path", AXE_PAGES)
def test_axe_finds_no_violations_on_the_new_pages(
    pages: Pages, operator_server: Server, shared_server: Server, captioned_event: str, path: str, device: str
) -> None:
    # The shared server has nothing filled in (the notices and placeholders); the operator's has everything.
    server = operator_server if "untertiteln" in path or "operator" in path else shared_server
    path = path.replace("&operator", "").replace("?operator", "")
    page = pages.open(**(PHONE_OPTIONS if device == "phone" else {"viewport": DESKTOP}))
    page.goto(f"{server.url}{path}")
    if page.locator("[data-connection]").count():
        page.locator("[data-connection][data-state='live']").wait_for(state="attached")
    violations = Axe().run(page, options=WCAG_21_AA).response["violations"]
    report = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in violations]
    assert not violations, f"{path} on a {device}:\n" + "\n".join(report)


@pytest.mark.browser
def test_the_sign_language_video_loads_after_consent(pages: Pages, operator_server: Server) -> None:
    page = pages.open()
    page.route(
        "https://www.youtube-nocookie.com/**", lambda route: route.fulfill(body="<p>DGS</p>", content_type="text/html")
    )
    page.goto(f"{operator_server.url}/gebaerdensprache")
    expect(page.locator("iframe")).to_have_count(0)
    page.get_by_role("button", name="Video laden").click()
    expect(page.locator("iframe[title='Video in Deutscher Gebärdensprache']")).to_be_visible()


def test_a_sign_language_video_file_elsewhere_waits_behind_the_consent_and_only_its_host_may_be_framed(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path, env={"SMARTRLP_DGS_VIDEO_URL": "https://medien.example.org/dgs/smart-rlp.mp4"}).start()
    try:
        response = httpx.get(f"{server.url}/gebaerdensprache", timeout=10)
        assert 'data-embed="https://medien.example.org/dgs/smart-rlp.mp4"' in response.text
        assert "<strong>medien.example.org</strong>" in response.text  # whom the consent names
        assert (
            "frame-src https://www.youtube-nocookie.com https://medien.example.org;"
            in response.headers["content-security-policy"]
        )
        assert "frame-src 'none'" in httpx.get(f"{server.url}/", timeout=10).headers["content-security-policy"]
    finally:
        server.stop()
