"""The export for the documentation after an event: JSON and CSV downloads, `smartrlp export`, the summary page.

One event on the shared server is filled through the real API (questions in every state, votes, four kinds of
polls with ballots from many devices, a draft) and then exported over HTTP and with the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fixtures import Server, Viewer, add_moderator, bearer, create_token, login, run_cli, wait_until

from smartrlp.db.stores import database_for
from smartrlp.services.events import create_event as insert_event

pytestmark = pytest.mark.both_stores

BOM = b"\xef\xbb\xbf"
QUESTION_HEADER = [
    *("id", "text", "name", "status", "votes", "created_at", "created_at_berlin", "answered_at", "answered_at_berlin"),
    *("answer", "addressed_to"),
]
POLL_HEADER = ["poll_id", "poll_title", "kind", "state", "answer", "count", "total"]

ANSWERED = "Wann kommt das Glasfasernetz nach Mölschbach? Grüße aus der Pfalz"
APPROVED = '=HYPERLINK("https://example.org/x","Mehr erfahren")'
REJECTED = "+49 631 3650 bitte zurückrufen"
PENDING = "-1+1 ist das Budget für Schulen, oder?"
MULTILINE = 'Erste Zeile, mit Komma\nZweite Zeile mit "Anführungszeichen"'
HTML = "<img src=x onerror=alert(1)> Wird das maskiert?"

_numbers = itertools.count(1)


def make_event(server: Server, title: str, **fields: Any) -> str:
    """A new event with start and end (create_event in conftest takes only a title)."""
    slug = f"export-{next(_numbers)}"

    async def work() -> None:
        db = database_for(server.db_path)
        await db.open()
        try:
            async with db.transaction() as tx:
                await insert_event(tx, {"slug": slug, "title": title, **fields}, [])
        finally:
            await db.close()

    asyncio.run(work())
    return slug


def set_times(server: Server, slug: str, starts_at: str, ends_at: str) -> None:
    """Move an event in time, as an admin's edit would (questions and ballots are taken only while it is live)."""

    async def work() -> None:
        db = database_for(server.db_path)
        await db.open()
        try:
            async with db.transaction() as tx:
                await tx.execute(
                    "UPDATE events SET starts_at = :starts_at, ends_at = :ends_at WHERE slug = :slug",
                    {"starts_at": starts_at, "ends_at": ends_at, "slug": slug},
                )
        finally:
            await db.close()

    asyncio.run(work())


@dataclass
class Filled:
    slug: str
    title: str
    ids: dict[str, int] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    options: dict[str, dict[str, int]] = field(default_factory=dict)
    devices: list[str] = field(default_factory=list)


def _device_id(viewer: Viewer) -> str:
    cookie = viewer.device_cookie
    assert cookie
    # The cookie is "<device id>.<signature>" (itsdangerous); only the id could identify a device.
    return cookie.rsplit(".", 1)[0]


@pytest.fixture(scope="module")
def filled(shared_server: Server, shared_moderator_token: str) -> Iterator[Filled]:
    title = "Bürgerdialog „Digitale Schule“ – Kaiserslautern"
    # Filled while live (the phases allow ballots only then), documented afterwards as held on 26 November.
    slug = make_event(shared_server, title, starts_at="2026-01-01T17:00:00Z", ends_at="2099-01-01T18:30:00Z")
    data = Filled(slug=slug, title=title)
    api = f"/api/events/{slug}"
    with contextlib.ExitStack() as stack:
        moderator = Viewer(shared_server, stack, headers=bearer(shared_moderator_token))
        crowd = [Viewer(shared_server, stack) for _ in range(5)]
        data.devices = [_device_id(v) for v in [moderator, *crowd]]

        def ask(key: str, text: str, name: str | None, asker: Viewer) -> int:
            data.ids[key] = asker.ask(text, name, slug=slug)["id"]
            return data.ids[key]

        answered = ask("answered", ANSWERED, "Jürgen Müßig", crowd[0])
        approved = ask("approved", APPROVED, "@admin", crowd[1])
        rejected = ask("rejected", REJECTED, None, crowd[2])
        ask("pending", PENDING, "=cmd|' /C calc'!A0", crowd[3])
        multiline = ask("multiline", MULTILINE, "Anna", crowd[4])
        html = ask("html", HTML, "<b>Fett</b>", crowd[0])
        for question_id in (answered, approved, multiline, html):
            moderator.moderate(question_id, slug=slug, status="approved")
        for voter in crowd[:3]:
            assert voter.http.post(f"{api}/questions/{answered}/votes").status_code == 200
        for voter in crowd[:2]:
            assert voter.http.post(f"{api}/questions/{approved}/votes").status_code == 200
        moderator.moderate(answered, slug=slug, status="answered")
        moderator.moderate(rejected, slug=slug, status="rejected")

        def poll(key: str, body: dict[str, Any], state: str | None = "open") -> dict[str, Any]:
            response = moderator.http.post(f"{api}/polls", json=body)
            assert response.status_code == 201, response.text
            created = response.json()
            if state:
                response = moderator.http.patch(f"{api}/polls/{created['id']}", json={"state": state})
                assert response.status_code == 200, response.text
            data.polls[key] = created["id"]
            data.options[key] = {o["label"]: o["id"] for o in created["options"]}
            return created

        def vote(voter: Viewer, key: str, body: dict[str, Any]) -> None:
            response = voter.http.post(f"{api}/polls/{data.polls[key]}/votes", json=body)
            assert response.status_code == 201, response.text

        poll(
            "single",
            {"title": "Wie gefällt Ihnen das Format?", "kind": "single", "options": ["Gut", "Geht so", "Schlecht"]},
        )
        options = data.options["single"]
        vote(crowd[0], "single", {"options": [options["Schlecht"]]})
        for voter in crowd[:3]:  # the first device changes its mind: one ballot per device
            vote(voter, "single", {"options": [options["Gut"]]})
        vote(crowd[3], "single", {"options": [options["Geht so"]]})

        poll(
            "multiple",
            {"title": "=Welche Themen?", "kind": "multiple", "options": ["Schule", "Verkehr", "@Verwaltung"]},
        )
        options = data.options["multiple"]
        vote(crowd[0], "multiple", {"options": [options["Schule"], options["Verkehr"]]})
        vote(crowd[1], "multiple", {"options": [options["Schule"]]})
        vote(crowd[2], "multiple", {"options": [options["@Verwaltung"], options["Schule"]]})

        poll(
            "rating",
            {"title": "Wie zufrieden sind Sie?", "kind": "rating", "scale_max": 5, "results_visibility": "never"},
        )
        for voter, value in zip(crowd[:3], (5, 4, 4), strict=True):
            vote(voter, "rating", {"value": value})

        poll("words", {"title": "Ein Wort zur Digitalisierung", "kind": "words"})
        for voter, word in zip(crowd, ("Glasfaser", "glasfaser!", "Straßenbahn", "=1+1", "Bürgerbüro"), strict=True):
            vote(voter, "words", {"text": word})

        poll("empty", {"title": "Noch ein Wort?", "kind": "words"})
        poll("draft", {"title": "Entwurf bleibt geheim", "kind": "single", "options": ["A", "B"]}, state=None)
        for key in ("single", "multiple", "rating", "words"):
            response = moderator.http.patch(f"{api}/polls/{data.polls[key]}", json={"state": "closed"})
            assert response.status_code == 200, response.text
        set_times(shared_server, slug, "2026-11-26T17:00:00Z", "2026-11-26T18:30:00Z")
        # The end closes the poll left open ("Noch ein Wort?"), by the server, within seconds.
        wait_until(
            lambda: moderator.http.get(f"{api}/polls/{data.polls['empty']}").json()["state"] == "closed",
            timeout=30,
            what="the server to close the poll left open at the end",
        )
        yield data


def _get(server: Server, path: str, token: str) -> httpx.Response:
    with server.client(headers=bearer(token)) as client:
        response = client.get(path)
    assert response.status_code == 200, response.text
    return response


def _rows(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM), "the CSV must start with a UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(body[len(BOM) :].decode("utf-8"), newline=""), delimiter=";"))


# ---------------------------------------------------------------- who may export


EXPORT_PATHS = ("export.json", "export.csv", "export.csv?what=polls")


@pytest.mark.parametrize("path", EXPORT_PATHS)
def test_export_needs_a_login(shared_server: Server, filled: Filled, path: str) -> None:
    with shared_server.client() as client:
        response = client.get(f"/api/events/{filled.slug}/{path}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_export_refuses_a_moderator_of_other_events(shared_server: Server, filled: Filled) -> None:
    other = make_event(shared_server, "Eine andere Veranstaltung")
    add_moderator(shared_server, "elsewhere", "correct horse elsewhere", events=(other,))
    token = create_token(shared_server, "elsewhere")
    with shared_server.client(headers=bearer(token)) as client:
        for path in EXPORT_PATHS:
            response = client.get(f"/api/events/{filled.slug}/{path}")
            assert response.status_code == 403, path
            assert response.json()["error"]["code"] == "forbidden"
        assert client.get(f"/api/events/{other}/export.json").status_code == 200
        page = client.get(f"/e/{filled.slug}/summary", follow_redirects=False)
        assert page.status_code == 403
        assert "Kein Zugriff" in page.text


def test_export_of_an_unknown_event_is_404(shared_server: Server, shared_moderator_token: str) -> None:
    with shared_server.client(headers=bearer(shared_moderator_token)) as client:
        for path in EXPORT_PATHS:
            response = client.get(f"/api/events/keine-solche/{path}")
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "event_not_found"


def test_csv_export_refuses_an_unknown_part(shared_server: Server, filled: Filled, shared_moderator_token: str) -> None:
    with shared_server.client(headers=bearer(shared_moderator_token)) as client:
        response = client.get(f"/api/events/{filled.slug}/export.csv", params={"what": "everything"})
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "'what' must be one of 'questions' or 'polls'.",
        "details": {"field": "what"},
    }


def test_export_with_the_login_session(
    shared_server: Server, filled: Filled, shared_moderator_credentials: tuple[str, str]
) -> None:
    with contextlib.closing(login(shared_server, *shared_moderator_credentials)) as client:
        response = client.get(f"/api/events/{filled.slug}/export.json")
    assert response.status_code == 200
    assert response.json()["event"]["slug"] == filled.slug


# ---------------------------------------------------------------- what is in it


def test_json_export(shared_server: Server, filled: Filled, shared_moderator_token: str) -> None:
    response = _get(shared_server, f"/api/events/{filled.slug}/export.json", shared_moderator_token)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == f'attachment; filename="{filled.slug}-export.json"'
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["event"] == {
        "slug": filled.slug,
        "title": filled.title,
        "starts_at": "2026-11-26T17:00:00Z",
        "ends_at": "2026-11-26T18:30:00Z",
    }

    questions = {q["id"]: q for q in data["questions"]}
    assert [q["id"] for q in data["questions"]] == sorted(filled.ids.values())
    for question in questions.values():
        assert set(question) == set(QUESTION_HEADER) - {"created_at_berlin", "answered_at_berlin"}
    assert data["participants"] == 5, "the five devices that asked, voted and answered; the moderator did neither"
    answered = questions[filled.ids["answered"]]
    assert (answered["text"], answered["name"], answered["status"], answered["votes"]) == (
        ANSWERED,
        "Jürgen Müßig",
        "answered",
        3,
    )
    assert answered["answered_at"] >= answered["created_at"]
    assert questions[filled.ids["approved"]] | {"created_at": None} == {
        "id": filled.ids["approved"],
        "text": APPROVED,
        "name": "@admin",
        "status": "approved",
        "votes": 2,
        "created_at": None,
        "answered_at": None,
        "answer": None,
        "addressed_to": None,
    }
    assert questions[filled.ids["rejected"]]["status"] == "rejected"
    assert questions[filled.ids["rejected"]]["name"] is None
    assert questions[filled.ids["pending"]]["status"] == "pending"
    assert questions[filled.ids["multiline"]]["text"] == MULTILINE

    polls = {p["title"]: p for p in data["polls"]}
    assert list(polls) == [
        "Wie gefällt Ihnen das Format?",
        "=Welche Themen?",
        "Wie zufrieden sind Sie?",
        "Ein Wort zur Digitalisierung",
        "Noch ein Wort?",
    ], "every launched poll in order, and no draft"
    single, multiple = polls["Wie gefällt Ihnen das Format?"], polls["=Welche Themen?"]
    opts = filled.options["single"]
    assert single["state"] == "closed"
    assert single["results"] == {
        "total": 4,
        "options": [
            {"id": opts["Gut"], "count": 3, "percent": 75.0},
            {"id": opts["Geht so"], "count": 1, "percent": 25.0},
            {"id": opts["Schlecht"], "count": 0, "percent": 0.0},
        ],
    }
    assert [o["label"] for o in single["options"]] == ["Gut", "Geht so", "Schlecht"]
    opts = filled.options["multiple"]
    assert multiple["results"] == {
        "total": 3,
        "options": [
            {"id": opts["Schule"], "count": 3, "percent": 100.0},
            {"id": opts["Verkehr"], "count": 1, "percent": 33.3},
            {"id": opts["@Verwaltung"], "count": 1, "percent": 33.3},
        ],
    }
    rating = polls["Wie zufrieden sind Sie?"]
    assert rating["results_visibility"] == "never", "hidden results are in the record all the same"
    assert rating["results"]["total"] == 3
    assert rating["results"]["mean"] == 4.33
    assert [(v["value"], v["count"]) for v in rating["results"]["values"]] == [(1, 0), (2, 0), (3, 0), (4, 2), (5, 1)]
    assert polls["Ein Wort zur Digitalisierung"]["results"] == {
        "total": 5,
        "words": [
            {"text": "Glasfaser", "count": 2},
            {"text": "=1+1", "count": 1},
            {"text": "Bürgerbüro", "count": 1},
            {"text": "Straßenbahn", "count": 1},
        ],
    }
    assert polls["Noch ein Wort?"]["results"] == {"total": 0, "words": []}


def test_csv_export_of_the_questions(shared_server: Server, filled: Filled, shared_moderator_token: str) -> None:
    response = _get(shared_server, f"/api/events/{filled.slug}/export.csv", shared_moderator_token)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{filled.slug}-fragen.csv"'
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(
        BOM
        + b"id;text;name;status;votes;created_at;created_at_berlin;answered_at;answered_at_berlin;"
        + b"answer;addressed_to\r\n"
    )
    assert response.content.endswith(b"\r\n"), "rows end in CRLF (RFC 4180)"
    rows = _rows(response.content)
    assert rows[0] == QUESTION_HEADER
    by_id = {int(row[0]): dict(zip(QUESTION_HEADER, row, strict=True)) for row in rows[1:]}
    assert sorted(by_id) == sorted(filled.ids.values())

    answered = by_id[filled.ids["answered"]]
    assert (answered["text"], answered["name"], answered["status"], answered["votes"]) == (
        ANSWERED,
        "Jürgen Müßig",
        "answered",
        "3",
    )
    assert answered["answered_at"].endswith("Z")
    # Beside it the time in Berlin, as German spreadsheet software reads a date and time (one or two hours on).
    utc = datetime.fromisoformat(answered["answered_at"].replace("Z", "+00:00"))
    local = datetime.strptime(answered["answered_at_berlin"], "%d.%m.%Y %H:%M:%S")
    assert local.replace(tzinfo=ZoneInfo("Europe/Berlin")) == utc.replace(microsecond=0)
    # A cell a spreadsheet would run as a formula starts with an apostrophe; everything after it is as typed.
    assert by_id[filled.ids["approved"]]["text"] == "'" + APPROVED
    assert by_id[filled.ids["approved"]]["name"] == "'@admin"
    assert by_id[filled.ids["approved"]]["answered_at"] == ""
    assert by_id[filled.ids["rejected"]]["text"] == "'" + REJECTED
    assert by_id[filled.ids["rejected"]]["name"] == ""
    assert by_id[filled.ids["pending"]]["text"] == "'" + PENDING
    assert by_id[filled.ids["pending"]]["name"] == "'=cmd|' /C calc'!A0"
    assert by_id[filled.ids["multiline"]]["text"] == MULTILINE, "commas, quotes and line breaks survive quoting"
    assert by_id[filled.ids["html"]]["text"] == HTML
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), row


def test_csv_export_of_the_poll_results(shared_server: Server, filled: Filled, shared_moderator_token: str) -> None:
    response = _get(shared_server, f"/api/events/{filled.slug}/export.csv?what=polls", shared_moderator_token)
    assert response.headers["content-disposition"] == f'attachment; filename="{filled.slug}-umfragen.csv"'
    rows = _rows(response.content)
    assert rows[0] == POLL_HEADER
    p = {key: str(poll_id) for key, poll_id in filled.polls.items()}
    assert rows[1:] == [
        [p["single"], "Wie gefällt Ihnen das Format?", "single", "closed", "Gut", "3", "4"],
        [p["single"], "Wie gefällt Ihnen das Format?", "single", "closed", "Geht so", "1", "4"],
        [p["single"], "Wie gefällt Ihnen das Format?", "single", "closed", "Schlecht", "0", "4"],
        [p["multiple"], "'=Welche Themen?", "multiple", "closed", "Schule", "3", "3"],
        [p["multiple"], "'=Welche Themen?", "multiple", "closed", "Verkehr", "1", "3"],
        [p["multiple"], "'=Welche Themen?", "multiple", "closed", "'@Verwaltung", "1", "3"],
        [p["rating"], "Wie zufrieden sind Sie?", "rating", "closed", "1", "0", "3"],
        [p["rating"], "Wie zufrieden sind Sie?", "rating", "closed", "2", "0", "3"],
        [p["rating"], "Wie zufrieden sind Sie?", "rating", "closed", "3", "0", "3"],
        [p["rating"], "Wie zufrieden sind Sie?", "rating", "closed", "4", "2", "3"],
        [p["rating"], "Wie zufrieden sind Sie?", "rating", "closed", "5", "1", "3"],
        [p["words"], "Ein Wort zur Digitalisierung", "words", "closed", "Glasfaser", "2", "5"],
        [p["words"], "Ein Wort zur Digitalisierung", "words", "closed", "'=1+1", "1", "5"],
        [p["words"], "Ein Wort zur Digitalisierung", "words", "closed", "Bürgerbüro", "1", "5"],
        [p["words"], "Ein Wort zur Digitalisierung", "words", "closed", "Straßenbahn", "1", "5"],
        [p["empty"], "Noch ein Wort?", "words", "closed", "", "0", "0"],
    ]


def test_no_export_identifies_a_device(shared_server: Server, filled: Filled, shared_moderator_token: str) -> None:
    bodies = [
        _get(shared_server, f"/api/events/{filled.slug}/{path}", shared_moderator_token).content.decode("utf-8")
        for path in EXPORT_PATHS
    ]
    for body in bodies:
        assert "device" not in body.lower()
    bodies.append(_get(shared_server, f"/e/{filled.slug}/summary", shared_moderator_token).text)
    assert len(filled.devices) == 6
    for body in bodies:
        for device in filled.devices:
            assert device not in body


# ---------------------------------------------------------------- the command line


def test_cli_export_is_the_endpoints_export(
    shared_server: Server, filled: Filled, shared_moderator_token: str, tmp_path: Path
) -> None:
    api = f"/api/events/{filled.slug}"
    result = shared_server.cli("export", filled.slug, "--format", "json")
    assert result.stdout == _get(shared_server, f"{api}/export.json", shared_moderator_token).text
    assert json.loads(result.stdout)["event"]["slug"] == filled.slug
    for what in ("questions", "polls"):
        output = tmp_path / f"{what}.csv"
        shared_server.cli("export", filled.slug, "--format", "csv", "--what", what, "--output", str(output))
        assert (
            output.read_bytes() == _get(shared_server, f"{api}/export.csv?what={what}", shared_moderator_token).content
        )
    output = tmp_path / "default.csv"
    shared_server.cli("export", filled.slug, "--format", "csv", "--output", str(output))
    assert output.read_bytes() == (tmp_path / "questions.csv").read_bytes(), "questions are the default"


def test_cli_export_of_an_unknown_event(shared_server: Server) -> None:
    result = shared_server.cli("export", "keine-solche", "--format", "json", check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "keine-solche" in result.stderr


def test_cli_export_mistakes(shared_server: Server, filled: Filled, tmp_path: Path) -> None:
    result = shared_server.cli("export", filled.slug, "--format", "json", "--what", "polls", check=False)
    assert (result.returncode, result.stdout) == (2, "")
    assert "--what" in result.stderr
    missing = tmp_path / "nicht-da.db"
    result = run_cli("export", filled.slug, "--format", "json", "--db", str(missing), check=False)
    assert (result.returncode, result.stdout) == (2, "")
    assert str(missing) in result.stderr
    assert not missing.exists(), "an export must not create a database"


# ---------------------------------------------------------------- the summary page


def test_summary_page_needs_a_login(shared_server: Server, filled: Filled) -> None:
    with shared_server.client() as client:
        response = client.get(f"/e/{filled.slug}/summary", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/e/{filled.slug}/summary"


def test_summary_page(shared_server: Server, filled: Filled, shared_moderator_credentials: tuple[str, str]) -> None:
    with contextlib.closing(login(shared_server, *shared_moderator_credentials)) as client:
        response = client.get(f"/e/{filled.slug}/summary")
    assert response.status_code == 200
    page = response.text
    assert "Zusammenfassung" in page
    assert "Donnerstag, 26. November 2026, 18:00–19:30 Uhr" in page, "the date in Berlin time"
    assert "Mölschbach" in page
    assert "Jürgen Müßig" in page
    # Autoescaped: the public's text never becomes markup.
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>Fett</b>" not in page
    assert "&lt;b&gt;Fett&lt;/b&gt;" in page
    assert "=HYPERLINK" in page, "the page shows text as typed; only CSV cells get an apostrophe"
    # For the record the summary lists what the moderators turned down and what nobody looked at.
    rejected = page.split('id="summary-rejected-heading"')[1].split("</section>")[0]
    assert REJECTED in rejected
    untouched = page.split('id="summary-untouched-heading"')[1].split("</section>")[0]
    assert PENDING in untouched
    assert "Entwurf bleibt geheim" not in page
    assert "3 Stimmen · 75\u00a0%" in page
    assert "Durchschnitt 4,3 (Skala 1 bis 5)" in page
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page))
    assert counts == {
        "Teilnehmende (Geräte)": "5",
        "Gestellt": "6",
        "Freigegeben": "4",
        "Beantwortet": "1",
        "Freigegeben, noch offen": "3",
        "Nicht angenommen": "1",
        "Nicht bearbeitet": "1",
    }
    assert f'href="/api/events/{filled.slug}/export.csv?what=polls"' in page
    # No inline script runs: besides summary.js there is only the (never executed) JSON of the field limits and
    # of the page's texts.
    scripts = [re.sub(r"\?v=[0-9a-f]+", "", tag) for tag in re.findall(r"<script[^>]*>", page)]
    assert scripts == [
        '<script type="application/json" id="field-limits">',
        '<script type="application/json" id="script-messages">',
        '<script type="module" src="/static/js/pages/summary.js">',
    ]
