"""Moving and keeping the data: a whole installation from one store to another, and a live SQLite backup.

`copy_database` copies every table from one store to the other (SQLite to PostgreSQL or back, through the same seam
the services use), in the order the migrations create them, in one transaction on the target, and then compares
the row counts of every table. Columns that point at a table created later (events.screen_poll_id -> polls) are
filled in a second pass, so that no foreign key ever points at a row that is not there yet. On PostgreSQL the
identity sequences are moved past the copied ids afterwards, or the next insert would collide.

`backup_sqlite` uses SQLite's online backup: a consistent copy of a database that is being written to.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smartrlp.db.store import migration_files

CHUNK = 2000
_CREATE = re.compile(r"CREATE TABLE (\w+)", re.IGNORECASE)
_LATE_COLUMN = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (\w+)[^;]*REFERENCES\s+(\w+)", re.IGNORECASE)
# The store's own bookkeeping: each side has its own rows.
SKIPPED = {"migrations"}


class CopyError(Exception):
    pass


@dataclass
class CopyReport:
    counts: dict[str, int] = field(default_factory=dict)


def tables_in_order() -> tuple[list[str], dict[str, list[str]]]:
    """Every table in creation order, and per table the columns that refer to a table created after it."""
    order: list[str] = []
    late: dict[str, list[str]] = {}
    for _, sql in migration_files():
        for match in re.finditer(rf"{_CREATE.pattern}|{_LATE_COLUMN.pattern}", sql, re.IGNORECASE):
            if match.group(1):
                order.append(match.group(1))
            else:
                table, column, target = match.group(2), match.group(3), match.group(4)
                if order.index(target) > order.index(table):
                    late.setdefault(table, []).append(column)
    return [t for t in order if t not in SKIPPED], late


async def _count(db: Any, table: str) -> int:
    row = await db.fetchone(f"SELECT COUNT(*) AS n FROM {table}")  # names from our migrations
    return int(row["n"]) if row is not None else 0


async def copy_database(source: Any, target: Any) -> CopyReport:
    """Copy everything from `source` into the empty `target` (both open `Database`/`PostgresDatabase`)."""
    tables, late = tables_in_order()
    filled = [t for t in tables if await _count(target, t)]
    if filled:
        raise CopyError(f"the target already holds data (in {', '.join(filled)}); copy into an empty database")
    report = CopyReport()
    late_updates: list[tuple[str, list[dict[str, Any]]]] = []
    async with target.transaction() as tx:
        for table in tables:
            first = await source.fetchall(f"SELECT * FROM {table} LIMIT 1")
            if not first:
                report.counts[table] = 0
                continue
            columns = list(first[0].keys())
            order = ", ".join(columns)
            later = late.get(table, [])
            names = ", ".join(columns)
            values = ", ".join("NULL" if c in later else f":{c}" for c in columns)
            insert = f"INSERT INTO {table} ({names}) VALUES ({values})"
            offset = 0
            while True:
                rows = await source.fetchall(
                    f"SELECT * FROM {table} ORDER BY {order} LIMIT :limit OFFSET :offset",
                    {"limit": CHUNK, "offset": offset},
                )
                if not rows:
                    break
                await tx.executemany(insert, [dict(row) for row in rows])
                if later:
                    key = "id" if "id" in columns else columns[0]  # the tables with such columns have an id
                    update = f"UPDATE {table} SET {', '.join(f'{c} = :{c}' for c in later)} WHERE {key} = :{key}"
                    rows_to_update = [
                        {c: row[c] for c in (key, *later)} for row in rows if any(row[c] is not None for c in later)
                    ]
                    if rows_to_update:
                        late_updates.append((update, rows_to_update))
                offset += len(rows)
            report.counts[table] = offset
        # Only once every table is in: a late column may point at a row of any table after its own (an event's
        # current agenda item, an agenda item being of that event).
        for update, rows_to_update in late_updates:
            await tx.executemany(update, rows_to_update)
        if getattr(target, "dialect", "sqlite") == "postgresql":
            identities = await tx.fetchall(
                "SELECT table_name AS name FROM information_schema.columns WHERE column_name = 'id' "
                "AND is_identity = 'YES' AND table_schema = current_schema()"
            )
            for row in identities:
                table = row["name"]
                await tx.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
    for table in tables:
        copied, there = await _count(source, table), await _count(target, table)
        if copied != there:
            raise CopyError(f"{table}: {copied} rows in the source, {there} in the target")
        report.counts[table] = there
    return report


def _backup(source: str, target: str) -> dict[str, int]:
    if not Path(source).exists():
        raise CopyError(f"there is no database at {source}")
    temporary = Path(target + ".part")
    temporary.unlink(missing_ok=True)
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as live,
        contextlib.closing(sqlite3.connect(temporary)) as copy,
    ):
        live.backup(copy)  # one step: the copy is one consistent snapshot, writers go on meanwhile (WAL)
        if copy.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise CopyError("the copy failed SQLite's integrity check")
        tables, _ = tables_in_order()
        counts = {t: int(copy.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in tables}
    temporary.replace(target)
    return counts


async def backup_sqlite(source: str, target: str) -> dict[str, int]:
    """A consistent copy of the live SQLite database `source` at `target`; the row counts of the copy."""
    return await asyncio.to_thread(_backup, source, target)
