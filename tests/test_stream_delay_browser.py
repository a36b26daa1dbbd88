"""The viewer page waits for the viewer's video, in Chromium.

YouTube's player (the embed at youtube-nocookie.com) is replaced by a stand-in of the tests' own (the page loads the
real one in production), which reports that the frame on screen was shot 6 s ago, as the real player's
`mediaReferenceTime` (the IFrame API's `getMediaReferenceTime()`) does for a live stream. That viewer must see the
question on air, the studio screen's change and a new poll 6 s after the studio made them and not before; a viewer
with `?watch=none`, the presenter screen and the overlay at once.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from browsing import Pages, expect_live, log_in_and_moderate
from fixtures import Server, Viewer, bearer
from playwright.sync_api import Page, expect

from smartrlp.db.store import Database
from smartrlp.services.events import create_event as insert_event

pytestmark = pytest.mark.browser

DELAY_S = 6
# The player's stand-in, served at the embed's address: a live stream whose frame on screen is DELAY_S old,
# playing. It speaks the embed's postMessage protocol (what YouTube's IFrame API uses): once the page says it is
# listening, `infoDelivery` with the player state and `mediaReferenceTime` every 250 ms.
PLAYER_STAND_IN = f"""<!doctype html><title>Stand-in player</title><p>Video</p>
<script>
  window.addEventListener("message", (event) => {{
    const data = JSON.parse(event.data);
    if (data.event !== "listening" || window.__delivering) return;
    window.__delivering = true;
    parent.postMessage(JSON.stringify({{ event: "initialDelivery", id: data.id, info: {{ playerState: -1 }} }}), "*");
    setInterval(() => parent.postMessage(JSON.stringify({{
      event: "infoDelivery", id: data.id,
      info: {{ playerState: 1, currentTime: 12.5, mediaReferenceTime: (Date.now() - {DELAY_S * 1000}) / 1000 }},
    }}), "*"), 250);
  }});
</script>"""
# Tolerances (ms): the page checks what is due at least every second and draws in the next frame; a loaded
# machine adds more. "Not before" allows only for the clock offset the page estimated from pong.
EARLY_MS = 250
LATE_MS = 3000
AT_ONCE_MS = 2500

_numbers = itertools.count(1)


def youtube_event(server: Server) -> str:
    slug = f"video-{next(_numbers)}"

    async def work() -> None:
        db = Database(server.db_path)
        await db.open()
        try:
            async with db.transaction() as tx:
                fields = {
                    "slug": slug,
                    "title": "Bürgerdialog im Livestream",
                    "youtube_url": "https://youtu.be/SmartRLP-21",
                }
                await insert_event(tx, fields, [])
        finally:
            await db.close()

    # Playwright's sync API keeps an event loop in this thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, work()).result()
    return slug


def stand_in_youtube(page: Page) -> None:
    """The provider's player answered by the stand-in; nothing else of YouTube's is loaded by the page."""
    page.route(
        "https://www.youtube-nocookie.com/embed/**",
        lambda route: route.fulfill(body=PLAYER_STAND_IN, content_type="text/html"),
    )


WATCHER = """(targets) => {
  // When each target was first seen on screen (the page's own clock, which is the test machine's).
  window.__firstSeen = window.__firstSeen || {};
  const check = () => {
    for (const [key, selector, text] of targets) {
      if (key in window.__firstSeen) continue;
      for (const element of document.querySelectorAll(selector)) {
        if (element.checkVisibility({ opacityProperty: true, visibilityProperty: true })
            && element.textContent.includes(text)) {
          window.__firstSeen[key] = Date.now();
          break;
        }
      }
    }
  };
  check();
  setInterval(check, 20);
}"""


def first_seen(page: Page, key: str) -> float:
    page.wait_for_function("(key) => key in (window.__firstSeen || {})", arg=key, timeout=20_000)
    return float(page.evaluate("(key) => window.__firstSeen[key]", key))


def studio_link(moderator: Viewer, server: Server, slug: str, view: str) -> str:
    response = moderator.http.post(f"/api/events/{slug}/studio-links", json={"view": view})
    assert response.status_code == 201, response.text
    return re.sub(r"^https?://[^/]+", server.url, response.json()["url"])


def test_a_viewer_sees_what_the_video_shows_when_the_video_shows_it(
    pages: Pages, shared_server: Server, viewer: Callable[..., Viewer], shared_moderator_token: str
) -> None:
    slug = youtube_event(shared_server)
    api = f"/api/events/{slug}"
    moderator = viewer(headers=bearer(shared_moderator_token))
    # The event's setting says 30 s for YouTube: the player's own 6 s win while it reports them.
    assert moderator.http.put(f"{api}/stream-delays", json={"youtube": 30, "facebook": 0, "tv": 30}).status_code == 200
    asker = viewer()
    question = asker.http.post(f"{api}/questions", json={"text": "Wann kommt der Radweg nach Hachenburg?"}).json()
    assert moderator.http.patch(f"{api}/questions/{question['id']}", json={"status": "approved"}).status_code == 200
    earlier = moderator.http.post(
        f"{api}/polls", json={"title": "Kennen Sie den Radweg?", "kind": "single", "options": ["Ja", "Nein"]}
    ).json()
    assert moderator.http.patch(f"{api}/polls/{earlier['id']}", json={"state": "open"}).status_code == 200

    # A: watches here on YouTube (consent remembered); B: watches nowhere; the studio views.
    watching = pages.open()
    stand_in_youtube(watching)
    # The consent remembered from an earlier visit (on our page only: the embed's stand-in has no storage).
    watching.add_init_script(
        f"if (location.origin === {shared_server.url!r}) "
        "localStorage.setItem('smartrlp.streamConsent', JSON.stringify({youtube: true}))"
    )
    watching.goto(f"{shared_server.url}/e/{slug}")
    not_watching = pages.open(f"{shared_server.url}/e/{slug}?watch=none")
    present = pages.open(studio_link(moderator, shared_server, slug, "present"))
    overlay = pages.open(studio_link(moderator, shared_server, slug, "overlay"))
    for page in (watching, not_watching):
        expect_live(page)
        expect(page.get_by_text("Kennen Sie den Radweg?")).to_be_visible()
    expect(watching.locator("[data-watch-status]")).to_contain_text(f"{DELAY_S} Sekunden später")
    # The page loaded nothing of YouTube's but the embed (no script of theirs runs in our page).
    foreign = watching.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))"
    )
    assert foreign, "the embed is loaded"
    assert all(name.startswith("https://www.youtube-nocookie.com/embed/") for name in foreign), foreign
    expect(not_watching.get_by_role("radio", name="gar nicht")).to_be_checked()
    expect(watching.get_by_role("radio", name="hier")).to_be_checked()

    # The viewer's own doings never wait: a question asked and a ballot cast show at once, though the page waits 6 s.
    watching.get_by_label("Ihre Frage", exact=True).fill("Gibt es den Radweg auch barrierefrei?")
    watching.get_by_role("button", name="Frage senden", exact=True).click()
    expect(watching.locator("[data-mine-list]")).to_contain_text("Gibt es den Radweg auch barrierefrei?", timeout=2000)
    watching.get_by_role("button", name="Ja", exact=True).click()
    expect(watching.get_by_role("button", name=re.compile("^Ja"))).to_have_attribute(
        "aria-pressed", "true", timeout=2000
    )

    targets = [
        ("on_air", "[data-on-air]", question["text"]),
        ("screen", "[data-studio-now]", "Kennen Sie den Radweg?"),
        ("new_poll", "[data-poll-list]", "Wie kommen Sie zur Arbeit?"),
    ]
    for page in (watching, not_watching):
        page.evaluate(WATCHER, targets)
    present.evaluate(
        WATCHER,
        [
            ("on_air", "[data-stage] [data-slide='question']", question["text"]),
            ("screen", "[data-stage] [data-slide='poll']", "Kennen Sie den Radweg?"),
        ],
    )
    overlay.evaluate(
        WATCHER, [("on_air", "[data-panel]", question["text"]), ("screen", "[data-panel]", "Kennen Sie den Radweg?")]
    )
    studio = moderator.ws(slug)
    studio.recv()  # the snapshot

    # The host puts the question on air, on the studio screen too.
    assert moderator.http.patch(f"{api}/questions/{question['id']}", json={"highlighted": True}).status_code == 200
    assert moderator.http.put(f"{api}/screen", json={"mode": "question"}).status_code == 200
    on_air_at = studio.recv_until(lambda m: m["type"] == "on_air")[-1]["at"]
    for page in (not_watching, present, overlay):
        assert first_seen(page, "on_air") - on_air_at < AT_ONCE_MS
    seen = first_seen(watching, "on_air")
    assert on_air_at + DELAY_S * 1000 - EARLY_MS <= seen <= on_air_at + DELAY_S * 1000 + LATE_MS, seen - on_air_at

    # Then the studio screen shows the earlier poll's results, and a new poll opens.
    assert moderator.http.put(f"{api}/screen", json={"mode": "poll", "poll_id": earlier["id"]}).status_code == 200
    screen_at = studio.recv_until(lambda m: m["type"] == "screen" and m["screen"]["mode"] == "poll")[-1]["at"]
    created = moderator.http.post(
        f"{api}/polls",
        json={"title": "Wie kommen Sie zur Arbeit?", "kind": "single", "options": ["Rad", "Bus", "Auto"]},
    ).json()
    assert moderator.http.patch(f"{api}/polls/{created['id']}", json={"state": "open"}).status_code == 200
    poll_at = studio.recv_until(lambda m: m["type"] == "poll" and m["poll"]["state"] == "open")[-1]["at"]
    for page in (not_watching, present, overlay):
        assert first_seen(page, "screen") - screen_at < AT_ONCE_MS
    assert first_seen(not_watching, "new_poll") - poll_at < AT_ONCE_MS
    for key, at in (("screen", screen_at), ("new_poll", poll_at)):
        seen = first_seen(watching, key)
        assert at + DELAY_S * 1000 - EARLY_MS <= seen <= at + DELAY_S * 1000 + LATE_MS, (key, seen - at)


def test_the_choice_comes_from_a_link_is_remembered_and_changes_the_wait(
    pages: Pages, shared_server: Server, viewer: Callable[..., Viewer], shared_moderator_token: str
) -> None:
    slug = youtube_event(shared_server)
    moderator = viewer(headers=bearer(shared_moderator_token))
    body = {"youtube": 20, "facebook": 0, "tv": 30}
    assert moderator.http.put(f"/api/events/{slug}/stream-delays", json=body).status_code == 200
    # The QR code in the TV broadcast leads to /j/{code}?watch=tv: the phone page then knows.
    code = moderator.http.get(f"/api/events/{slug}").json()["join_code"]
    page = pages.open(f"{shared_server.url}/j/{code}?watch=tv")
    expect(page).to_have_url(re.compile(rf"/e/{slug}/mitmachen\?watch=tv$"))
    expect_live(page)
    expect(page.get_by_role("radio", name="im Fernsehen")).to_be_checked()
    expect(page.locator("[data-watch-status]")).to_contain_text("30 Sekunden später")
    # Remembered on the device: the viewer page without the link's choice.
    page.goto(f"{shared_server.url}/e/{slug}")
    expect_live(page)
    expect(page.get_by_role("radio", name="im Fernsehen")).to_be_checked()
    page.get_by_text("bei YouTube", exact=True).click()
    expect(page.locator("[data-watch-status]")).to_contain_text("20 Sekunden später")
    page.reload()
    expect(page.get_by_role("radio", name="bei YouTube")).to_be_checked()
    # A new setting reaches the open page (after the delay it changes, as it is itself news from the studio).
    page.get_by_text("gar nicht", exact=True).click()
    expect(page.locator("[data-watch-status]")).to_have_text("Neues erscheint sofort.")


def test_the_phone_page_asks_where_the_viewer_watches(pages: Pages, shared_server: Server) -> None:
    slug = youtube_event(shared_server)
    page = pages.open(f"{shared_server.url}/e/{slug}/mitmachen")
    choice = page.locator("[data-watch-choice]")
    expect(choice).to_have_attribute("data-answered", "false")
    # No stream on the phone page: "hier" is no choice there; Facebook is none for an event without it.
    expect(choice.get_by_role("radio")).to_have_count(3)
    for name in ("im Fernsehen", "bei YouTube", "gar nicht"):
        expect(choice.get_by_role("radio", name=name)).not_to_be_checked()
    choice.get_by_text("im Fernsehen", exact=True).click()
    expect(choice).to_have_attribute("data-answered", "true")
    assert page.evaluate("localStorage.getItem('smartrlp.watch')") == "tv"


def test_the_sound_check_clock_and_the_console_calculator_give_the_delay_to_save(
    pages: Pages, shared_server: Server, viewer: Callable[..., Viewer], shared_moderator_credentials: tuple[str, str]
) -> None:
    slug = youtube_event(shared_server)
    moderator = log_in_and_moderate(pages, shared_server, slug, shared_moderator_credentials)
    # The overlay's clock: the server's time, in the events' time zone, with tenths.
    overlay = pages.open()
    overlay.context.add_cookies(moderator.context.cookies())  # the moderator's login, on the studio machine
    overlay.goto(f"{shared_server.url}/e/{slug}/overlay?clock=1")
    shown = overlay.locator("[data-overlay-clock-time]")
    expect(shown).to_have_text(re.compile(r"^\d\d:\d\d:\d\d,\d$"))
    berlin_now = datetime.now(ZoneInfo("Europe/Berlin"))
    hours, minutes, seconds = (int(part) for part in shown.text_content().split(",")[0].split(":"))
    drift = abs(
        (hours * 3600 + minutes * 60 + seconds) - (berlin_now.hour * 3600 + berlin_now.minute * 60 + berlin_now.second)
    )
    assert min(drift, 86400 - drift) <= 2
    # Two readings from one photo: the server's clock and the overlay clock in a viewer's picture, 23 s apart
    # (across midnight, too).
    moderator.get_by_text("Bei der Tonprobe messen").click()
    expect(moderator.locator("[data-delay-clock]")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d,\d$"))
    moderator.get_by_label("Uhr des Servers auf dem Foto").fill("00:00:11")
    moderator.get_by_label("Uhr im Zuschauerbild").fill("23:59:48,4")
    expect(moderator.locator("[data-delay-result]")).to_have_text(
        "Das Zuschauerbild liegt 23 Sekunden hinter dem Studio."
    )
    moderator.get_by_role("button", name="Für Fernsehen übernehmen").click()
    expect(moderator.get_by_label("Fernsehen", exact=True)).to_have_value("23")
    moderator.get_by_role("button", name="Verzögerung speichern").click()
    expect(moderator.locator("[data-delay-feedback]")).to_have_text(
        "Gespeichert. Die Zuschauerseiten richten sich ab jetzt danach."
    )
    delays = viewer().http.get(f"/api/events/{slug}").json()["stream_delays"]
    assert delays == {"youtube": 0, "facebook": 0, "tv": 23}
    # Out of range: said on the page, nothing sent.
    moderator.get_by_label("YouTube", exact=True).fill("121")
    moderator.get_by_role("button", name="Verzögerung speichern").click()
    expect(moderator.locator("[data-delay-feedback]")).to_have_text("Bitte ganze Sekunden von 0 bis 120 angeben.")
    assert viewer().http.get(f"/api/events/{slug}").json()["stream_delays"]["youtube"] == 0
