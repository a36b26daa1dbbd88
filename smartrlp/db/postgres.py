"""PostgreSQL behind the same seam as SQLite (`Database`, `Transaction`), for installations of several hosts.

Same shape as store.py: one writer connection per process behind an asyncio lock, so that changes are committed and
published in sequence order exactly as with SQLite, and a small pool of readers that run beside it. Between the
processes of several hosts PostgreSQL arbitrates: `ChangeLog.record` bumps `events.last_seq` with an UPDATE, whose
row lock makes every other writer of the same event wait until this transaction commits, so sequence numbers are
gap-free per event across every host and commit in their order. Transactions run at READ COMMITTED, the isolation
in which such a waiting UPDATE continues with the committed row instead of failing; a serialization failure or a
deadlock (possible between hosts) is raised as `TransactionConflict`, which the web layer answers by running the
request again (smartrlp/web/middleware/retry.py). A lock not granted within the busy timeout, a server refusing
connections or gone away answers `503 busy` with Retry-After, as a locked SQLite file does.

The driver is asyncpg: a vote burst (insert the vote, bump the count and last_seq, write the change, one transaction
each through one writer) ran at 660-760 votes/s with it and 510-660 with psycopg 3's async API on the same server
(fsync on, 2 cores shared). Its prepared-statement cache is kept per connection; the SQL is translated once per text
(`dialect.postgres_query`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from smartrlp.core import metrics
from smartrlp.core.errors import StorageUnavailable
from smartrlp.db import dialect
from smartrlp.db.store import (
    DEFAULT_BUSY_TIMEOUT_MS,
    STORAGE_PROBE_SECONDS,
    DatabaseBusy,
    Params,
    StorageHealth,
    migration_files,
    utcnow,
)

log = logging.getLogger("smartrlp.db")

READERS = 4
# Taken while migrating, so that hosts starting together apply each migration once (any constant will do).
MIGRATION_LOCK = 0x5352_4C50
# SQLite's `COLLATE NOCASE`, so that the same DDL and ORDER BY hold: a case-insensitive ICU collation.
NOCASE = (
    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'nocase') THEN "
    "CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false); END IF; END $$"
)
_COUNT = re.compile(r"(\d+)$")


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class StoreUnreachable(RuntimeError):
    """The PostgreSQL server named by the URL cannot be reached or refuses us (at start: a clear message, no trace)."""


class TransactionConflict(Exception):
    """PostgreSQL aborted the transaction for another one (serialization failure, deadlock): run it again."""


_CONFLICTS = (asyncpg.exceptions.SerializationError, asyncpg.exceptions.DeadlockDetectedError)
# The server cannot write: its disk is full (53100), it runs out of memory or files (53xxx), a standby or a
# default_transaction_read_only database (25006), a failing disk (58030). Answered 503 storage_unavailable as
# SQLite's full disk is (store.StorageHealth); reads go on.
_STORAGE_FAULTS = (
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
    asyncpg.exceptions.PostgresIOError,
)


def storage_fault(error: BaseException) -> str | None:
    if isinstance(error, _STORAGE_FAULTS) and not isinstance(error, asyncpg.exceptions.TooManyConnectionsError):
        return f"{error} ({error.sqlstate})"
    return None


_BUSY = (
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
    OSError,
)


class Result:
    """What `execute` returns: the number of rows the statement changed, as sqlite3's cursor says it."""

    __slots__ = ("rowcount",)

    def __init__(self, status: str) -> None:
        match = _COUNT.search(status)
        self.rowcount = int(match.group(1)) if match else -1


def _number(text: str) -> int | float:
    # SUM and AVG of integers are NUMERIC in PostgreSQL; the services expect what SQLite gives (int or float).
    return int(text) if text.lstrip("-").isdigit() else float(text)


async def _setup(conn: asyncpg.Connection) -> None:
    """SQLite's loose typing at the seam: services pass True for 1 and ints where SQLite compared text."""
    for name in ("int8", "int4", "int2"):
        await conn.set_type_codec(name, schema="pg_catalog", encoder=lambda v: str(int(v)), decoder=int, format="text")
    await conn.set_type_codec("text", schema="pg_catalog", encoder=str, decoder=str, format="text")
    await conn.set_type_codec(
        "float8", schema="pg_catalog", encoder=lambda v: repr(float(v)), decoder=float, format="text"
    )
    await conn.set_type_codec("numeric", schema="pg_catalog", encoder=str, decoder=_number, format="text")


class Transaction:
    """The same interface as store.Transaction, on the writer connection."""

    __slots__ = ("_after_commit", "conn")

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self._after_commit: list[Callable[[], None]] = []

    async def execute(self, sql: str, params: Params = ()) -> Result:
        text, order = dialect.postgres_query(sql)
        return Result(await self.conn.execute(text, *dialect.arguments(order, params)))

    async def fetchone(self, sql: str, params: Params = ()) -> asyncpg.Record | None:
        text, order = dialect.postgres_query(sql)
        return await self.conn.fetchrow(text, *dialect.arguments(order, params))

    async def fetchall(self, sql: str, params: Params = ()) -> list[asyncpg.Record]:
        text, order = dialect.postgres_query(sql)
        return list(await self.conn.fetch(text, *dialect.arguments(order, params)))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        text, order = dialect.postgres_query(sql)
        batch = [dialect.arguments(order, row) for row in rows]
        if batch:
            await self.conn.executemany(text, batch)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)


class PostgresDatabase:
    """`Database` for a `postgresql://` URL; the same methods, so services and the change log do not tell them apart."""

    dialect = "postgresql"

    def __init__(self, url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, readers: int = READERS) -> None:
        self.url = url
        self.path = redacted(url)  # what logs and messages name
        self.busy_timeout_ms = busy_timeout_ms
        self.readers = readers
        self._writer: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._write_lock = asyncio.Lock()
        self._opened = False
        self.storage = StorageHealth()

    async def _connect(self) -> asyncpg.Connection:
        # lock_timeout bounds the wait for another host's transaction on the same rows, as busy_timeout does
        # for SQLite's file lock.
        conn = await asyncpg.connect(
            self.url,
            timeout=self.busy_timeout_ms / 1000,
            server_settings={"lock_timeout": str(self.busy_timeout_ms), "application_name": "smartrlp"},
        )
        try:
            await _setup(conn)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def open(self) -> None:
        try:
            try:
                self._writer = await self._connect()
            except (*_BUSY, asyncpg.PostgresError) as error:
                raise StoreUnreachable(f"cannot open the PostgreSQL database {self.path}: {error}") from error
            await apply_migrations(self._writer)
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.readers,
                init=_setup,
                server_settings={"application_name": "smartrlp"},
            )
            self._opened = True
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        self._opened = False
        if self._pool is not None:
            await self._pool.close()
        if self._writer is not None and not self._writer.is_closed():
            await self._writer.close()
        self._pool = self._writer = None

    @property
    def is_open(self) -> bool:
        return self._opened

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        assert self._opened, "database is not open"
        async with self._write_lock:
            try:
                if self._writer is None or self._writer.is_closed():
                    self._writer = await self._connect()  # the server restarted or the connection broke
                conn = self._writer
                await conn.execute("BEGIN")
            except _BUSY as error:
                raise DatabaseBusy() from error
            tx = Transaction(conn)
            try:
                yield tx
                started = time.perf_counter()
                await conn.execute("COMMIT")
                metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
            except BaseException as error:
                if not conn.is_closed():
                    try:
                        await conn.execute("ROLLBACK")
                    except (asyncpg.PostgresError, *_BUSY):
                        conn.terminate()  # a broken connection is replaced by the next transaction
                if isinstance(error, _CONFLICTS):
                    raise TransactionConflict(str(error)) from error
                cause = storage_fault(error)
                if cause is not None:
                    raise self.storage.failed(cause) from None  # logged once a minute, without a traceback
                if isinstance(error, _BUSY):
                    raise DatabaseBusy() from error
                raise
            self.storage.succeeded()
            for callback in tx._after_commit:
                callback()

    async def watch_storage(self, interval: float = STORAGE_PROBE_SECONDS) -> None:
        """As store.Database.watch_storage: during a storage fault a one-row write every `interval` finds its end."""
        while True:
            await asyncio.sleep(interval)
            if self.storage.writable:
                continue
            if "25006" in (self.storage.cause or ""):
                # A read-only database setting holds for the session: a new connection is what notices its end.
                async with self._write_lock:
                    if self._writer is not None:
                        self._writer.terminate()
            with contextlib.suppress(StorageUnavailable, DatabaseBusy):
                async with self.transaction() as tx:
                    await tx.execute(
                        "INSERT INTO storage_probe (id, written_at) VALUES (1, :at) "
                        "ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at",
                        {"at": utcnow()},
                    )

    async def _read(self, method: str, sql: str, params: Params) -> Any:
        assert self._pool is not None, "database is not open"
        text, order = dialect.postgres_query(sql)
        args = dialect.arguments(order, params)
        # A reader the server ended (a restart, an administrator) fails once; reads may simply be tried again, and
        # the pool replaces the broken connection.
        for attempt in (1, 2):
            try:
                return await getattr(self._pool, method)(text, *args)
            except _BUSY as error:
                if attempt == 2:
                    raise DatabaseBusy() from error
        raise AssertionError("unreachable")

    async def fetchone(self, sql: str, params: Params = ()) -> asyncpg.Record | None:
        return await self._read("fetchrow", sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[asyncpg.Record]:
        return list(await self._read("fetch", sql, params))


def postgres_migrations() -> list[tuple[str, str]]:
    """Every migration as PostgreSQL runs it: its own `.postgresql.sql` where there is one, else the translation."""
    folder = resources.files("smartrlp.db") / "migrations"
    found = []
    for name, sql in migration_files():
        own = folder / name.replace(".sql", ".postgresql.sql")
        found.append((name, own.read_text(encoding="utf-8") if own.is_file() else dialect.postgres_ddl(sql)))
    return found


async def apply_migrations(conn: asyncpg.Connection) -> list[str]:
    """Apply what is missing, all in one transaction with their rows in `migrations` (DDL is transactional)."""
    applied = []
    async with conn.transaction():
        # Hosts starting at once wait here for each other; the second finds everything done.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(NOCASE)
        await conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {row["name"] for row in await conn.fetch("SELECT name FROM migrations")}
        for name, sql in postgres_migrations():
            if name in done:
                continue
            try:
                await conn.execute(sql)
            except asyncpg.PostgresError as error:
                raise RuntimeError(f"migration {name} failed on PostgreSQL: {error}") from error
            await conn.execute("INSERT INTO migrations (name, applied_at) VALUES ($1, $2)", name, utcnow())
            applied.append(name)
    if applied:
        log.info("applied migrations %s", ", ".join(applied))
    return applied
