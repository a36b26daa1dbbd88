"""Full-page screenshots of every page, on a phone and on a desktop, for looking at the layout by eye.

    python3 bench/screenshots.py [--out screenshots]

Starts `smartrlp serve --demo` on a free port with a throw-away database, reads the demo moderator's
password from its output, fills the demo event with questions in every state (one on air), and writes
PNGs named `<page>-<phone|desktop>.png` to the output directory (default: ./screenshots, gitignored).
Needs Debian's Chromium at /usr/bin/chromium, Playwright for Python and the test dependencies (it takes the
browser settings from tests/browsing.py). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
# The browser tests' Chromium and screen sizes (tests/browsing.py).
sys.path.insert(0, str(ROOT / "tests"))
from browsing import DESKTOP, PHONE, launch_chromium  # noqa: E402

SLUG = "smart-rlp"
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
PASSWORD_LINE = re.compile(r"Demo-Moderator:\s+Name '([^']+)', Passwort '([^']+)'")
WAIT_MS = 15_000

QUESTIONS = [
    # (text, name, what the moderator does with it)
    ("Wie unterstützt MiniMOGLI die Schulen, wenn der Präsenzunterricht wieder beginnt?", "Jana", "on_air"),
    ("Wann fährt der teilautonome Shuttle auch in den Stadtteilen?", "Peter aus Hohenecken", "approved"),
    ("Welche Förderprogramme gibt es für kleine Gemeinden ohne eigene IT-Abteilung?", None, "approved"),
    ("Wird es die Veranstaltung später als Aufzeichnung geben?", "Sabine", "answered"),
    (
        "Bekommt jedes Dorf bis 2025 Glasfaser? Bei uns in der Verbandsgemeinde tut sich seit Jahren nichts!",
        None,
        "pending",
    ),
    ("Was kostet das alles die Steuerzahler?", "M. K.", "pending"),
    ("Das ist doch alles nur Show!!!", None, "rejected"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], object], what: str, timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def demo_server(directory: Path) -> Iterator[tuple[str, tuple[str, str]]]:
    """`smartrlp serve --demo`; yields its address and the demo moderator's (name, password)."""
    port = free_port()
    out_path, log_path = directory / "serve.out", directory / "serve.log"
    command = [
        sys.executable,
        "-m",
        "smartrlp",
        "serve",
        "--demo",
        "--port",
        str(port),
        "--db",
        str(directory / "demo.db"),
    ]
    with out_path.open("wb") as out, log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=log, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:

        def password() -> re.Match[str] | None:
            if process.poll() is not None:
                raise SystemExit(f"the server exited:\n{log_path.read_text()}")
            return PASSWORD_LINE.search(out_path.read_text("utf-8", "replace"))

        match = wait_for(password, "the demo moderator's password")
        assert isinstance(match, re.Match)

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy, "the server to answer /healthz")
        yield url, (match.group(1), match.group(2))
    finally:
        process.terminate()
        process.wait(timeout=15)


def fill_with_questions(url: str, credentials: tuple[str, str]) -> None:
    """Ask as several devices, then moderate through a logged-in session, exactly as the pages do."""
    with httpx.Client(base_url=url, timeout=10) as staff:
        response = staff.post("/login", data={"name": credentials[0], "password": credentials[1], "next": "/"})
        if response.status_code != 303:
            raise SystemExit(f"login failed: {response.status_code}")
        for number, (text, name, outcome) in enumerate(QUESTIONS):
            with httpx.Client(base_url=url, timeout=10) as device:
                device.get(f"/e/{SLUG}").raise_for_status()  # the device cookie
                question = device.post(f"/api/events/{SLUG}/questions", json={"text": text, "name": name})
                question.raise_for_status()
            question_id = question.json()["id"]
            path = f"/api/events/{SLUG}/questions/{question_id}"
            if outcome in {"approved", "answered", "on_air"}:
                staff.patch(path, json={"status": "approved"}).raise_for_status()
                # Different vote counts, so the "popular" order shows.
                for _ in range(len(QUESTIONS) - number):
                    with httpx.Client(base_url=url, timeout=10) as voter:
                        voter.get(f"/e/{SLUG}").raise_for_status()
                        voter.post(f"{path}/votes").raise_for_status()
            if outcome == "answered":
                staff.patch(path, json={"status": "answered"}).raise_for_status()
            elif outcome == "on_air":
                staff.patch(path, json={"highlighted": True}).raise_for_status()
            elif outcome == "rejected":
                staff.patch(path, json={"status": "rejected"}).raise_for_status()


def new_page(browser: Browser, url: str, viewport: dict[str, int], locale: str = "de-DE") -> Page:
    phone = viewport["width"] < 600
    context = browser.new_context(
        viewport=viewport, locale=locale, timezone_id="Europe/Berlin", is_mobile=phone, has_touch=phone
    )
    context.set_default_timeout(WAIT_MS)

    def offline(route: Route) -> None:
        route.abort()

    # Nothing leaves the machine: the video providers are not reachable here anyway.
    context.route(lambda address: not address.startswith(url), offline)
    page = context.new_page()
    page.on("console", lambda m: print(f"  console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: print(f"  page error: {e}"))
    return page


def live(page: Page) -> None:
    expect(page.get_by_role("status").filter(has_text="Live verbunden")).to_be_visible(timeout=WAIT_MS)


def shoot(page: Page, out: Path, name: str) -> None:
    # Let the live update render, and fonts settle, before the picture.
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    viewport = page.viewport_size or {"width": 0}
    overflow = (
        f"  (scrollWidth {width} > {viewport['width']}: horizontal overflow!)" if width > viewport["width"] else ""
    )
    print(f"{path}{overflow}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="smartrlp-screens-"))
    try:
        with demo_server(workdir) as (url, credentials), sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for kind, viewport in VIEWPORTS.items():
                page = new_page(browser, url, viewport)
                page.goto(f"{url}/")
                shoot(page, out, f"home-{kind}")
                page.context.close()

                page = new_page(browser, url, viewport)
                page.goto(f"{url}/e/gibt-es-nicht")
                shoot(page, out, f"error-404-{kind}")
                page.context.close()

                page = new_page(browser, url, viewport)
                page.goto(f"{url}/e/{SLUG}")
                live(page)
                shoot(page, out, f"viewer-before-consent-{kind}")
                page.context.close()

                page = new_page(browser, url, viewport)
                page.goto(f"{url}/login?next=/e/{SLUG}/moderate")
                shoot(page, out, f"login-{kind}")
                page.get_by_label("Name", exact=True).fill(credentials[0])
                page.get_by_label("Passwort", exact=True).fill("falsch, absichtlich")
                page.get_by_role("button", name="Anmelden").click()
                expect(page.get_by_role("alert")).to_be_visible()
                shoot(page, out, f"login-error-{kind}")
                page.context.close()

            fill_with_questions(url, credentials)

            for kind, viewport in VIEWPORTS.items():
                page = new_page(browser, url, viewport)
                page.goto(f"{url}/e/{SLUG}")
                live(page)
                page.get_by_label("Ihre Frage").fill("Gibt es die Folien des Vortrags zum Nachlesen?")
                page.get_by_role("button", name="Frage senden").click()
                expect(page.get_by_role("region", name="Meine Fragen")).to_be_visible()
                expect(page.locator("[data-on-air]")).to_be_visible()
                shoot(page, out, f"viewer-questions-on-air-{kind}")
                if kind == "desktop":
                    # On wide screens the question column scrolls on its own, so the full-page picture above
                    # cannot show the public list: scroll it into view and take what the screen shows.
                    public = page.get_by_role("heading", name=re.compile(r"^Fragen aus dem Publikum"))
                    public.scroll_into_view_if_needed()
                    page.screenshot(path=str(out / "viewer-questions-list-desktop.png"))
                    print(out / "viewer-questions-list-desktop.png")
                page.context.close()

                page = new_page(browser, url, viewport)
                page.goto(f"{url}/e/{SLUG}/moderate")
                page.get_by_label("Name", exact=True).fill(credentials[0])
                page.get_by_label("Passwort", exact=True).fill(credentials[1])
                page.get_by_role("button", name="Anmelden").click()
                live(page)
                expect(page.locator("[data-column=rejected] li")).to_have_count(1)
                # Unfold the folded "Nicht angenommen" column so that every column shows its questions.
                page.get_by_role("heading", name=re.compile(r"^Nicht angenommen")).click()
                expect(page.locator("[data-column=rejected] li")).to_be_visible()
                shoot(page, out, f"moderate-{kind}")
                page.context.close()

            # The same viewer page in a browser set to English (many phones are): the page stays German.
            page = new_page(browser, url, VIEWPORTS["desktop"], locale="en-US")
            page.goto(f"{url}/e/{SLUG}")
            live(page)
            shoot(page, out, "viewer-english-browser-desktop")
            page.context.close()
            browser.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
