"""The store under concurrent starts: workers of `serve --workers N` open one new database file at the same moment."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path

import pytest
from fixtures import wait_until

from smartrlp.db.store import Database, StorageHealth, migration_files, storage_fault


async def _start_together(path: Path, count: int) -> list[str]:
    databases = [Database(str(path)) for _ in range(count)]
    try:
        await asyncio.gather(*(db.open() for db in databases))
        rows = await databases[0].fetchall("SELECT name FROM migrations ORDER BY name")
        return [r["name"] for r in rows]
    finally:
        for db in databases:
            await db.close()


def test_many_workers_starting_at_once_all_open_a_new_database(tmp_path: Path) -> None:
    # Switching a new file to WAL takes a lock SQLite does not always wait for; before the retry, about one
    # start in fifteen of three workers failed with "database is locked". Twenty rounds catch that reliably.
    expected = [name for name, _ in migration_files()]
    for round_number in range(20):
        assert asyncio.run(_start_together(tmp_path / f"new-{round_number}.db", 3)) == expected


def test_a_failed_open_leaves_no_connection_thread_behind(tmp_path: Path) -> None:
    # An aiosqlite connection runs in a thread of its own: one left open by a failed start keeps the process alive.
    (tmp_path / "not-a-database.db").write_bytes(b"this is not an SQLite file" * 100)
    # Threads of other tests in this process may end meanwhile: only a new thread that is still alive counts.
    before = set(threading.enumerate())
    with pytest.raises(sqlite3.DatabaseError):
        asyncio.run(Database(str(tmp_path / "not-a-database.db")).open())
    # aiosqlite's close() returns once the connection is closed; its thread ends a moment later, so a thread that
    # is still alive right then is not yet one left behind (this failed under load): it must end within a deadline.
    wait_until(
        lambda: not [t for t in threading.enumerate() if t not in before and t.is_alive()],
        what="the failed open's connection threads to end",
    )


def test_a_storage_fault_is_logged_when_it_starts_then_once_a_minute_and_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    health = StorageHealth(clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="smartrlp.storage"):
        for second in range(0, 120, 2):  # a refused write every 2 s for two minutes
            now[0] = 1000.0 + second
            refusal = health.failed("database or disk is full (SQLITE_FULL)")
            assert refusal.status == 503
            assert refusal.code == "storage_unavailable"
            assert refusal.headers["Retry-After"] == "30"
        assert not health.writable
        now[0] = 1125.0
        health.succeeded()
        health.succeeded()  # a second success says nothing more
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 3, lines
    assert lines[0].startswith("storage unavailable: database or disk is full (SQLITE_FULL); 1 write(s) refused")
    assert "31 write(s) refused" in lines[1]  # the one at 60 s
    assert lines[2] == "storage writable again after 125 s (60 write(s) refused)"
    assert all(record.exc_info is None for record in caplog.records)  # no tracebacks
    assert health.writable
    assert health.cause is None


def test_storage_faults_are_told_from_other_database_errors(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "faults.db")
    conn.execute("CREATE TABLE t (x TEXT NOT NULL)")
    conn.execute("PRAGMA max_page_count = 2")  # a quota: the database may not grow beyond its two pages
    with pytest.raises(sqlite3.Error) as full:
        conn.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    with pytest.raises(sqlite3.Error) as constraint:
        conn.execute("INSERT INTO t VALUES (NULL)")
    with pytest.raises(sqlite3.Error) as missing:
        conn.execute("SELECT * FROM nowhere")
    conn.close()
    read_only = sqlite3.connect(f"file:{tmp_path / 'faults.db'}?mode=ro", uri=True)
    with pytest.raises(sqlite3.Error) as readonly:
        read_only.execute("INSERT INTO t VALUES ('y')")
    read_only.close()
    assert storage_fault(full.value) == "database or disk is full (SQLITE_FULL)"
    assert storage_fault(readonly.value) == "attempt to write a readonly database (SQLITE_READONLY)"
    assert storage_fault(sqlite3.OperationalError("disk I/O error")) == "disk I/O error"  # no code: by its text
    assert storage_fault(constraint.value) is None
    assert storage_fault(missing.value) is None
    assert storage_fault(sqlite3.OperationalError("database is locked")) is None
    assert storage_fault(ValueError("database or disk is full")) is None
