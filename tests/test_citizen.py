"""The event's life over real HTTP and websockets (issue 15): a demo that is live when it starts, the phase rules the
server holds every page to, reopening questions after the end, taking an upvote back, asking without JavaScript."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fixtures import SLUG, Server, Viewer, bearer, csrf_of, demo_credentials, login
from test_phases import make_event

from smartrlp.services.event_admin import SLUG_MAX, slugify

BERLIN = ZoneInfo("Europe/Berlin")


class DemoServer(Server):
    """`serve --demo` exactly as a newcomer starts it: with the sample questions and poll."""

    def command(self) -> list[str]:
        return [*super().command(), "--demo"]


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path / "demo", demo=False).start()
    try:
        yield server
    finally:
        server.stop()
    server.assert_clean_log()


def _shift_demo(server: Server, delta: timedelta, title: str | None = None) -> None:
    """Move the demo's times (event and agenda) by `delta`, as if it had been made that much earlier or later."""

    def moved(iso: str) -> str:
        return (datetime.fromisoformat(iso.replace("Z", "+00:00")) + delta).isoformat().replace("+00:00", "Z")

    with sqlite3.connect(server.db_path) as db:
        event_id, starts, ends = db.execute(
            "SELECT id, starts_at, ends_at FROM events WHERE slug = ?", (SLUG,)
        ).fetchone()
        db.execute("UPDATE events SET starts_at = ?, ends_at = ? WHERE id = ?", (moved(starts), moved(ends), event_id))
        for item_id, item_start in db.execute("SELECT id, starts_at FROM agenda_items WHERE event_id = ?", (event_id,)):
            db.execute("UPDATE agenda_items SET starts_at = ? WHERE id = ?", (moved(item_start), item_id))
        if title is not None:
            db.execute("UPDATE events SET title = ? WHERE id = ?", (title, event_id))


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_the_demo_is_live_when_it_starts_with_sample_questions_and_a_poll(demo_server: DemoServer) -> None:
    out = demo_server.stdout()
    for path in ("/e/smart-rlp", "/e/smart-rlp/mitmachen", "/e/smart-rlp/moderate", "/e/smart-rlp/present", "/admin"):
        assert f"{demo_server.url}{path}\n" in out, out
    assert "Demo-Administrator:" in out
    assert "Ein Administrator" in out
    with demo_server.client() as client:
        event = client.get(f"/api/events/{SLUG}").json()
        starts, ends, now = _parse(event["starts_at"]), _parse(event["ends_at"]), datetime.now(UTC)
        # Started ten minutes before the server, ends eighty minutes after it (the test may start a little later).
        assert timedelta(minutes=9) < now - starts < timedelta(minutes=12)
        assert ends - starts == timedelta(minutes=90)
        # The agenda keeps the original's shape, relative to the new start; the item on now is marked.
        offsets = [(_parse(i["starts_at"]) - starts).total_seconds() / 60 for i in event["agenda"]]
        assert offsets == [0, 5, 10, 35, 45, 85]
        current = next(i for i in event["agenda"] if i["id"] == event["current_agenda"]["item_id"])
        assert current["title"].startswith("Gespräch")
        public = client.get(f"/api/events/{SLUG}/questions").json()["questions"]
        assert len(public) >= 3
        assert all(q["status"] == "approved" for q in public)
        assert any("MiniMOGLI" in q["text"] for q in public)
        assert event["on_air_question_id"] == public[0]["id"]
        page = client.get(f"/e/{SLUG}").text
        assert re.search(r'data-phase="after" aria-labelledby="after-heading" hidden', page)
    admin = login(demo_server, *demo_credentials(demo_server))
    try:
        everything = admin.get(f"/api/events/{SLUG}/questions").json()["questions"]
        assert [q["status"] for q in everything].count("pending") == 1
        polls = admin.get(f"/api/events/{SLUG}/polls").json()["polls"]
        assert [p["state"] for p in polls] == ["draft"]
    finally:
        admin.close()


def test_a_restart_keeps_a_live_demo_renews_an_ended_one_and_leaves_an_edited_one(demo_server: DemoServer) -> None:
    with demo_server.client() as client:
        first = client.get(f"/api/events/{SLUG}").json()
    demo_server.stop()
    demo_server.start()
    assert "Demo-Veranstaltung (vorhanden)" in demo_server.stdout()
    with demo_server.client() as client:
        assert client.get(f"/api/events/{SLUG}").json()["starts_at"] == first["starts_at"]
    demo_server.stop()

    # A day later the untouched demo has ended: the next start makes it anew, live again.
    _shift_demo(demo_server, timedelta(days=-1))
    demo_server.start()
    assert "war beendet, neu angelegt" in demo_server.stdout()
    assert "purged" not in demo_server.log(current_run_only=True)
    with demo_server.client() as client:
        renewed = client.get(f"/api/events/{SLUG}").json()
    assert _parse(renewed["starts_at"]) < datetime.now(UTC) < _parse(renewed["ends_at"])
    demo_server.stop()

    # An admin's edit makes it the organisers' event: it is left alone, ended as it is.
    _shift_demo(demo_server, timedelta(days=-1), title="Smart RLP 2027 – unser Netzwerktreffen")
    demo_server.start()
    assert "unverändert gelassen" in demo_server.stdout()
    with demo_server.client() as client:
        kept = client.get(f"/api/events/{SLUG}").json()
    assert kept["title"] == "Smart RLP 2027 – unser Netzwerktreffen"
    assert _parse(kept["ends_at"]) < datetime.now(UTC)


# --- the phase rules --------------------------------------------------------------------------------------------


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    return viewer(headers=bearer(shared_moderator_token))


def _open_poll(moderator: Viewer, slug: str) -> int:
    created = moderator.http.post(
        f"/api/events/{slug}/polls", json={"title": "Wie gut ist das Netz bei Ihnen?", "kind": "rating"}
    )
    assert created.status_code == 201, created.text
    poll_id = int(created.json()["id"])
    opened = moderator.http.patch(f"/api/events/{slug}/polls/{poll_id}", json={"state": "open"})
    assert opened.status_code == 200, opened.text
    return poll_id


def test_before_the_start_questions_in_advance_but_no_reactions_or_ballots(
    shared_admin: httpx.Client, viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    make_event(shared_admin, "vorher", timedelta(days=1), timedelta(days=1, hours=2))
    audience = viewer()
    assert audience.ask("Gibt es Gebärdensprache?", slug="vorher")["status"] == "pending"
    reaction = audience.http.post("/api/events/vorher/reactions", json={"kind": "applause"})
    assert reaction.status_code == 409
    assert reaction.json()["error"]["code"] == "event_not_started"
    poll_id = _open_poll(moderator, "vorher")
    ballot = audience.http.post(f"/api/events/vorher/polls/{poll_id}/votes", json={"value": 3})
    assert ballot.status_code == 409
    assert ballot.json()["error"]["code"] == "event_not_started"
    page = audience.http.get("/e/vorher").text
    assert re.search(r'<section class="reactions card" data-reactions hidden', page)


def test_after_the_end_the_event_closes_by_itself(
    shared_server: Server, shared_admin: httpx.Client, viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    make_event(shared_admin, "vorbei-jetzt", timedelta(hours=-2), timedelta(minutes=-1))
    poll_id = _open_poll(moderator, "vorbei-jetzt")  # a moderator's late click: the end closes it anyway
    audience = viewer()
    live = audience.ws(slug="vorbei-jetzt")
    assert live.recv()["type"] == "snapshot"

    asked = audience.http.post("/api/events/vorbei-jetzt/questions", json={"text": "Noch eine Frage?"})
    assert asked.status_code == 409
    assert asked.json()["error"]["code"] == "event_ended"
    reaction = audience.http.post("/api/events/vorbei-jetzt/reactions", json={"kind": "heart"})
    assert reaction.status_code == 409
    assert reaction.json()["error"]["code"] == "event_ended"
    live.send({"type": "react", "kind": "heart"})
    refused = live.recv_until(lambda m: m["type"] == "error")[-1]
    assert refused["code"] == "event_ended"
    ballot = audience.http.post(f"/api/events/vorbei-jetzt/polls/{poll_id}/votes", json={"value": 3})
    assert ballot.status_code == 409
    assert ballot.json()["error"]["code"] == "event_ended"

    # The open poll is closed by the server, and every page hears of it.
    closed = live.recv_until(lambda m: m["type"] == "poll" and m["poll"]["state"] == "closed", timeout=30)[-1]
    assert closed["poll"]["id"] == poll_id

    page = audience.http.get("/e/vorbei-jetzt").text
    notice = re.search(r'data-closed-reason="ended"( hidden)?>', page)
    assert notice, "the page has the notice"
    assert not notice.group(1), "the page says the event takes no more questions"
    assert re.search(r'<form class="card ask stack" data-ask-form method="post" [^>]* hidden>', page)


def test_a_moderator_reopens_questions_after_the_end_for_a_set_time(
    shared_admin: httpx.Client, viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    make_event(shared_admin, "nachspiel", timedelta(hours=-2), timedelta(minutes=-5))
    audience = viewer()
    assert audience.http.post("/api/events/nachspiel/questions/reopen", json={"minutes": 30}).status_code == 401
    live = audience.ws(slug="nachspiel")
    assert live.recv()["type"] == "snapshot"

    reopened = moderator.http.post("/api/events/nachspiel/questions/reopen", json={"minutes": 30})
    assert reopened.status_code == 200, reopened.text
    until = _parse(reopened.json()["questions_until"])
    assert timedelta(minutes=29) < until - datetime.now(UTC) <= timedelta(minutes=30)
    pushed = live.recv_until(lambda m: m["type"] == "event")[-1]
    assert pushed["event"]["questions_until"] == reopened.json()["questions_until"]
    assert audience.ask("Kommen die Folien online?", slug="nachspiel")["status"] == "pending"
    page = audience.http.get("/e/nachspiel").text
    assert re.search(r"data-questions-reopened>", page), "the form says questions are taken after the end"

    closed = moderator.http.post("/api/events/nachspiel/questions/reopen", json={"minutes": 0})
    assert closed.json() == {"questions_until": None}
    refused = audience.http.post("/api/events/nachspiel/questions", json={"text": "Und noch eine?"})
    assert refused.json()["error"]["code"] == "event_ended"
    for bad in ({"minutes": -1}, {"minutes": 1441}, {"minutes": "30"}, {}):
        response = moderator.http.post("/api/events/nachspiel/questions/reopen", json=bad)
        assert response.status_code == 422, (bad, response.text)


# --- upvotes taken back, asking without JavaScript --------------------------------------------------------------


def test_a_viewer_takes_an_upvote_back(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    question = viewer().ask("Wann fährt der Bus ohne Fahrer durch die Fußgängerzone?")
    moderator.moderate(question["id"], status="approved")
    voter, watcher = viewer(), viewer()
    live = watcher.ws()
    assert live.recv()["type"] == "snapshot"
    votes = f"/api/events/{SLUG}/questions/{question['id']}/votes"
    assert voter.http.post(votes).json()["votes"] == 1
    taken_back = voter.http.delete(votes)
    assert taken_back.status_code == 200, taken_back.text
    assert taken_back.json() == {"question_id": question["id"], "votes": 0, "counted": True, "voted": False}
    counts = [m["votes"] for m in live.recv_until(lambda m: m["type"] == "votes" and m["votes"] == 0)]
    assert counts[-2:] == [1, 0]
    again = voter.http.delete(votes).json()
    assert again["counted"] is False
    assert again["votes"] == 0
    assert voter.http.post(votes).json() == {"question_id": question["id"], "votes": 1, "counted": True, "voted": True}
    moderator.moderate(question["id"], status="answered")
    assert voter.http.delete(votes).json()["error"]["code"] == "not_votable"


def test_the_ask_form_posts_and_answers_with_a_page(viewer: Callable[..., Viewer]) -> None:
    audience = viewer()
    page = audience.http.get(f"/e/{SLUG}").text
    form = re.search(r"<form class=\"card ask stack\"[^>]*>", page)
    assert form
    assert 'method="post"' in form.group(0)
    assert f'action="/e/{SLUG}/fragen"' in form.group(0)
    assert re.search(r'<input type="checkbox" data-consent-remember>', page), "the consent box starts unticked"

    text = "Welche Projekte können kleine Gemeinden ohne IT-Abteilung übernehmen?"
    sent = audience.http.post(f"/e/{SLUG}/fragen", data={"text": text, "name": "Anke aus Mayen"})
    assert sent.status_code == 201, sent.text
    assert "Danke! Ihre Frage ist angekommen." in sent.text
    assert text in sent.text
    assert f'href="/e/{SLUG}"' in sent.text
    mine = [q for q in audience.questions() if q["mine"]]
    assert [(q["text"], q["name"]) for q in mine] == [(text, "Anke aus Mayen")]

    empty = audience.http.post(f"/e/{SLUG}/fragen", data={"text": "  ", "name": "Anke aus Mayen"})
    assert empty.status_code == 422
    assert "Bitte schreiben Sie zuerst Ihre Frage." in empty.text
    assert 'value="Anke aus Mayen"' in empty.text, "what the asker typed stays in the form"
    too_long = audience.http.post(f"/e/{SLUG}/fragen", data={"text": "x" * 301}, headers={"Accept-Language": "en"})
    assert too_long.status_code == 422
    assert "x" * 301 in too_long.text

    from_phone = audience.http.post(f"/e/{SLUG}/fragen?lang=en", data={"text": "Gibt es WLAN?", "from": "mitmachen"})
    assert from_phone.status_code == 201
    assert "Thank you! Your question has arrived." in from_phone.text
    assert f'href="/e/{SLUG}/mitmachen"' in from_phone.text


def test_the_ask_form_after_the_end_says_why(shared_admin: httpx.Client, viewer: Callable[..., Viewer]) -> None:
    make_event(shared_admin, "zu-spaet", timedelta(hours=-2), timedelta(minutes=-1))
    refused = viewer().http.post("/e/zu-spaet/fragen", data={"text": "Bin ich zu spät?"})
    assert refused.status_code == 409
    assert "Die Veranstaltung ist beendet: Es werden keine neuen Fragen mehr angenommen." in refused.text
    assert "Bin ich zu spät?" in refused.text


# --- slugs --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Interkommunaler Austausch – Digitalisierung in Rheinland-Pfalz", "interkommunaler-austausch"),
        ("Digitales Netzwerktreffen der Städte Kaiserslautern", "digitales-netzwerktreffen-der-staedte"),
        ("Smart RLP", "smart-rlp"),
        ("Donaudampfschifffahrtsgesellschaftskapitänsmützenfabrikation", "donaudampfschifffahrtsgesellschaftskapit"),
    ],
)
def test_slugs_are_short_and_keep_whole_words(title: str, slug: str) -> None:
    assert SLUG_MAX == 40
    assert slugify(title) == slug
    assert len(slugify(title)) <= SLUG_MAX


# --- web hygiene ----------------------------------------------------------------------------------------------


def test_pages_json_css_and_js_are_compressed_and_static_files_cached_without_a_cookie(
    shared_server: Server, shared_admin: httpx.Client
) -> None:
    gzip = {"Accept-Encoding": "gzip"}
    with shared_server.client(headers=gzip) as client:
        page = client.get(f"/e/{SLUG}")
        assert page.headers["content-encoding"] == "gzip"
        assert re.search(r'<meta name="description" content="Smart RLP[^"]+Livestream, Fragen', page.text)
        assert client.get(f"/api/events/{SLUG}").headers["content-encoding"] == "gzip"
        assets = re.findall(r'(?:href|src)="(/static/(?:css|js)/[^"]+\?v=[0-9a-f]{12})"', page.text)
        assert {a.split("?")[0] for a in assets} >= {"/static/css/app.css", "/static/css/viewer.css"}
        assert "/static/js/pages/viewer.js" in {a.split("?")[0] for a in assets}
    for asset in assets:
        # A fresh browser: no cookie asked for, none given on a static file.
        with shared_server.client(headers=gzip) as fresh:
            response = fresh.get(asset)
            assert response.status_code == 200
            assert response.headers["content-encoding"] == "gzip"
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert "set-cookie" not in response.headers, asset
    with shared_server.client(headers=gzip) as fresh:
        imported = fresh.get("/static/js/lib/dom.js")  # a module imported by another, without a hash
        assert imported.headers["cache-control"] == "no-cache"
        assert "set-cookie" not in imported.headers
        again = fresh.get("/static/js/lib/dom.js", headers={"If-None-Match": imported.headers["etag"]})
        assert again.status_code == 304
    # Logged-in pages carry a CSRF token beside reflected text: never compressed (BREACH).
    moderated = shared_admin.get(f"/e/{SLUG}/moderate", headers=gzip)
    assert moderated.status_code == 200
    assert "content-encoding" not in moderated.headers


# --- the city's event team ------------------------------------------------------------------------------------


def test_a_duplicate_is_a_draft_with_the_panel_and_every_time_moved_until_it_is_published(
    shared_server: Server, shared_admin: httpx.Client, viewer: Callable[..., Viewer]
) -> None:
    slug = "netzwerk-vorlage"
    make_event(shared_admin, slug, timedelta(days=-30), timedelta(days=-30, hours=2))
    edit = f"/admin/events/{slug}"
    csrf = csrf_of(shared_admin, edit)
    shared_admin.post(f"{edit}/panelists", data={"name": "Nicole Steingaß", "role": "Staatssekretärin", "csrf": csrf})
    source = shared_admin.get(f"/api/events/{slug}").json()
    item = {"title": "Markt der Projekte", "speakers": "", "kind": "talk", "duration_minutes": "30", "csrf": csrf}
    item["starts_at"] = (
        (_parse(source["starts_at"]) + timedelta(minutes=45)).astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")
    )
    assert shared_admin.post(f"{edit}/agenda", data=item).status_code == 303

    copied = shared_admin.post(
        f"{edit}/duplicate", data={"csrf": csrf_of(shared_admin), "starts_at": "2027-03-05T14:00"}
    )
    assert copied.status_code == 303
    copy_slug = copied.headers["location"].split("/admin/events/")[1].split("?")[0]
    copy = shared_admin.get(f"/api/events/{copy_slug}").json()
    assert copy["published"] is False
    assert [(p["name"], p["role"]) for p in copy["panelists"]] == [("Nicole Steingaß", "Staatssekretärin")]
    assert copy["starts_at"] == "2027-03-05T13:00:00Z"  # 14:00 in Berlin
    assert copy["ends_at"] == "2027-03-05T15:00:00Z", "the end keeps its distance to the start"
    assert copy["agenda"][0]["starts_at"].startswith("2027-03-05T13:45")

    # A draft: not listed, not for viewers, not joinable; the admin previews it.
    public = viewer()
    assert copy_slug not in public.http.get("/").text
    assert public.http.get(f"/e/{copy_slug}").status_code == 404
    assert public.http.get(f"/api/events/{copy_slug}").status_code == 404
    asked = public.http.post(f"/api/events/{copy_slug}/questions", json={"text": "Schon offen?"})
    assert asked.status_code == 404
    assert public.http.get(f"/j/{copy['join_code']}").status_code == 404
    assert shared_admin.get(f"/e/{copy_slug}").status_code == 200
    draft_page = shared_admin.get(f"/admin/events/{copy_slug}").text
    assert "Entwurf" in draft_page
    assert "Vorschau der Zuschauerseite" in draft_page

    published = shared_admin.post(
        f"/admin/events/{copy_slug}/publish", data={"csrf": csrf_of(shared_admin), "publish": "1"}
    )
    assert published.headers["location"] == f"/admin/events/{copy_slug}?done=published"
    assert public.http.get(f"/e/{copy_slug}").status_code == 200
    assert copy_slug in public.http.get("/").text


def test_the_event_form_makes_a_draft_unless_published_at_once(
    shared_admin: httpx.Client, viewer: Callable[..., Viewer]
) -> None:
    new_form = shared_admin.get("/admin/events/new").text
    assert re.search(r'name="publication" value="draft" checked', new_form), "a draft unless chosen otherwise"
    form = {"title": "Kitaportal für alle", "slug": "kitaportal-entwurf", "publication": "draft"}
    created = shared_admin.post("/admin/events/new", data={**form, "csrf": csrf_of(shared_admin)})
    assert created.headers["location"] == "/admin/events/kitaportal-entwurf?done=created"
    assert viewer().http.get("/e/kitaportal-entwurf").status_code == 404
    form = {"title": "Kitaportal sofort", "slug": "kitaportal-sofort", "publication": "published"}
    assert shared_admin.post("/admin/events/new", data={**form, "csrf": csrf_of(shared_admin)}).status_code == 303
    assert viewer().http.get("/e/kitaportal-sofort").status_code == 200


def test_a_youtube_channel_live_address_is_embedded_and_a_handle_explained(shared_admin: httpx.Client) -> None:
    channel = "UCabcdefghijklmnopqrstuv"
    make_event(
        shared_admin, "kanal-live", timedelta(days=3), timedelta(days=3, hours=1),
        youtube_url=f"https://www.youtube.com/channel/{channel}/live",
    )  # fmt: skip
    stream = shared_admin.get("/api/events/kanal-live").json()["streams"][0]
    assert stream["url"] == f"https://www.youtube.com/channel/{channel}/live"
    assert stream["embed_url"].startswith(f"https://www.youtube-nocookie.com/embed/live_stream?channel={channel}&")
    form = {"title": "Mit Handle", "slug": "mit-handle", "youtube_url": "https://www.youtube.com/@kaiserslautern/live"}
    refused = shared_admin.post("/admin/events/new", data={**form, "csrf": csrf_of(shared_admin)})
    assert refused.status_code == 422
    assert "nicht über den @-Namen" in refused.text
    assert "youtube.com/channel/UC…/live" in refused.text


def test_the_home_page_lists_live_then_upcoming_then_past_events_with_dates(
    shared_server: Server, shared_admin: httpx.Client
) -> None:
    make_event(shared_admin, "start-spaeter", timedelta(days=20), timedelta(days=20, hours=1))
    make_event(shared_admin, "start-bald", timedelta(days=2), timedelta(days=2, hours=1))
    make_event(shared_admin, "start-vorbei", timedelta(days=-9), timedelta(days=-9, hours=1))
    with shared_server.client() as client:
        home = client.get("/?lang=de").text
    live, upcoming, past = (
        home.index(heading) for heading in ("Jetzt live", "Demnächst", "Vergangene Veranstaltungen")
    )
    assert live < home.index(f'href="/e/{SLUG}"') < upcoming, "the live demo is listed first"
    assert upcoming < home.index('href="/e/start-bald"') < home.index('href="/e/start-spaeter"') < past
    assert past < home.index('href="/e/start-vorbei"')
    assert re.search(r'href="/e/start-bald">[^<]+</a>\s*<br><time datetime="[^"]+">\w+, \d+\. \w+ 20\d\d um', home)
