"""In the browser: limits are explained in German, and the moderator page moderates with the CSRF checks on."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browsing import Pages, expect_live, log_in_and_moderate
from fixtures import SLUG, Server, add_moderator
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("limited"), env={"SMARTRLP_LIMITS": "question_device=1/1h"}).start()
    try:
        yield server
    finally:
        server.stop()
    server.assert_clean_log()


def test_the_viewer_is_told_to_wait_and_the_moderator_page_still_moderates(pages: Pages, limited: Server) -> None:
    add_moderator(limited, "csrf-im-browser", "ein langes Passwort im Browser")
    moderator = log_in_and_moderate(pages, limited, SLUG, ("csrf-im-browser", "ein langes Passwort im Browser"))
    viewer = pages.open(f"{limited.url}/e/{SLUG}")
    expect_live(viewer)
    pages.allow_console("status of 429")  # Chromium reports the refused request itself
    for text, answer in (
        ("Wann kommt das Glasfaser nach Otterberg?", "Danke! Ihre Frage ist angekommen."),
        ("Und wann nach Weilerbach?", "Bitte warten Sie einen Moment, bevor Sie die nächste Frage stellen."),
    ):
        viewer.get_by_label("Ihre Frage").fill(text)
        viewer.get_by_role("button", name="Frage senden", exact=True).click()
        expect(viewer.get_by_role("status").filter(has_text=answer)).to_be_visible()
    # The moderator's clicks are API calls with the session cookie: they carry the page's CSRF token.
    incoming = moderator.locator("section, details").filter(
        has=moderator.get_by_role("heading", name=re.compile(r"^Eingang \d+$"))
    )
    incoming.get_by_role("listitem").filter(has_text="Otterberg").get_by_role(
        "button", name="Freigeben", exact=True
    ).click()
    public = viewer.get_by_role("region", name=re.compile(r"^Fragen aus dem Publikum")).get_by_role("listitem")
    expect(public.filter(has_text="Otterberg")).to_be_visible()
