"""The store under concurrent starts: workers of `serve --workers N` open one new database file at the same moment."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from smartrlp.db.store import Database, migration_files


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
    assert [t for t in threading.enumerate() if t not in before] == []
