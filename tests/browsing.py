"""Browser machinery shared by the browser test modules (a pytest plugin, loaded by conftest.py).

Debian's Chromium through Playwright's sync API. Fixtures:

- `browser`: one Chromium for a test module.
- `pages`: opens pages (`Pages.open`), each in a browser context of its own, one person's device; any console
  error, uncaught page error or dialog on them fails the test at teardown.

Helpers: `launch_chromium`, `new_event` (an event of its own for one test), and the constants `WAIT`, `DESKTOP`,
`PHONE` and `PHONE_OPTIONS`.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fixtures import Server, create_event
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Playwright, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT = 10_000  # ms: how long a person would reasonably wait for a live update
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
PHONE_OPTIONS: dict[str, Any] = {"viewport": PHONE, "is_mobile": True, "has_touch": True}
# Every `expect` waits this long unless it says otherwise (Playwright's own default is 5 s).
expect.set_options(timeout=WAIT)


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with nothing running in the background that could slow down or phone home."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


# ---------------------------------------------------------------- browser, pages and their problems


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session scope: while Playwright's sync API runs, its event loop counts as running in
    # this thread, and every later `asyncio.run()` in other test modules (the CLI, create_event) would fail.
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


class Pages:
    """Opens pages, each in a fresh browser context (own cookies and storage: one person's device).

    Every console error, uncaught exception and dialog on any of them is recorded as a problem; the test
    fails on them at teardown. Dialogs are dismissed: confirmations are asked on the page itself, a native
    dialog would block a screen reader user's flow. The only console error ignored everywhere is a 404 for
    /favicon.ico, a known issue fixed separately; a test can allow more with `allow_console` when the browser
    itself reports something the page cannot avoid, and `allow_failed_load` for addresses that are expected
    to answer with an error (`open(url, status=403)` does that for its `url`).
    """

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.problems: list[str] = []
        self._allowed: list[re.Pattern[str]] = []
        self._refused: set[str] = set()  # addresses expected to answer 4xx; Chromium logs those as errors
        self._stack = contextlib.ExitStack()

    def open(
        self,
        url: str | None = None,
        *,
        viewport: dict[str, int] | None = None,
        status: int | None = None,
        **options: Any,
    ) -> Page:
        """A new page in a new context; with `url`, opened there, and with `status`, answered with that status."""
        options.setdefault("locale", "de-DE")
        context = self.browser.new_context(timezone_id="Europe/Berlin", viewport=viewport or DESKTOP, **options)
        self._stack.callback(context.close)
        context.set_default_timeout(WAIT)
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("dialog", self._dialog)
        if url is None:
            return page
        if status is not None and status >= 400:
            self.allow_failed_load(url)
        response = page.goto(url)
        if status is not None:
            assert response is not None, f"opening {url} got no response"
            assert response.status == status, f"{url} answered {response.status}, not {status}"
        return page

    def allow_console(self, pattern: str) -> None:
        """Ignore console errors whose text matches `pattern`."""
        self._allowed.append(re.compile(pattern))

    def allow_failed_load(self, url: str) -> None:
        """Ignore Chromium's "Failed to load resource" error for addresses starting with `url`."""
        self._refused.add(url)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "") if message.location else ""
        if where.endswith("/favicon.ico") and "404" in message.text:
            return
        if "Failed to load resource" in message.text and any(where.startswith(url) for url in self._refused):
            return
        if any(p.search(message.text) for p in self._allowed):
            return
        self.problems.append(f"console error: {message.text} ({where})")

    def _dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"dialog {dialog.type}: {dialog.message}")
        dialog.dismiss()

    def close(self) -> None:
        self._stack.close()


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    try:
        yield opened
    finally:
        opened.close()
    assert not opened.problems, "the pages reported problems:\n" + "\n".join(opened.problems)


# ---------------------------------------------------------------- server-side helpers


_event_numbers = itertools.count(1)


def new_event(server: Server, title: str, prefix: str = "browser") -> str:
    """A new event of its own for one test, so tests sharing a server never see each other's questions or polls.

    Its slug is `<prefix>-<n>`, with one counter for all prefixes.
    """
    slug = f"{prefix}-{next(_event_numbers)}"
    # Playwright's sync API keeps an event loop in this thread, so the asyncio helper runs in another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(create_event, server, slug, title).result()
    return slug


# ---------------------------------------------------------------- what people do on every page


def expect_live(page: Page, timeout: float = WAIT) -> None:
    """The page's websocket is open: "Live verbunden", or after the end of the event "Die Veranstaltung ist beendet"
    (which the badge says only while connected)."""
    badge = page.get_by_role("status").filter(has_text=re.compile("Live verbunden|Die Veranstaltung ist beendet"))
    expect(badge.and_(page.locator("[data-connection]"))).to_be_visible(timeout=timeout)


def log_in(
    pages: Pages,
    server: Server,
    path: str,
    credentials: tuple[str, str],
    *,
    lands_on: str | None = None,
    **options: Any,
) -> Page:
    """Open `path`, which shows the login form, log in there and land on `lands_on` (by default `path` itself)."""
    page = pages.open(f"{server.url}{path}", **options)
    expect(page.get_by_role("heading", name="Anmeldung für die Moderation")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(credentials[0])
    page.get_by_label("Passwort", exact=True).fill(credentials[1])
    page.get_by_role("button", name="Anmelden", exact=True).click()
    expect(page).to_have_url(f"{server.url}{lands_on or path}")
    return page


def log_in_and_moderate(pages: Pages, server: Server, slug: str, credentials: tuple[str, str]) -> Page:
    page = log_in(pages, server, f"/e/{slug}/moderate", credentials)
    expect(page.get_by_text(f"Angemeldet als {credentials[0]}")).to_be_visible()
    expect_live(page)
    page.evaluate("window.__notReloaded = true")
    return page
