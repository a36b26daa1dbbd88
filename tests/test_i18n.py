"""Languages: German by default, English complete for what is translated, chosen by the browser or the switch.

The catalogue test extracts the marked texts afresh, the way `pybabel extract` does, and fails when a text has no
English translation or a translation loses a placeholder."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from browsing import Pages
from conftest import PROJECT_ROOT, SLUG, Server
from playwright.sync_api import expect

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


def test_dates_follow_the_language(shared_server: Server) -> None:
    with shared_server.client() as client:
        assert "Dienstag, 19. Januar 2021 um 17:30 – 19:00 Uhr" in client.get(f"/e/{SLUG}?lang=de").text
        assert "Tuesday 19 January 2021 at 17:30 – 19:00" in client.get(f"/e/{SLUG}?lang=en").text


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
        english = {m.id: m.string for m in read_po(f) if m.id}
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
    for script in sorted((PROJECT_ROOT / "static/js").glob("*.js")):
        for literal in re.findall(r"`[^`]*`", script.read_text(encoding="utf-8")):
            if re.search(r"\bt\(\s*\"", literal):
                hidden.append(f"{script.name}: {literal[:80]}")
    assert not hidden, "move these t() calls out of the template literals:\n" + "\n".join(hidden)
