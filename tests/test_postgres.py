"""PostgreSQL as the store: what only a database server brings, against a real one (the session's `postgres`).

- A lock held longer than the busy timeout answers `503 busy` with Retry-After, never a 500, and the next request
  works once the lock is gone.
- A deadlock with another host's transaction is detected by PostgreSQL, the request is run again and succeeds.
- Two app hosts writing the same event at once: sequence numbers stay gap-free, every acknowledged question is
  stored once.
- Migrations are recorded in both stores under the same names; the SQL translation is checked where it matters.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fixtures import SLUG, Server, Viewer, add_moderator, bearer, create_token, free_port, run_cli, wait_until
from pgserver import TEMPLATE, PostgresServer, postgres_bin

from smartrlp.db import dialect
from smartrlp.db.store import Database, migration_files

QUESTIONS = f"/api/events/{SLUG}/questions"


class Session:
    """An interactive psql session that holds its transaction open between statements, as another host would."""

    def __init__(self, pg: PostgresServer, url: str) -> None:
        psql = postgres_bin("psql") or "psql"
        self.process = subprocess.Popen(
            [psql, "-X", "-q", "-v", "ON_ERROR_STOP=0", "-d", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def send(self, sql: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(sql + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


def _database(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _waiting_backends(pg: PostgresServer, url: str) -> int:
    sql = (
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        f"AND application_name = 'smartrlp' AND datname = '{_database(url)}'"
    )
    return int(pg.psql(sql).strip())


def _migrated_sqlite(directory: Path) -> str:
    """A new SQLite file with every migration, opened with the project's own store."""
    path = str(directory / "migrated.db")

    async def migrate() -> None:
        db = Database(path)
        await db.open()
        await db.close()

    asyncio.run(migrate())
    return path


def _wait_for_lock(pg: PostgresServer, url: str) -> None:
    """Until the other session holds its row lock (the psql process may not have started yet)."""
    sql = "SELECT count(*) FROM pg_locks WHERE mode = 'RowExclusiveLock'"
    wait_until(lambda: int(pg.psql(sql, _database(url))), what="the other session's lock")


@pytest.fixture
def pg_server(postgres: PostgresServer, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Server, str]]:
    """A server on a new database; its busy timeout is the test's `busy_ms` mark (default 1.5 s)."""
    mark = request.node.get_closest_marker("busy_ms")
    busy = str(mark.args[0]) if mark else "1500"
    url = postgres.new_database(TEMPLATE)
    server = Server(tmp_path, db=url, env={"SMARTRLP_BUSY_TIMEOUT_MS": busy}).start()
    try:
        yield server, url
    finally:
        server.stop()


def test_a_lock_held_too_long_is_503_busy(
    postgres: PostgresServer, pg_server: tuple[Server, str], viewer: Callable[..., Viewer]
) -> None:
    server, url = pg_server
    client = viewer(on=server).http
    other = Session(postgres, url)
    try:
        other.send("BEGIN; UPDATE events SET last_seq = last_seq WHERE slug = 'smart-rlp';")
        _wait_for_lock(postgres, url)
        response = client.post(QUESTIONS, json={"text": "Wird das Freibad saniert?"})
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "busy"
        assert response.headers["Retry-After"] == "1"
    finally:
        other.send("COMMIT;")
        other.close()
    assert client.post(QUESTIONS, json={"text": "Wird das Freibad saniert?"}).status_code == 201
    server.assert_clean_log()


# Long enough that PostgreSQL's deadlock check (200 ms here) always comes before the lock timeout, however loaded.
@pytest.mark.busy_ms(30_000)
def test_a_deadlock_with_another_host_is_run_again(
    postgres: PostgresServer, pg_server: tuple[Server, str], viewer: Callable[..., Viewer]
) -> None:
    server, url = pg_server
    client = viewer(on=server).http
    add_moderator(server, "mod", "correct horse mod")
    moderator = bearer(create_token(server, "mod"))
    question = client.post(QUESTIONS, json={"text": "Kommt der Radweg?"}).json()
    assert client.patch(f"{QUESTIONS}/{question['id']}", json={"status": "approved"}, headers=moderator).is_success
    # The vote locks the question's row, then the event's (its change log). The other host takes the event first
    # and then wants the question: a deadlock, which PostgreSQL breaks by aborting the vote's transaction.
    other = Session(postgres, url)
    try:
        other.send("BEGIN; UPDATE events SET last_seq = last_seq WHERE slug = 'smart-rlp';")
        _wait_for_lock(postgres, url)
        with ThreadPoolExecutor(1) as pool:
            vote = pool.submit(client.post, f"{QUESTIONS}/{question['id']}/votes")
            wait_until(lambda: _waiting_backends(postgres, url), what="the vote waiting for the event's lock")
            other.send(f"UPDATE questions SET votes = votes WHERE id = {question['id']}; COMMIT;")
            response = vote.result(timeout=30)
        assert response.status_code == 200, response.text
    finally:
        other.close()
    assert "transaction conflict" in server.log()
    listed = client.get(QUESTIONS).json()["questions"]
    assert [q["votes"] for q in listed if q["id"] == question["id"]] == [1]
    server.assert_clean_log()


def test_two_hosts_on_one_database_number_changes_without_gaps(
    postgres: PostgresServer, tmp_path: Path, viewer: Callable[..., Viewer]
) -> None:
    url = postgres.new_database(TEMPLATE)
    hosts = [Server(tmp_path / name, db=url).start() for name in ("a", "b")]
    try:
        devices = [viewer(on=host) for host in hosts for _ in range(4)]

        def ask(number: int) -> int:
            response = devices[number % len(devices)].http.post(QUESTIONS, json={"text": f"Frage Nummer {number}"})
            assert response.status_code == 201, response.text
            return int(response.json()["id"])

        with ThreadPoolExecutor(8) as pool:
            acknowledged = list(pool.map(ask, range(120)))
        seqs = [int(s) for s in postgres.psql("SELECT seq FROM changes ORDER BY seq", _database(url)).split()]
        assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers have gaps or repeats"
        stored = postgres.psql("SELECT id FROM questions", _database(url)).split()
        assert sorted(map(int, stored)) == sorted(acknowledged)
        for host in hosts:
            host.assert_clean_log()
    finally:
        for host in hosts:
            host.stop()


def test_migrations_are_recorded_in_both_stores(postgres: PostgresServer, tmp_path: Path) -> None:
    import sqlite3

    path = _migrated_sqlite(tmp_path)
    with contextlib.closing(sqlite3.connect(path)) as db:
        in_sqlite = [row[0] for row in db.execute("SELECT name FROM migrations ORDER BY name")]
    in_postgres = postgres.psql("SELECT name FROM migrations ORDER BY name", TEMPLATE).split()
    assert in_sqlite == in_postgres == [name for name, _ in migration_files()]


def test_the_translation_of_statements() -> None:
    text, order = dialect.postgres_query("SELECT ':x' AS a, x::int FROM t WHERE a = :a AND b IS NOT :b AND c = :a")
    assert text == "SELECT ':x' AS a, x::int FROM t WHERE a = $1 AND b IS DISTINCT FROM $2 AND c = $1"
    assert order == ("a", "b")
    assert dialect.postgres_query("SELECT a FROM t WHERE b = ? AND c = ?") == (
        "SELECT a FROM t WHERE b = $1 AND c = $2",
        (0, 1),
    )
    ddl = dialect.postgres_ddl(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n REAL, -- INTEGER stays\n k TEXT) WITHOUT ROWID;"
    )
    assert ddl == (
        "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n DOUBLE PRECISION, "
        "-- INTEGER stays\n k TEXT);"
    )


def test_an_unreachable_database_is_a_clear_message_without_the_password() -> None:
    result = run_cli("token", "list", "--db", f"postgresql://smartrlp:secret@127.0.0.1:{free_port()}/x", check=False)
    assert result.returncode == 2
    assert "cannot open the PostgreSQL database postgresql://smartrlp:***@127.0.0.1" in result.stderr
    assert "secret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_both_stores_have_the_same_tables_and_columns(postgres: PostgresServer, tmp_path: Path) -> None:
    """Every migration, today's and the ones to come, gives PostgreSQL the same schema as SQLite."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(_migrated_sqlite(tmp_path))) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        in_sqlite = {t: sorted(r[1] for r in db.execute(f"PRAGMA table_info({t})")) for t in tables}
    rows = postgres.psql(
        "SELECT table_name || ' ' || column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' ORDER BY 1",
        TEMPLATE,
    ).split("\n")
    in_postgres: dict[str, list[str]] = {}
    for row in filter(None, rows):
        table, column = row.split(" ")
        in_postgres.setdefault(table, []).append(column)
    assert {t: sorted(c) for t, c in in_postgres.items()} == in_sqlite


def test_a_read_only_database_is_503_storage_unavailable_until_it_is_writable(
    postgres: PostgresServer, pg_server: tuple[Server, str], viewer: Callable[..., Viewer]
) -> None:
    server, url = pg_server
    client = viewer(on=server).http
    name = _database(url)
    postgres.psql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    # The server's connections keep their session; ending them makes the server open new, read-only ones.
    postgres.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")

    def refused() -> httpx.Response | None:
        response = client.post(QUESTIONS, json={"text": "Wird das gespeichert?"})
        return response if response.json().get("error", {}).get("code") == "storage_unavailable" else None

    response = wait_until(refused, what="503 storage_unavailable")
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert client.get(QUESTIONS).status_code == 200, "reads go on"
    postgres.psql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
    # The storage probe notices by itself (every 5 s) and the next question is stored.
    wait_until(lambda: client.get("/healthz").status_code == 200, timeout=30, what="/healthz to recover")
    assert client.post(QUESTIONS, json={"text": "Wird das gespeichert?"}).status_code == 201
    assert not server.unexpected_errors()
