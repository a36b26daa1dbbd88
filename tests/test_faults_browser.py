"""Faults as the people on the pages meet them, in Chromium: a server frozen for 20 s, and storage that cannot be
written. Every page recovers by itself, without a reload, and nothing is lost or applied twice."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from browsing import Pages, expect_live, log_in_and_moderate
from fixtures import SLUG, Server, add_moderator
from playwright.sync_api import Locator, Page, expect

FROZEN_SECONDS = 20
RECOVERY_MS = 30_000  # after SIGCONT: the pages' reconnection backoff may have grown meanwhile


def cards(page: Page, heading: str) -> Locator:
    """The cards of the console's inbox ("Eingang 3"), or of the tab of that name, which is chosen first."""
    name = re.compile(rf"^{re.escape(heading)} \d+$")
    if heading == "Eingang":
        return page.locator("section").filter(has=page.get_by_role("heading", name=name)).get_by_role("listitem")
    page.get_by_role("tab", name=name).click()
    return page.get_by_role("tabpanel", name=name).get_by_role("listitem")


def public_questions(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile(r"^Fragen aus dem Publikum")).get_by_role("listitem")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.__notReloaded === true"))


def stored(server: Server) -> list[tuple[str, str, int]]:
    with sqlite3.connect(server.db) as conn:
        return list(conn.execute("SELECT text, status, version FROM questions ORDER BY id"))


@pytest.fixture
def started(tmp_path: Path) -> Server:
    server = Server(tmp_path / "server").start()
    yield server
    if server.process is not None and server.running:
        os.kill(server.process.pid, signal.SIGCONT)  # never leave it stopped, whatever failed
    server.stop()
    server.assert_clean_log()


def test_a_server_frozen_for_20_s_loses_nothing_and_every_page_recovers_without_reload(
    started: Server, pages: Pages
) -> None:
    server = started
    credentials = ("freeze-moderator", "correct horse battery freeze")
    add_moderator(server, *credentials)
    moderator = log_in_and_moderate(pages, server, SLUG, credentials)
    viewer = pages.open(f"{server.url}/e/{SLUG}")
    expect_live(viewer)
    viewer.evaluate("window.__notReloaded = true")
    # Chromium reports a websocket that the frozen server did not answer in time; that is the point here.
    pages.allow_console(r"WebSocket connection to .* failed")
    expect(moderator.get_by_text("Jetzt verbunden: 1 Zuschauerin oder Zuschauer")).to_be_visible(timeout=15_000)

    viewer.get_by_label("Ihre Frage").fill("Vor dem Einfrieren gestellt?")
    viewer.get_by_role("button", name="Frage senden", exact=True).click()
    thanks = viewer.get_by_role("status").filter(has_text="Danke! Ihre Frage ist angekommen.")
    expect(thanks).to_be_visible()
    first = cards(moderator, "Eingang").filter(has_text="Vor dem Einfrieren gestellt?")
    expect(first).to_be_visible()

    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)
    frozen_at = time.monotonic()
    # While it is frozen, both people go on: the viewer asks, the moderator approves.
    viewer.get_by_label("Ihre Frage").fill("Während des Einfrierens gestellt?")
    viewer.get_by_role("button", name="Frage senden", exact=True).click()
    first.get_by_role("button", name="Freigeben", exact=True).click()
    # The scenario's length, not a wait for a condition: the process stays stopped this long.
    time.sleep(max(0.0, FROZEN_SECONDS - (time.monotonic() - frozen_at)))
    os.kill(server.process.pid, signal.SIGCONT)

    expect(viewer.get_by_role("status").filter(has_text="Danke! Ihre Frage ist angekommen.")).to_be_visible(
        timeout=RECOVERY_MS
    )
    expect(viewer.get_by_label("Ihre Frage")).to_have_value("", timeout=RECOVERY_MS)
    expect_live(viewer, timeout=RECOVERY_MS)
    expect_live(moderator, timeout=RECOVERY_MS)
    expect(cards(moderator, "Freigegeben").filter(has_text="Vor dem Einfrieren gestellt?")).to_have_count(
        1, timeout=RECOVERY_MS
    )
    expect(cards(moderator, "Eingang").filter(has_text="Während des Einfrierens gestellt?")).to_have_count(
        1, timeout=RECOVERY_MS
    )
    expect(public_questions(viewer).filter(has_text="Vor dem Einfrieren gestellt?")).to_have_count(1)
    assert not_reloaded(viewer)
    assert not_reloaded(moderator)

    # In the database: each question once, the approval applied once (one version step).
    questions = stored(server)
    assert [text for text, _, _ in questions] == ["Vor dem Einfrieren gestellt?", "Während des Einfrierens gestellt?"]
    assert questions[0][1] == "approved"
    assert questions[0][2] == questions[1][2] + 1
    # Still live afterwards: a change made now reaches both pages.
    viewer.get_by_label("Ihre Frage").fill("Nach dem Auftauen gestellt?")
    viewer.get_by_role("button", name="Frage senden", exact=True).click()
    expect(cards(moderator, "Eingang").filter(has_text="Nach dem Auftauen gestellt?")).to_be_visible()


def chattr(flag: str, *paths: Path) -> None:
    subprocess.run(["chattr", flag, *(str(p) for p in paths if p.exists())], check=True, capture_output=True)


def test_the_moderator_page_shows_a_banner_while_nothing_can_be_saved(started: Server, pages: Pages) -> None:
    server = started
    db_files = [server.db, Path(f"{server.db}-wal")]
    made = subprocess.run(["chattr", "+i", str(server.db)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {made.stderr.decode().strip()}")
    chattr("-i", *db_files)
    credentials = ("banner-moderator", "correct horse battery banner")
    add_moderator(server, *credentials)
    moderator = log_in_and_moderate(pages, server, SLUG, credentials)
    viewer = pages.open(f"{server.url}/e/{SLUG}")
    expect_live(viewer)
    banner = moderator.get_by_role("alert").filter(has_text="Speichern ist gerade nicht möglich.")
    expect(banner).to_be_hidden()

    try:
        chattr("+i", *db_files)
        pages.allow_failed_load(f"{server.url}/api/events/{SLUG}/questions")  # the refused question (503)
        viewer.get_by_label("Ihre Frage").fill("Geht das gerade?")
        viewer.get_by_role("button", name="Frage senden", exact=True).click()
        expect(viewer.get_by_text("Gerade kann nichts gespeichert werden.")).to_be_visible()
        expect(viewer.get_by_label("Ihre Frage")).to_have_value("Geht das gerade?")  # kept, to send again
        expect(banner).to_be_visible(timeout=20_000)  # the page asks every 10 s
    finally:
        chattr("-i", *db_files)
    expect(banner).to_be_hidden(timeout=30_000)  # the server notices within 5 s, the page within 10 s more
    viewer.get_by_role("button", name="Frage senden", exact=True).click()
    expect(viewer.get_by_role("status").filter(has_text="Danke! Ihre Frage ist angekommen.")).to_be_visible()
    expect(cards(moderator, "Eingang").filter(has_text="Geht das gerade?")).to_have_count(1)
