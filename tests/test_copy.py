"""Moving and keeping the data: `smartrlp db copy` between SQLite and PostgreSQL, `smartrlp backup` of a live file.

The installation is filled through the real API (questions, votes, moderation, a poll with ballots), copied with
the CLI, and a server on the copy must show the same: the same export, the same change log to replay, and new rows
that get new ids (PostgreSQL's sequences follow the copied ids). Copying back gives the same export again.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from pathlib import Path

from fixtures import SLUG, Server, Viewer, add_moderator, bearer, create_token, run_cli
from pgserver import PostgresServer

QUESTIONS = f"/api/events/{SLUG}/questions"
POLLS = f"/api/events/{SLUG}/polls"


def _fill(server: Server) -> str:
    """Questions, votes, moderation and a poll with ballots, through the API; returns a moderator token."""
    add_moderator(server, "mod", "correct horse mod")
    token = create_token(server, "mod")
    with contextlib.ExitStack() as stack:
        moderator = Viewer(server, stack, headers=bearer(token))
        crowd = [Viewer(server, stack) for _ in range(4)]
        asked = [crowd[n % 4].ask(f"Frage {n}: Wie geht es weiter?", name=f"Person {n}")["id"] for n in range(6)]
        for question_id in asked[:4]:
            moderator.moderate(question_id, status="approved")
        for voter in crowd:
            assert voter.http.post(f"{QUESTIONS}/{asked[0]}/votes").status_code == 200
        poll = moderator.http.post(POLLS, json={"title": "Was zuerst?", "kind": "single", "options": ["A", "B"]})
        poll_id = poll.json()["id"]
        assert moderator.http.patch(f"{POLLS}/{poll_id}", json={"state": "open"}).status_code == 200
        option = poll.json()["options"][1]["id"]
        for voter in crowd[:3]:
            assert voter.http.post(f"{POLLS}/{poll_id}/votes", json={"options": [option]}).status_code == 201
    return token


def _export(target: str) -> dict[str, object]:
    return json.loads(run_cli("export", SLUG, "--format", "json", "--db", target).stdout)


def test_copy_to_postgresql_and_back(postgres: PostgresServer, tmp_path: Path) -> None:
    source = Server(tmp_path / "sqlite", startup_timeout=60).start()
    token = _fill(source)
    source.stop()
    before = _export(source.db_path)

    url = postgres.new_database()  # empty: the copy migrates it
    result = run_cli("db", "copy", source.db_path, url)
    assert "Anzahl geprüft" in result.stdout
    assert "questions\t6" in result.stdout
    assert _export(url) == before

    # A server on the copy: the same questions, the same log to replay, logins and tokens still valid.
    on_postgres = Server(tmp_path / "pg", db=url, demo=False, startup_timeout=60).start()
    try:
        with contextlib.ExitStack() as stack:
            moderator = Viewer(on_postgres, stack, headers=bearer(token))
            assert len(moderator.questions()) == 6
            watch = moderator.ws(since=0)
            replay = watch.recv_until(lambda m: m["type"] == "synced")
            head = replay[-1]["seq"]
            assert [m["seq"] for m in replay[:-1]] == list(range(1, head + 1))
            new = Viewer(on_postgres, stack).ask("Eine neue Frage nach dem Umzug")
            assert new["id"] == 7, "the copied ids are not handed out again"
        on_postgres.assert_clean_log()
    finally:
        on_postgres.stop()

    back = tmp_path / "back.db"
    run_cli("db", "copy", url, str(back))
    assert len(_export(str(back))["questions"]) == 7  # type: ignore[arg-type]

    # Into a database that holds data already: refused, nothing changed.
    refused = run_cli("db", "copy", source.db_path, url, check=False)
    assert refused.returncode == 1
    assert "already holds data" in refused.stderr


def test_backup_of_a_live_database_is_consistent(tmp_path: Path) -> None:
    server = Server(tmp_path, startup_timeout=60).start()
    stop = threading.Event()

    def ask_on() -> None:
        with contextlib.ExitStack() as stack:
            device = Viewer(server, stack)
            number = 0
            while not stop.is_set() and number < 2000:
                assert device.http.post(QUESTIONS, json={"text": f"Frage {number} während der Sicherung"})
                number += 1

    writer = threading.Thread(target=ask_on)
    writer.start()
    try:
        backups = [tmp_path / f"backup-{n}.db" for n in range(2)]
        for backup in backups:
            result = run_cli("backup", "--db", server.db_path, str(backup))
            assert "Sicherung geschrieben" in result.stdout
    finally:
        stop.set()
        writer.join(timeout=30)
    server.stop()
    for backup in backups:
        with contextlib.closing(sqlite3.connect(backup)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            # One snapshot: the log ends exactly where the event's counter says, and every question has its change.
            (last_seq,) = db.execute("SELECT last_seq FROM events WHERE slug = ?", (SLUG,)).fetchone()
            (logged,) = db.execute("SELECT COUNT(*) FROM changes").fetchone()
            (questions,) = db.execute("SELECT COUNT(*) FROM questions").fetchone()
            assert logged == last_seq
            assert questions <= logged
    assert not list(tmp_path.glob("*.part"))
    on_postgres = run_cli("backup", "--db", "postgresql://u@127.0.0.1:1/x", str(tmp_path / "x.db"), check=False)
    assert on_postgres.returncode == 2
    assert "pg_dump" in on_postgres.stderr
