"""Privacy by design against the real server: the legal pages, retention (`smartrlp purge` and the server's own
daily purge), no IP address in the database, and deleting an event leaving nothing of it behind.

The database is inspected with plain sqlite3, table by table and column by column, so a new table or column
cannot escape the checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fixtures import SLUG, Server, Viewer, add_moderator, bearer, run_cli

from smartrlp.db.store import Database
from smartrlp.services import retention
from smartrlp.services.events import create_event as insert_event

PRIVACY = "/datenschutz"
ACCESSIBILITY = "/barrierefreiheit"
FORWARDED_CLIENT = "203.0.113.77"  # TEST-NET-3: an address that can only come from our own header


# ---------------------------------------------------------------- helpers


def ended(days_ago: float) -> str:
    """An end time `days_ago` days before now, written as events store it (ISO in UTC)."""
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_event(server: Server, slug: str, ends_at: str | None, agenda: list[dict[str, Any]] | None = None) -> None:
    """An event with an end, added with the project's own code (the CLI cannot create events)."""

    async def work() -> None:
        db = Database(server.db_path)
        await db.open()
        try:
            async with db.transaction() as tx:
                await insert_event(
                    tx, {"slug": slug, "title": f"Veranstaltung {slug}", "ends_at": ends_at}, agenda or []
                )
                # Questions after the end, as if the moderators had reopened them: the purge must cope with them.
                await tx.execute(
                    "UPDATE events SET questions_until = '2999-01-01T00:00:00Z' WHERE slug = :slug", {"slug": slug}
                )
        finally:
            await db.close()

    asyncio.run(work())


def set_end(server: Server, slug: str, ends_at: str | None) -> str | None:
    """Move an event's end, as an admin's edit would; the end it had before."""
    with connect(server.db) as conn:
        before = conn.execute("SELECT ends_at FROM events WHERE slug = ?", (slug,)).fetchone()[0]
        conn.execute("UPDATE events SET ends_at = ? WHERE slug = ?", (ends_at, slug))
        conn.commit()
    return before


def run_purge(server: Server, now: datetime, days: int) -> list[str]:
    """`retention.purge` on the server's database, from this process, as a second writer would."""

    async def work() -> list[str]:
        db = Database(server.db_path)
        await db.open()
        try:
            return await retention.purge(db, now, days)
        finally:
            await db.close()

    return asyncio.run(work())


@contextlib.contextmanager
def connect(path: str | Path) -> Iterator[sqlite3.Connection]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        yield conn


def tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return sorted(r[0] for r in rows)


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def every_value(path: str | Path) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null value of every column of every table."""
    found = []
    with connect(path) as conn:
        for table in tables(conn):
            for column in columns(conn, table):
                sql = f'SELECT CAST("{column}" AS TEXT) FROM "{table}" WHERE "{column}" IS NOT NULL'
                found += [(table, column, r[0]) for r in conn.execute(sql)]
    return found


def where_found(path: str | Path, needle: str) -> list[tuple[str, str]]:
    return sorted({(table, column) for table, column, value in every_value(path) if needle in value})


def dump(path: str | Path) -> dict[str, list[tuple[Any, ...]]]:
    with connect(path) as conn:
        return {t: sorted(tuple(r) for r in conn.execute(f'SELECT * FROM "{t}"')) for t in tables(conn)}


def votes_of(server: Server, slug: str) -> list[tuple[Any, ...]]:
    with connect(server.db) as conn:
        rows = conn.execute(
            "SELECT v.* FROM question_votes v JOIN questions q ON q.id = v.question_id "
            "JOIN events e ON e.id = q.event_id WHERE e.slug = ? ORDER BY v.question_id, v.device_id",
            (slug,),
        )
        return [tuple(r) for r in rows]


def device_of(viewer: Viewer) -> str:
    """The device id inside the signed cookie ("<id>.<signature>")."""
    cookie = viewer.device_cookie
    assert cookie
    return cookie.rsplit(".", 1)[0]


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


# ---------------------------------------------------------------- what people do at an event


class Audience:
    """A moderator (bearer token) and four viewers taking part in one event through the real API."""

    def __init__(self, server: Server, slug: str, staff: Viewer, viewers: list[Viewer]) -> None:
        self.server = server
        self.slug = slug
        self.staff = staff
        self.viewers = viewers
        self.name = f"Erika Mustermann {slug}"
        self.polls: list[dict[str, Any]] = []

    @property
    def devices(self) -> list[str]:
        return [device_of(v) for v in self.viewers]

    def take_part(self) -> None:
        """Everything a live event collects; the event is live meanwhile (polls take ballots only then) and
        ends as it was created afterwards."""
        planned_end = set_end(self.server, self.slug, None)
        try:
            self._take_part()
        finally:
            set_end(self.server, self.slug, planned_end)

    def _take_part(self) -> None:
        asker, second, third, fourth = self.viewers
        slug = self.slug
        named = asker.ask(f"Wann kommt Glasfaser nach {slug}?", name=self.name, slug=slug)
        anonymous = second.ask("Wie sicher sind die Daten der Schulen?", slug=slug)
        rejected = third.ask("Das hier ist keine Frage.", name=f"Max Beispiel {slug}", slug=slug)
        self.staff.moderate(named["id"], slug=slug, status="approved")
        self.staff.moderate(anonymous["id"], slug=slug, status="approved")
        self.staff.moderate(rejected["id"], slug=slug, status="rejected")
        # On air: the name goes out once more, in the on_air message of the change log.
        self.staff.moderate(named["id"], slug=slug, highlighted=True)
        for voter in (second, third, fourth):
            ok(voter.http.post(f"/api/events/{slug}/questions/{named['id']}/votes"))
        ok(asker.http.post(f"/api/events/{slug}/questions/{anonymous['id']}/votes"))

        specs: list[dict[str, Any]] = [
            {"title": "Eins", "kind": "single", "options": ["Ja", "Nein"]},
            {"title": "Mehrere", "kind": "multiple", "options": ["Schule", "Rathaus", "Bus"]},
            {"title": "Note", "kind": "rating"},
            {"title": "Ein Wort", "kind": "words"},
        ]
        for spec in specs:
            poll = ok(self.staff.http.post(f"/api/events/{slug}/polls", json=spec), 201)
            ok(self.staff.http.patch(f"/api/events/{slug}/polls/{poll['id']}", json={"state": "open"}))
            self.polls.append(poll)
        single, multiple, rating, words = self.polls
        for number, voter in enumerate(self.viewers):
            ballots = [
                (single, {"options": [single["options"][number % 2]["id"]]}),
                (multiple, {"options": [o["id"] for o in multiple["options"][: 1 + number % 3]]}),
                (rating, {"value": 1 + number}),
                (words, {"text": ["WLAN", "wlan!", "Bus", "Schule"][number]}),
            ]
            for poll, body in ballots:
                ok(voter.http.post(f"/api/events/{slug}/polls/{poll['id']}/votes", json=body), 201)

    def questions(self) -> list[dict[str, Any]]:
        return sorted(self.staff.questions(slug=self.slug), key=lambda q: q["id"])

    def results(self) -> list[dict[str, Any]]:
        polls = ok(self.staff.http.get(f"/api/events/{self.slug}/polls"))["polls"]
        return [{"id": p["id"], "results": p["results"]} for p in polls]


@pytest.fixture
def audience(server: Server, moderator_token: str, viewer: Callable[..., Viewer]) -> Callable[[str], Audience]:
    def make(slug: str) -> Audience:
        return Audience(server, slug, viewer(headers=bearer(moderator_token)), [viewer() for _ in range(4)])

    return make


# ---------------------------------------------------------------- 1. the legal pages


def headings(html: str, level: int) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(rf"<h{level}[^>]*>(.*?)</h{level}>", html, re.S)]


def test_the_legal_pages_answer_with_their_headings(shared_server: Server) -> None:
    with shared_server.client() as client:
        privacy = client.get(PRIVACY)
        accessibility = client.get(ACCESSIBILITY)
    assert privacy.status_code == 200
    assert privacy.headers["content-type"].startswith("text/html")
    assert headings(privacy.text, 1) == ["Datenschutzerklärung"]
    for heading in ("Verantwortliche Stelle", "Welche Daten verarbeitet werden", "Speicherdauer", "Ihre Rechte"):
        assert heading in headings(privacy.text, 2)
    assert "Gerätekennung (Cookie „srl_device“)" in headings(privacy.text, 3)
    assert "Livestream von YouTube oder Facebook" in headings(privacy.text, 3)
    assert "30 Tage nach dem Ende einer Veranstaltung" in privacy.text  # the default retention

    assert accessibility.status_code == 200
    assert headings(accessibility.text, 1) == ["Erklärung zur Barrierefreiheit"]
    for heading in (
        "Stand der Vereinbarkeit mit den Anforderungen",
        "Nicht barrierefreie Inhalte",
        "Erstellung dieser Erklärung",
        "Barrieren melden: Kontakt",
        "Schlichtungsverfahren und Durchsetzungsverfahren",
    ):
        assert heading in headings(accessibility.text, 2)
    # Without an operator set, the pages say plainly what is still to be filled in.
    for page in (privacy.text, accessibility.text):
        assert "mitgelieferte Mustertext" in page
        assert "[Bitte ersetzen: Name" in page
        assert "SMARTRLP_OPERATOR" in page


def test_the_viewer_page_links_to_the_legal_pages_in_its_footer(shared_server: Server) -> None:
    with shared_server.client() as client:
        html = client.get(f"/e/{SLUG}").text
    footer = re.search(r'<footer class="site-footer">(.*?)</footer>', html, re.S)
    assert footer, html
    assert '<a href="/datenschutz">Datenschutz</a>' in footer.group(1)
    assert '<a href="/barrierefreiheit">Barrierefreiheit</a>' in footer.group(1)
    assert "Kein Tracking; Video-Anbieter werden erst nach Ihrer Zustimmung geladen." in footer.group(1)
    assert "Betreiber:" not in footer.group(1)  # nothing to show until the operator is set


def test_the_operator_settings_replace_the_defaults(tmp_path: Path) -> None:
    privacy_file = tmp_path / "datenschutz.html"
    privacy_file.write_text("<h2>Datenschutz bei der Stadt Musterstadt</h2>\n<p>Unser <em>eigener</em> Text.</p>\n")
    accessibility_file = tmp_path / "barrierefreiheit.html"
    accessibility_file.write_text("<h2>Unsere Erklärung</h2><p>Geprüft am 1. März.</p>")
    operator = "Stadtverwaltung Musterstadt <Rathaus> & Bürgerbüro, datenschutz@musterstadt.example"
    shown = "Stadtverwaltung Musterstadt &lt;Rathaus&gt; &amp; Bürgerbüro, datenschutz@musterstadt.example"
    server = Server(
        tmp_path / "server",
        env={
            "SMARTRLP_OPERATOR": operator,
            "SMARTRLP_PRIVACY_FILE": str(privacy_file),
            "SMARTRLP_ACCESSIBILITY_FILE": str(accessibility_file),
            "SMARTRLP_RETENTION_DAYS": "14",
        },
    ).start()
    try:
        with server.client() as client:
            privacy = client.get(PRIVACY).text
            accessibility = client.get(ACCESSIBILITY).text
            viewer_page = client.get(f"/e/{SLUG}").text
            # The operator's file is read on every request: a corrected text shows without a restart.
            privacy_file.write_text("<p>Neue Fassung vom 2. März.</p>")
            corrected = client.get(PRIVACY).text
            # A file that cannot be read leaves the default text in its place, not an error page.
            privacy_file.unlink()
            missing = client.get(PRIVACY)
    finally:
        server.stop()
    server.assert_clean_log()

    # The fragment is the operator's own markup and goes in as it is; the operator's name is plain text.
    assert "<h2>Datenschutz bei der Stadt Musterstadt</h2>\n<p>Unser <em>eigener</em> Text.</p>" in privacy
    assert "<h2>Unsere Erklärung</h2><p>Geprüft am 1. März.</p>" in accessibility
    for page in (privacy, accessibility):
        assert "mitgelieferte Mustertext" not in page
        assert "[Bitte ersetzen" not in page
        assert f"<p>{shown}</p>" in page
        assert operator not in page
    assert headings(privacy, 1) == ["Datenschutzerklärung"]
    assert headings(accessibility, 1) == ["Erklärung zur Barrierefreiheit"]
    assert f"Betreiber: {shown}" in viewer_page
    assert "Neue Fassung vom 2. März." in corrected
    assert "Unser <em>eigener</em> Text." not in corrected
    assert missing.status_code == 200
    assert "mitgelieferte Mustertext" in missing.text
    assert "14 Tage nach dem Ende einer Veranstaltung" in missing.text
    assert f"cannot read {privacy_file}" in server.log()


# ---------------------------------------------------------------- 2. retention


def test_purge_strips_names_and_devices_of_an_old_event_and_keeps_its_results(
    server: Server, audience: Callable[[str], Audience]
) -> None:
    create_event(server, "vorbei", ends_at=ended(40))
    create_event(server, "neulich", ends_at=ended(2))
    old, recent = audience("vorbei"), audience("neulich")
    old.take_part()
    recent.take_part()
    old_questions, old_results = old.questions(), old.results()
    recent_questions = recent.questions()
    recent_votes = votes_of(server, "neulich")
    assert old_questions[0]["name"] == old.name
    for device in [*old.devices, *recent.devices]:
        assert where_found(server.db, device), "the test should have stored every device"
    assert where_found(server.db, old.name)

    result = server.cli("purge")
    assert result.stdout.splitlines() == [
        "Namen und Gerätekennungen entfernt: vorbei",
        "1 Veranstaltung bereinigt (Aufbewahrungsfrist 30 Tage nach dem Ende).",
    ]

    # Nothing in the whole database points at the old event's people any more ...
    for device in old.devices:
        assert where_found(server.db, device) == [], device
    assert where_found(server.db, old.name) == []
    assert where_found(server.db, "Max Beispiel vorbei") == []
    with connect(server.db) as conn:
        event_id = conn.execute("SELECT id FROM events WHERE slug = 'vorbei'").fetchone()[0]
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM questions WHERE event_id = ? AND (name IS NOT NULL OR device_id IS NOT NULL)",
                (event_id,),
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM question_votes v JOIN questions q ON q.id = v.question_id WHERE q.event_id = ?",
                (event_id,),
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM changes WHERE event_id = ? AND device_id IS NOT NULL", (event_id,)
            ).fetchone()[0]
            == 0
        )
        ballots = conn.execute(
            "SELECT b.poll_id, b.device_id FROM poll_ballots b JOIN polls p ON p.id = b.poll_id WHERE p.event_id = ?",
            (event_id,),
        ).fetchall()
        options = conn.execute(
            "SELECT o.poll_id, o.device_id FROM poll_ballot_options o JOIN polls p ON p.id = o.poll_id "
            "WHERE p.event_id = ?",
            (event_id,),
        ).fetchall()
        purges = conn.execute("SELECT event_id, ends_at, retention_days FROM event_purges").fetchall()
    assert len(ballots) == 16
    assert all(b["device_id"].startswith("anon:") for b in ballots)
    # One token per ballot: a device's ballots in different polls can no longer be put side by side ...
    assert len({b["device_id"] for b in ballots}) == 16
    # ... but a choice ballot and its options still belong together.
    assert {(o["poll_id"], o["device_id"]) for o in options} <= {(b["poll_id"], b["device_id"]) for b in ballots}
    assert event_id in [p["event_id"] for p in purges]

    # ... while everything the event produced is as it was.
    after = old.questions()
    assert [{**q, "name": None} for q in old_questions] == after
    assert [q["votes"] for q in after] == [3, 1, 0]
    assert old.results() == old_results
    assert old_results[0]["results"]["total"] == 4

    # The recent event is untouched: names, devices, votes, and askers still find their own questions.
    assert recent.questions() == recent_questions
    assert votes_of(server, "neulich") == recent_votes
    assert votes_of(server, "vorbei") == []
    for device in recent.devices:
        assert where_found(server.db, device)
    assert any(q["mine"] for q in recent.viewers[0].questions(slug="neulich"))
    assert not any(q["mine"] for q in old.viewers[0].questions(slug="vorbei"))

    # Running it again changes nothing at all.
    before = dump(server.db)
    again = server.cli("purge")
    assert again.stdout.splitlines() == ["Keine Veranstaltung bereinigt (Aufbewahrungsfrist 30 Tage nach dem Ende)."]
    assert dump(server.db) == before


def test_purge_takes_the_retention_from_days_and_leaves_events_without_an_end(
    server: Server, audience: Callable[[str], Audience]
) -> None:
    create_event(server, "ohne-ende", ends_at=None)
    create_event(server, "vorgestern", ends_at=ended(2))
    # Ends written with an offset, as the demo event's are, count by the moment they name.
    cet = timezone(timedelta(hours=1))
    create_event(server, "mit-versatz", ends_at=(datetime.now(cet) - timedelta(days=3)).isoformat(timespec="seconds"))
    never, ended_event = audience("ohne-ende"), audience("vorgestern")
    never.take_part()
    ended_event.take_part()

    assert server.cli("purge", "--days", "4").stdout.startswith("Keine Veranstaltung bereinigt")
    result = server.cli("purge", "--days", "1")
    assert result.stdout.splitlines() == [
        "Namen und Gerätekennungen entfernt: vorgestern",
        "Namen und Gerätekennungen entfernt: mit-versatz",
        "2 Veranstaltungen bereinigt (Aufbewahrungsfrist 1 Tag nach dem Ende).",
    ]
    assert where_found(server.db, ended_event.name) == []
    # Years later, an event without an end still has everything.
    # (The demo event, live now, has ended by then too.)
    assert run_purge(server, datetime.now(UTC) + timedelta(days=3650), 1) == ["smart-rlp"]
    assert where_found(server.db, never.name)
    for device in never.devices:
        assert where_found(server.db, device)


def test_what_arrives_after_the_purge_goes_once_it_is_as_old_as_the_retention(
    server: Server, audience: Callable[[str], Audience]
) -> None:
    create_event(server, "alt", ends_at=ended(40))
    assert run_purge(server, datetime.now(UTC), 30) == ["alt"]
    # Questions reopened after the end (as `create_event` does): people can still ask and vote there.
    late = audience("alt")
    late.take_part()
    assert run_purge(server, datetime.now(UTC), 30) == []
    assert where_found(server.db, late.name)

    assert run_purge(server, datetime.now(UTC) + timedelta(days=31), 30) == ["smart-rlp", "alt"]  # the demo: live now
    assert where_found(server.db, late.name) == []
    for device in late.devices:
        assert where_found(server.db, device) == []
    assert [q["votes"] for q in late.questions()] == [3, 1, 0]


def test_purge_refuses_a_retention_below_one_day_and_a_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "gibt-es-nicht.db"
    result = run_cli("purge", "--db", str(missing), check=False)
    assert result.returncode == 2
    assert "There is no database" in result.stderr
    assert not missing.exists()
    result = run_cli("purge", "--db", str(missing), "--days", "0", check=False)
    assert result.returncode == 2
    assert "--days must be positive" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_server_purges_when_it_starts(tmp_path: Path) -> None:
    server = Server(tmp_path / "server", env={"SMARTRLP_RETENTION_DAYS": "1"}).start()
    try:
        # Added after the start, so the server's start-up purge has not seen it yet.
        create_event(server, "gestern", ends_at=ended(2))
        with contextlib.ExitStack() as stack:
            asker = Viewer(server, stack)
            asker.ask("Wer hat an der Uhr gedreht?", name="Paulchen Panther", slug="gestern")
        assert where_found(server.db, "Paulchen Panther") == [("changes", "message"), ("questions", "name")]
        # The first purge of a run finishes before the server answers, so nothing has to be waited for.
        server.restart()
        assert where_found(server.db, "Paulchen Panther") == []
        assert where_found(server.db, device_of(asker)) == []
        assert "removed names and device ids of gestern" in server.log(current_run_only=True)
    finally:
        server.stop()
    server.assert_clean_log()


# ---------------------------------------------------------------- 3. no IP address is stored


@pytest.fixture
def proxied_server(tmp_path: Path) -> Iterator[Server]:
    """A server behind a (trusted) reverse proxy on 127.0.0.1, with the access log on, so the log shows whether
    the forwarded address arrived."""
    env = {"SMARTRLP_TRUSTED_PROXIES": "127.0.0.1", "SMARTRLP_ACCESS_LOG": "true"}
    server = Server(tmp_path / "proxied", env=env).start()
    try:
        yield server
    finally:
        server.stop()
    server.assert_clean_log()


def test_no_ip_address_is_stored(proxied_server: Server, viewer: Any) -> None:
    server = proxied_server
    name, password = "Moderatorin Ip", "correct horse ohne Adresse"
    add_moderator(server, name, password)
    # A moderator logged in through the form, and viewers behind a proxy that names their address.
    staff = viewer(on=server, credentials=(name, password))
    proxied = {"X-Forwarded-For": FORWARDED_CLIENT}
    people = [viewer(on=server), viewer(on=server, headers=proxied), viewer(on=server, headers=proxied)]
    asked = [person.ask(f"Frage Nummer {n}", name=f"Person {n}") for n, person in enumerate(people)]
    for question in asked:
        staff.moderate(question["id"], status="approved")
    poll = ok(staff.http.post(f"/api/events/{SLUG}/polls", json={"title": "Wie?", "kind": "rating"}), 201)
    ok(staff.http.patch(f"/api/events/{SLUG}/polls/{poll['id']}", json={"state": "open"}))
    for n, person in enumerate(people):
        ok(person.http.post(f"/api/events/{SLUG}/questions/{asked[(n + 1) % 3]['id']}/votes"))
        ok(person.http.post(f"/api/events/{SLUG}/polls/{poll['id']}/votes", json={"value": n + 1}), 201)
        ok(person.http.post(f"/api/events/{SLUG}/reactions", json={"kind": "applause"}), 202)
        socket = person.ws()
        assert socket.recv()["type"] == "snapshot"
    # The proxy header did reach the server as the client's address: otherwise the test would prove nothing.
    assert FORWARDED_CLIENT in server.stdout()

    values = every_value(server.db)
    assert any(value == "Person 2" for _, _, value in values)
    for address in ("127.0.0.1", FORWARDED_CLIENT):
        assert [(t, c) for t, c, value in values if address in value] == [], address


# ---------------------------------------------------------------- 4. deleting an event


def foreign_keys(conn: sqlite3.Connection, table: str) -> list[tuple[str, str, str]]:
    """(column, parent table, parent column) of each foreign key of `table`."""
    return [(r["from"], r["table"], r["to"] or "id") for r in conn.execute(f'PRAGMA foreign_key_list("{table}")')]


def rows_of_event_sql(conn: sqlite3.Connection, table: str, seen: tuple[str, ...] = ()) -> str | None:
    """A WHERE condition that picks `table`'s rows belonging to the event `:event` through its foreign keys."""
    if table == "events":
        return "id = :event"
    paths = []
    for column, parent, parent_column in foreign_keys(conn, table):
        if parent in seen or parent == table:
            continue
        condition = rows_of_event_sql(conn, parent, (*seen, table))
        if condition is not None:
            paths.append(f'"{column}" IN (SELECT "{parent_column}" FROM "{parent}" WHERE {condition})')
    return " OR ".join(f"({p})" for p in paths) or None


def test_deleting_an_event_leaves_no_row_of_it_in_any_table(
    server: Server, audience: Callable[[str], Audience], moderator_token: str
) -> None:
    agenda = [
        {"title": "Löschprobe: Begrüßung", "speakers": "", "kind": "talk", "starts_at": None, "duration_minutes": 5}
    ]
    create_event(server, "loeschprobe", ends_at=ended(40), agenda=agenda)
    people = audience("loeschprobe")
    people.take_part()
    add_moderator(server, "Moderatorin Ella", "correct horse battery", events=("loeschprobe",))
    staff = people.staff.http
    ok(staff.post("/api/events/loeschprobe/studio-links", json={"view": "present", "label": "Löschprobe"}), 201)
    ok(staff.put("/api/events/loeschprobe/screen", json={"mode": "poll", "poll_id": people.polls[0]["id"]}))
    server.cli("purge")  # so that the event has a retention record too
    audience("loeschprobe").take_part()  # and rows with devices again, written after the purge
    server.stop()

    with connect(server.db) as conn:
        event_id = conn.execute("SELECT id FROM events WHERE slug = 'loeschprobe'").fetchone()[0]
        owned = {t: rows_of_event_sql(conn, t) for t in tables(conn)}
        owned = {t: condition for t, condition in owned.items() if condition is not None}
        count = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables(conn)}
        belonging = {
            t: conn.execute(f'SELECT COUNT(*) FROM "{t}" WHERE {c}', {"event": event_id}).fetchone()[0]
            for t, c in owned.items()
        }
        for table in (
            "events",
            "agenda_items",
            "questions",
            "question_votes",
            "changes",
            "event_moderators",
            "moderation_actions",
            "polls",
            "poll_options",
            "poll_ballots",
            "poll_ballot_options",
            "studio_links",
            "event_purges",
        ):
            assert belonging.get(table, 0) > 0, f"the test stored nothing of the event in {table}"

        conn.execute("PRAGMA foreign_keys = ON")
        with conn:
            conn.execute("DELETE FROM events WHERE id = ?", (event_id,))
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        after = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables(conn)}
        # Every table lost exactly the rows that belonged to the event, and nothing else.
        assert after == {t: count[t] - belonging.get(t, 0) for t in count}
        for table in tables(conn):
            if "event_id" in columns(conn, table):
                left = conn.execute(f'SELECT COUNT(*) FROM "{table}" WHERE event_id = ?', (event_id,)).fetchone()
                assert left[0] == 0, table
    # Nor does any text of it survive anywhere (the other events' rows are still there).
    assert where_found(server.db, "loeschprobe") == where_found(server.db, "Löschprobe") == []
    assert where_found(server.db, SLUG)
