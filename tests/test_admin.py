"""Event administration at /admin against the real server: who may, the event form's rules, duplicate,
archive, delete, and what the settings do to the viewer page and to questions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import httpx
import pytest
from fixtures import SLUG, Server, Viewer, add_moderator, csrf_of, login


@pytest.fixture(scope="module")
def admin(shared_admin: httpx.Client) -> httpx.Client:
    return shared_admin


def event_form(**fields: str) -> dict[str, str]:
    form = {
        "title": "Digitales Netzwerktreffen",
        "slug": "",
        "description": "IT-Fachleute aus Ludwigshafen, Trier, Koblenz und Neustadt.",
        "hashtag": "#digitalRLP",
        # Still running while the suite runs: events take questions only until their end (services/phases.py).
        "starts_at": "2018-10-26T14:00",
        "ends_at": "2099-10-26T18:00",
        "youtube_url": "",
        "facebook_url": "",
        "moderation_mode": "approve",
        "questions_open": "on",
        "names_allowed": "on",
    }
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def create(client: httpx.Client, **fields: str) -> httpx.Response:
    return client.post("/admin/events/new", data={**event_form(**fields), "csrf": csrf_of(client)})


def event_json(client: httpx.Client, slug: str) -> dict:
    response = client.get(f"/api/events/{slug}")
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- who may


def test_admin_needs_a_login_and_the_admin_role(shared_server: Server) -> None:
    with shared_server.client() as anonymous:
        response = anonymous.get("/admin")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/admin"
    add_moderator(shared_server, "nur-moderation", "correct horse nur")
    moderator = login(shared_server, "nur-moderation", "correct horse nur")
    try:
        assert moderator.get("/admin").status_code == 403
        assert moderator.get("/admin/events/new").status_code == 403
        assert moderator.post("/admin/events/new", data=event_form()).status_code == 403
    finally:
        moderator.close()


def test_the_first_admin_comes_from_the_cli(server: Server) -> None:
    result = server.cli("admin", "add", "stadtverwaltung", stdin="correct horse battery staple\n")
    assert "admin" in result.stdout
    client = login(server, "stadtverwaltung", "correct horse battery staple")
    try:
        page = client.get("/admin")
        assert page.status_code == 200
        assert "Smart RLP – Digitalisierung in Rheinland-Pfalz" in page.text
        assert 'href="/admin"' in client.get(f"/e/{SLUG}/moderate").text  # the header leads to the admin
    finally:
        client.close()


def test_a_form_without_the_csrf_token_changes_nothing(admin: httpx.Client) -> None:
    response = admin.post("/admin/events/new", data=event_form(title="Ohne Token", slug="ohne-token"))
    assert response.status_code == 403
    assert "Formular" in response.text
    response = admin.post("/admin/events/new", data={**event_form(title="Falsch", slug="falsch"), "csrf": "x" * 27})
    assert response.status_code == 403
    assert admin.get("/api/events/ohne-token").status_code == 404
    assert admin.get("/api/events/falsch").status_code == 404


# ---------------------------------------------------------------- the event form


def test_creating_an_event_normalises_streams_and_times(admin: httpx.Client) -> None:
    response = create(
        admin,
        title="Smart RLP – Ausgabe Nürnberg? Nein: Kaiserslautern!",
        youtube_url="https://youtu.be/dQw4w9WgXcQ?si=abc",
        facebook_url="https://www.facebook.com/kaiserslautern/videos/1234567890/",
        ends_at="2018-10-26T18:00",
    )
    assert response.status_code == 303, response.text
    slug = "smart-rlp-ausgabe-nuernberg-nein"  # at most 40 characters, whole words
    # The admin lands on the new event's page, where its agenda and panel are added next.
    assert response.headers["location"] == f"/admin/events/{slug}?done=created"
    event = event_json(admin, slug)
    # Entered in Berlin time (CET in October 2018 ends on the 28th: still summer time, UTC+2).
    assert event["starts_at"] == "2018-10-26T12:00:00Z"
    assert event["ends_at"] == "2018-10-26T16:00:00Z"
    providers = {s["provider"]: s for s in event["streams"]}
    assert providers["youtube"]["url"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert providers["youtube"]["embed_url"].startswith("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ")
    assert providers["facebook"]["url"] == "https://www.facebook.com/kaiserslautern/videos/1234567890/"
    assert len(event["join_code"]) == 6
    assert event["moderation_mode"] == "approve"
    landed = admin.get(response.headers["location"])
    assert "Die Veranstaltung wurde angelegt." in landed.text
    listing = admin.get("/admin")
    assert "Smart RLP – Ausgabe Nürnberg? Nein: Kaiserslautern!" in listing.text
    # The edit form shows the times as they were typed, in Berlin time.
    edit = admin.get(f"/admin/events/{slug}").text
    assert 'value="2018-10-26T14:00"' in edit


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("youtube_url", "https://vimeo.com/12345", "keine YouTube-Videoadresse"),
        ("youtube_url", "https://www.youtube.com/channel/UC123", "keine YouTube-Videoadresse"),
        ("facebook_url", "https://www.facebook.com/kaiserslautern", "keine Facebook-Videoadresse"),
        ("title", "", "Bitte geben Sie einen Titel ein."),
        ("slug", "Mit Leerzeichen", "nur Kleinbuchstaben"),
        ("slug", "admin", "reserviert"),
        ("ends_at", "2018-10-26T13:00", "Das Ende muss nach dem Beginn liegen."),
        ("starts_at", "gestern", "Beginn: bitte Datum und Uhrzeit angeben"),
        ("moderation_mode", "chaos", "wie Fragen moderiert werden"),
    ],
)
def test_the_form_explains_what_is_wrong_and_keeps_what_was_typed(
    admin: httpx.Client, field: str, value: str, message: str
) -> None:
    response = create(admin, **{field: value, "slug": "falsch-eingegeben" if field != "slug" else value})
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert "IT-Fachleute aus Ludwigshafen" in response.text  # nothing typed is lost
    assert admin.get("/api/events/falsch-eingegeben").status_code == 404


def test_a_slug_in_use_is_refused(admin: httpx.Client) -> None:
    response = create(admin, title="Noch einmal", slug=SLUG)
    assert response.status_code == 422
    assert "schon vergeben" in response.text


def test_editing_an_event_reaches_open_pages_live(admin: httpx.Client, viewer: Callable[..., Viewer]) -> None:
    assert create(admin, title="Vor der Änderung", slug="wird-geaendert").status_code == 303
    live = viewer().ws(slug="wird-geaendert")
    assert live.recv()["type"] == "snapshot"
    form = event_form(
        title="Nach der Änderung", slug="wird-geaendert", youtube_url="https://www.youtube.com/live/dQw4w9WgXcQ"
    )
    response = admin.post("/admin/events/wird-geaendert", data={**form, "csrf": csrf_of(admin)})
    assert response.status_code == 303, response.text
    message = live.recv_until(lambda m: m["type"] == "event")[-1]
    assert message["event"]["title"] == "Nach der Änderung"
    assert message["event"]["streams"][0]["provider"] == "youtube"
    assert "Nach der Änderung" in admin.get("/e/wird-geaendert").text


# ---------------------------------------------------------------- duplicate, archive, delete


def test_duplicating_copies_settings_and_agenda_but_no_questions(
    admin: httpx.Client, viewer: Callable[..., Viewer]
) -> None:
    viewer().ask("Diese Frage bleibt im Original")
    response = admin.post(f"/admin/events/{SLUG}/duplicate", data={"csrf": csrf_of(admin)})
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/events/{SLUG}-kopie?done=duplicated"
    original, copy = event_json(admin, SLUG), event_json(admin, f"{SLUG}-kopie")
    assert copy["title"] == f"Kopie von {original['title']}"
    assert [a["title"] for a in copy["agenda"]] == [a["title"] for a in original["agenda"]]
    assert copy["streams"] == original["streams"]
    assert copy["join_code"] != original["join_code"]
    assert admin.get(f"/api/events/{SLUG}-kopie/questions").json()["questions"] == []
    again = admin.post(f"/admin/events/{SLUG}/duplicate", data={"csrf": csrf_of(admin)})
    assert again.headers["location"].startswith(f"/admin/events/{SLUG}-kopie-2")


def test_an_archived_event_leaves_the_home_page_and_takes_no_questions(
    admin: httpx.Client, viewer: Callable[..., Viewer]
) -> None:
    assert create(admin, title="Wird archiviert", slug="wird-archiviert").status_code == 303
    response = admin.post("/admin/events/wird-archiviert/archive", data={"csrf": csrf_of(admin), "archive": "1"})
    assert response.status_code == 303
    assert "wird-archiviert" not in admin.get("/").text
    assert event_json(admin, "wird-archiviert")["archived"] is True
    refused = viewer().http.post("/api/events/wird-archiviert/questions", json={"text": "Noch eine Frage?"})
    assert refused.status_code == 409
    assert "Zurzeit werden keine neuen Fragen angenommen." in admin.get("/e/wird-archiviert").text
    admin.post("/admin/events/wird-archiviert/archive", data={"csrf": csrf_of(admin), "archive": "0"})
    assert "wird-archiviert" in admin.get("/").text
    viewer().ask("Jetzt wieder?", slug="wird-archiviert")


def test_deleting_an_event_asks_for_its_slug_and_leaves_nothing_behind(
    admin: httpx.Client, shared_server: Server, viewer: Callable[..., Viewer]
) -> None:
    assert create(admin, title="Wird gelöscht", slug="wird-geloescht").status_code == 303
    asker = viewer()
    question = asker.ask("Was passiert mit meiner Frage?", "Jana", slug="wird-geloescht")
    assert asker.http.post(f"/api/events/wird-geloescht/questions/{question['id']}/votes").status_code in {200, 409}
    event_id = (
        sqlite3.connect(shared_server.db_path)
        .execute("SELECT id FROM events WHERE slug = 'wird-geloescht'")
        .fetchone()[0]
    )

    page = admin.get("/admin/events/wird-geloescht/delete")
    assert "1 Frage" in page.text
    wrong = admin.post("/admin/events/wird-geloescht/delete", data={"csrf": csrf_of(admin), "confirm_slug": "ja"})
    assert wrong.status_code == 422
    assert admin.get("/api/events/wird-geloescht").status_code == 200
    done = admin.post(
        "/admin/events/wird-geloescht/delete", data={"csrf": csrf_of(admin), "confirm_slug": "wird-geloescht"}
    )
    assert done.status_code == 303
    assert admin.get("/api/events/wird-geloescht").status_code == 404

    db = sqlite3.connect(shared_server.db_path)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        if "event_id" in columns:
            left = db.execute(f"SELECT COUNT(*) FROM {table} WHERE event_id = ?", (event_id,)).fetchone()[0]
            assert left == 0, f"{left} rows of the deleted event remain in {table}"
    assert db.execute("SELECT COUNT(*) FROM question_votes WHERE question_id = ?", (question["id"],)).fetchone()[0] == 0


# ---------------------------------------------------------------- what the settings do


def test_post_moderation_shows_questions_at_once_but_holds_filtered_ones(
    admin: httpx.Client, viewer: Callable[..., Viewer]
) -> None:
    assert create(admin, title="Sofort sichtbar", slug="sofort", moderation_mode="post").status_code == 303
    watcher = viewer().ws(slug="sofort")
    assert watcher.recv()["type"] == "snapshot"
    asker = viewer()
    question = asker.ask("Wann kommt der Glasfaserausbau nach Otterberg?", slug="sofort")
    assert question["status"] == "approved"
    seen = watcher.recv_until(lambda m: m["type"] == "question")[-1]
    assert seen["question"]["text"] == question["text"]
    assert "erscheint sofort" in admin.get("/e/sofort").text
    held = asker.ask("Ihr seid alle Arschlöcher", slug="sofort")
    assert held["status"] == "pending"
    assert [q["id"] for q in viewer().questions(slug="sofort")] == [question["id"]]


def test_when_names_are_off_none_is_kept_or_asked_for(admin: httpx.Client, viewer: Callable[..., Viewer]) -> None:
    assert create(admin, title="Ohne Namen", slug="ohne-namen", names_allowed=None).status_code == 303
    assert event_json(admin, "ohne-namen")["names_allowed"] is False
    question = viewer().ask("Gibt es das auch in Leichter Sprache?", "Max Mustermann", slug="ohne-namen")
    assert question["name"] is None
    assert 'id="question-name"' not in admin.get("/e/ohne-namen").text


def test_closing_questions_hides_the_form_and_refuses_questions(
    admin: httpx.Client, viewer: Callable[..., Viewer]
) -> None:
    assert create(admin, title="Keine Fragen", slug="keine-fragen", questions_open=None).status_code == 303
    assert "Zurzeit werden keine neuen Fragen angenommen." in admin.get("/e/keine-fragen").text
    response = viewer().http.post("/api/events/keine-fragen/questions", json={"text": "Darf ich?"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "questions_closed"


def test_slugify_keeps_german_words_readable() -> None:
    from smartrlp.services.event_admin import slugify

    assert slugify("Bürgerdialog: Straßenbau & Grünflächen") == "buergerdialog-strassenbau-gruenflaechen"
    assert slugify("!!!") == "veranstaltung"


# ---------------------------------------------------------------- the agenda


def agenda_form(**fields: str) -> dict[str, str]:
    return {
        "title": "Begrüßung",
        "speakers": "Klaus Weichel",
        "kind": "talk",
        "starts_at": "",
        "duration_minutes": "10",
    } | fields


def test_the_agenda_is_edited_in_time_order_and_reaches_open_pages(
    admin: httpx.Client, viewer: Callable[..., Viewer]
) -> None:
    assert create(admin, title="Mit Ablauf", slug="mit-ablauf").status_code == 303
    live = viewer().ws(slug="mit-ablauf")
    assert live.recv()["type"] == "snapshot"
    path = "/admin/events/mit-ablauf"

    later = agenda_form(title="Podiumsgespräch", kind="discussion", starts_at="2018-10-26T14:30", duration_minutes="45")
    assert admin.post(f"{path}/agenda", data={**later, "csrf": csrf_of(admin, path)}).status_code == 303
    first = agenda_form(starts_at="2018-10-26T14:00")
    response = admin.post(f"{path}/agenda", data={**first, "csrf": csrf_of(admin, path)})
    assert response.status_code == 303
    assert response.headers["location"] == f"{path}?done=agenda-saved#ablauf"
    items = event_json(admin, "mit-ablauf")["agenda"]
    assert [i["title"] for i in items] == ["Begrüßung", "Podiumsgespräch"]  # by time, not by when they were added
    assert items[0]["starts_at"] == "2018-10-26T12:00:00Z"
    assert items[1] == items[1] | {"kind": "discussion", "duration_minutes": 45}
    pushed = live.recv_until(lambda m: m["type"] == "event" and len(m["event"]["agenda"]) == 2)[-1]
    assert [i["title"] for i in pushed["event"]["agenda"]] == ["Begrüßung", "Podiumsgespräch"]

    renamed = agenda_form(title="Begrüßung durch den Oberbürgermeister", starts_at="2018-10-26T14:00")
    admin.post(f"{path}/agenda/{items[0]['id']}", data={**renamed, "csrf": csrf_of(admin, path)})
    assert event_json(admin, "mit-ablauf")["agenda"][0]["title"] == "Begrüßung durch den Oberbürgermeister"
    page = admin.get(path).text
    assert 'value="Begrüßung durch den Oberbürgermeister"' in page
    assert 'value="2018-10-26T14:00"' in page

    admin.post(f"{path}/agenda/{items[1]['id']}/delete", data={"csrf": csrf_of(admin, path)})
    assert [i["title"] for i in event_json(admin, "mit-ablauf")["agenda"]] == ["Begrüßung durch den Oberbürgermeister"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": ""}, "Bitte geben Sie einen Titel"),
        ({"duration_minutes": "90 Minuten"}, "Die Dauer ist eine Zahl von Minuten"),
        ({"duration_minutes": "0"}, "Die Dauer ist eine Zahl von Minuten"),
        ({"kind": "konzert"}, "Bitte wählen Sie die Art"),
        ({"starts_at": "morgen"}, "Beginn: bitte Datum und Uhrzeit angeben"),
    ],
)
def test_a_wrong_agenda_item_is_explained_and_not_saved(
    admin: httpx.Client, fields: dict[str, str], message: str
) -> None:
    path = f"/admin/events/{SLUG}"
    before = event_json(admin, SLUG)["agenda"]
    response = admin.post(f"{path}/agenda", data={**agenda_form(**fields), "csrf": csrf_of(admin, path)})
    assert response.status_code == 422
    assert message in response.text
    assert event_json(admin, SLUG)["agenda"] == before


def test_an_agenda_item_of_another_event_is_not_found(admin: httpx.Client) -> None:
    assert create(admin, title="Fremder Ablauf", slug="fremder-ablauf").status_code == 303
    other = event_json(admin, SLUG)["agenda"][0]["id"]
    path = "/admin/events/fremder-ablauf"
    response = admin.post(f"{path}/agenda/{other}", data={**agenda_form(), "csrf": csrf_of(admin, path)})
    assert response.status_code == 404
    response = admin.post(f"{path}/agenda/{other}/delete", data={"csrf": csrf_of(admin, path)})
    assert response.status_code == 404
    assert admin.post(f"{path}/agenda/abc", data={"csrf": csrf_of(admin, path)}).status_code == 404
    assert event_json(admin, SLUG)["agenda"][0]["id"] == other
