"""Languages: German by default, English complete for what is translated, chosen by the browser or the switch.

The catalogue test extracts the marked texts afresh, the way `pybabel extract` does, and fails when a text has no
English translation or a translation loses a placeholder; another reads the templates for text left unmarked."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from babel.messages.pofile import read_po
from browsing import Pages
from fixtures import PROJECT_ROOT, SLUG, Server, csrf_of
from playwright.sync_api import expect

from smartrlp.web.pages import TRANSLATED_TEMPLATES

PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")


def test_german_is_the_default_and_the_browser_can_ask_for_english(shared_server: Server) -> None:
    with shared_server.client() as client:
        german = client.get(f"/e/{SLUG}").text
        assert '<html lang="de"' in german
        assert '<h2 id="qa-heading">Fragen an das Podium</h2>' in german
        english = client.get(f"/e/{SLUG}", headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}).text
        assert '<html lang="en"' in english
        assert "Questions to the panel" in english
        assert '<h2 id="qa-heading">Questions to the panel</h2>' in english
        french = client.get(f"/e/{SLUG}", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).text
        assert '<html lang="de"' in french  # nothing we have: German


def test_the_switch_is_remembered_and_wins_over_the_browser(shared_server: Server) -> None:
    with shared_server.client(headers={"Accept-Language": "de-DE"}) as client:
        response = client.get(f"/e/{SLUG}?lang=en")
        assert '<html lang="en"' in response.text
        assert "srl_lang=en" in response.headers["set-cookie"]
        assert '<html lang="en"' in client.get(f"/e/{SLUG}").text
        assert '<html lang="de"' in client.get(f"/e/{SLUG}?lang=de").text
        assert '<html lang="de"' in client.get(f"/e/{SLUG}?lang=xx").text


WEEKDAYS = {
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
MONTHS = {
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def demo_dates(server: Server) -> dict[str, str]:
    """The demo event's time as the pages write it in each language (the demo is placed around the server's start)."""
    with server.client() as client:
        event = client.get(f"/api/events/{SLUG}").json()
    berlin = ZoneInfo("Europe/Berlin")
    start, end = (
        datetime.fromisoformat(event[k].replace("Z", "+00:00")).astimezone(berlin) for k in ("starts_at", "ends_at")
    )

    def long(moment: datetime, language: str) -> str:
        day, month = WEEKDAYS[language][moment.weekday()], MONTHS[language][moment.month - 1]
        if language == "de":
            return f"{day}, {moment.day}. {month} {moment.year} um {moment:%H:%M}"
        return f"{day} {moment.day} {month} {moment.year} at {moment:%H:%M}"

    # Over midnight (the demo is placed around the server's start) the end names its own day.
    same_day = start.date() == end.date()
    return {
        language: long(start, language)
        + " – "
        + (f"{end:%H:%M}" if same_day else long(end, language))
        + (" Uhr" if language == "de" else "")
        for language in ("de", "en")
    }


def test_dates_follow_the_language(shared_server: Server) -> None:
    dates = demo_dates(shared_server)
    with shared_server.client() as client:
        assert dates["de"] in client.get(f"/e/{SLUG}?lang=de").text
        assert dates["en"] in client.get(f"/e/{SLUG}?lang=en").text


def test_every_marked_text_has_an_english_translation_with_its_placeholders(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "t",
            "-k",
            "_",
            "-o",
            str(pot),
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with (PROJECT_ROOT / "smartrlp/locale/en.po").open("rb") as f:
        # A fuzzy entry is a guess `pybabel update` made from a similar text; the server does not use it.
        english = {m.id: m.string for m in read_po(f) if m.id and not m.fuzzy}
    untranslated = sorted(i for i in wanted if not english.get(i))
    assert not untranslated, "texts without an English translation (update smartrlp/locale/en.po):\n" + "\n".join(
        untranslated
    )
    for msgid in wanted:
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(english[msgid])), msgid


@pytest.mark.browser
def test_an_english_speaking_viewer_takes_part_in_english(pages: Pages, shared_server: Server) -> None:
    page = pages.open(f"{shared_server.url}/e/{SLUG}", locale="en-GB", extra_http_headers={"Accept-Language": "en-GB"})
    expect(page.get_by_role("status").filter(has_text="Connected live")).to_be_visible()
    page.get_by_label("Your question", exact=True).fill("Will there be subtitles for the recording?")
    expect(page.get_by_text("42 of 300 characters")).to_be_visible()
    page.get_by_role("button", name="Send question").click()
    expect(page.get_by_role("status").filter(has_text="Thank you! Your question has arrived.")).to_be_visible()
    expect(page.get_by_role("region", name="My questions")).to_contain_text("Waiting for moderation")
    # The switch in the header, for a German speaker on a borrowed laptop.
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Deutsch").click()
    expect(page.get_by_role("heading", name="Fragen an das Podium")).to_be_visible()
    expect(page.get_by_role("region", name="Meine Fragen")).to_contain_text("Wartet auf Freigabe")


def test_no_text_to_translate_hides_inside_a_template_literal() -> None:
    """`pybabel extract` does not look into `...${t("…")}...`: such a text would stay German in English."""
    hidden = []
    for script in sorted((PROJECT_ROOT / "static/js").glob("**/*.js")):
        for literal in re.findall(r"`[^`]*`", script.read_text(encoding="utf-8")):
            if re.search(r"\bt\(\s*\"", literal):
                hidden.append(f"{script.relative_to(PROJECT_ROOT)}: {literal[:80]}")
    assert not hidden, "move these t() calls out of the template literals:\n" + "\n".join(hidden)


# ---------------------------------------------------------------- no text left unmarked in a template

# Pages that stay German on purpose (see TRANSLATED_TEMPLATES): they show the broadcast, in the event's language.
GERMAN_ON_PURPOSE = {"present.html", "overlay.html"}
VISIBLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "aria-roledescription"}
# What may stand in a template as it is: attributes written by macros, the brand, addresses and paths.
NOT_WORDS = re.compile(r"[\w-]+=\"[^\"]*\"|Smart RLP Live|https?://\S*|(?<!\w)/[\w./-]*")
LITERAL = re.compile(r"""(_\(\s*)?(?:"([^"\\]*)"|'([^'\\]*)')""")


class _Texts(HTMLParser):
    """The text a person sees or hears: text nodes and the attributes read out, scripts and styles left out."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in {"script", "style"}
        self.found += [value for name, value in attrs if name in VISIBLE_ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in {"script", "style"}

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.found.append(data)


def unmarked_texts(source: str) -> list[str]:
    """Words in a template outside `{{ _("…") }}`: as markup text, or as string literals in its expressions."""
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    source = re.sub(r"\{%-?\s*block (body_class|html_attrs)\s*-?%\}.*?\{%-?\s*endblock\s*-?%\}", "", source, flags=re.S)
    found = []
    for expression in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", source, flags=re.S):
        for match in LITERAL.finditer(expression):
            text = match.group(2) if match.group(2) is not None else match.group(3)
            if match.group(1) or "<" in text or "/" in text or re.fullmatch(r"[A-Z0-9_]+", text):
                continue  # translated, markup, a path or a setting's name
            words = text.split()
            # Keys and CSS classes are lower-case identifiers; a capital, an umlaut or a phrase is text.
            if any(w != w.lower() or not w.isascii() for w in words) or (
                len(words) > 1 and not all("-" in w or "_" in w for w in words)
            ):
                found.append(text)
    parser = _Texts()
    parser.feed(re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", source, flags=re.S))
    found += [t.strip() for t in parser.found if re.search(r"[^\W\d_]{2,}", NOT_WORDS.sub("", t))]
    return found


def test_no_text_in_a_template_escapes_translation() -> None:
    assert unmarked_texts('<p>{{ _("Fertig") }}</p><p>{{ "Fertig" if done }}</p><p>Abbrechen</p>') == [
        "Fertig",
        "Abbrechen",
    ], "the check itself finds nothing"
    found = []
    for template in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        found += [f"{template.relative_to(PROJECT_ROOT)}: {text}" for text in unmarked_texts(template.read_text())]
    assert not found, 'mark these with {{ _("…") }}:\n' + "\n".join(found)


def test_every_page_is_translated_unless_german_on_purpose() -> None:
    """A new page (an admin page, say) joins TRANSLATED_TEMPLATES, or it would stay German without a switch."""
    pages = {
        str(template.relative_to(PROJECT_ROOT / "templates"))
        for template in (PROJECT_ROOT / "templates").rglob("*.html")
        if '{% extends "base.html" %}' in template.read_text()
    }
    assert pages - GERMAN_ON_PURPOSE == set(TRANSLATED_TEMPLATES)


# ---------------------------------------------------------------- the administration, the legal pages, the 500 page

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
GERMAN = {"Accept-Language": "de-DE"}
ENGLISH_DATE = re.compile(
    r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|"
    r"December) \d{4}, \d\d:\d\d\b"
)


def test_the_administration_speaks_the_browsers_language(shared_server: Server, shared_admin: httpx.Client) -> None:
    # Headers per request: the shared admin's cookies stay as they are (no language cookie) for other tests.
    home = shared_admin.get("/admin", headers=ENGLISH).text
    assert '<html lang="en"' in home
    assert '<nav class="language-switch" aria-label="Language">' in home
    assert '<span class="eyebrow">Administration</span> Events</h1>' in home
    dates = demo_dates(shared_server)
    assert dates["en"] in home
    german = shared_admin.get("/admin", headers=GERMAN).text
    assert '<html lang="de"' in german
    assert '<span class="eyebrow">Verwaltung</span> Veranstaltungen</h1>' in german
    assert dates["de"] in german

    users = shared_admin.get("/admin/users", headers=ENGLISH).text
    assert "<dt>Last login</dt>" in users
    assert ENGLISH_DATE.search(users), "the dates on the users page are not English"
    assert not re.search(r"<dd>[^<]* Uhr</dd>", users)

    csrf = csrf_of(shared_admin)
    wrong = {"csrf": csrf, "title": "", "youtube_url": "https://vimeo.com/76979871", "ends_at": "gestern"}
    answer = shared_admin.post("/admin/events/new", data=wrong, headers=ENGLISH)
    assert answer.status_code == 422
    assert "Please correct the 3 marked entries:" in answer.text
    for message in ("Please enter a title.", "That is not a YouTube video address.", "End: please give a date"):
        assert message in answer.text
    forged = shared_admin.post("/admin/events/new", data={**wrong, "csrf": "forged"}, headers=ENGLISH)
    assert forged.status_code == 403
    assert "The form has expired or did not come from this page." in forged.text
    with shared_server.client(headers=ENGLISH) as stranger:
        assert stranger.get("/admin").headers["location"].startswith("/login")


def test_an_english_legal_page_says_the_german_text_binds(shared_server: Server) -> None:
    note = "only the German version is binding: "
    link = '<a href="?lang=de" lang="de" hreflang="de">Deutsch</a>'
    with shared_server.client() as client:
        for path in ("/datenschutz", "/barrierefreiheit"):
            english = client.get(path, headers=ENGLISH).text
            assert note + link in english, path
            assert "verbindlich" not in client.get(path, headers=GERMAN).text, path


def test_a_missing_page_says_so_in_the_pages_language(shared_server: Server) -> None:
    """Not with the API's English message ("There is no event …") nor Starlette's reason phrase ("Not Found")."""
    with shared_server.client() as client:
        for headers, event, address in (
            (GERMAN, "Diese Veranstaltung gibt es nicht (mehr).", "Diese Adresse gibt es nicht."),
            (ENGLISH, "This event does not exist (any more).", "There is nothing at this address."),
        ):
            missing_event = client.get("/e/gibt-es-nicht", headers=headers)
            assert missing_event.status_code == 404
            assert event in missing_event.text
            missing_page = client.get("/gibt-es-nicht", headers=headers)
            assert missing_page.status_code == 404
            assert address in missing_page.text
        api = client.get("/api/events/gibt-es-nicht", headers=GERMAN).json()
        assert api["error"] == {"code": "event_not_found", "message": "There is no event 'gibt-es-nicht'."}


def test_the_500_page_speaks_the_language_of_the_request(tmp_path: Path) -> None:
    """Starlette answers an unexpected error outside every middleware, the one choosing the language included."""
    server = Server(tmp_path / "broken").start()
    try:
        # A broken database is the honest way to an unexpected error: a restore that lost a table, say.
        with sqlite3.connect(server.db_path) as db:
            db.execute("ALTER TABLE events RENAME TO events_lost")

        def get(path: str, headers: dict[str, str], cookies: dict[str, str] | None = None) -> httpx.Response:
            # A connection of its own each: the server hangs up after an unexpected error.
            with server.client(headers=headers, cookies=cookies) as client:
                return client.get(path)

        english = get(f"/e/{SLUG}", ENGLISH)
        assert english.status_code == 500
        assert '<html lang="en"' in english.text
        assert "<h1>Something went wrong</h1>" in english.text
        assert "The fault is ours, not yours. Please try again in a moment." in english.text
        german = get(f"/e/{SLUG}", GERMAN)
        assert german.status_code == 500
        assert '<html lang="de"' in german.text
        assert "<h1>Ein Fehler ist aufgetreten</h1>" in german.text
        assert "Der Fehler liegt bei uns, nicht bei Ihnen." in german.text
        # The switch's choice counts too, as the cookie or as ?lang=.
        assert '<html lang="en"' in get(f"/e/{SLUG}", GERMAN, cookies={"srl_lang": "en"}).text
        assert '<html lang="en"' in get(f"/e/{SLUG}?lang=en", GERMAN).text
        api = get(f"/api/events/{SLUG}", ENGLISH)
        assert (api.status_code, api.json()["error"]["code"]) == (500, "internal")
        assert get("/healthz", ENGLISH).status_code == 200
        assert f"unexpected error on GET /e/{SLUG}" in server.log()
    finally:
        server.stop()
