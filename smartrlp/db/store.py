"""The one database module: connections, migrations, and the single writer.

SQLite allows one writer at a time; instead of letting connections fight over the lock we funnel every
write through one connection behind an asyncio lock. Reads use a second connection, which WAL mode lets
run beside the writer. Work that must happen in commit order (broadcasting a change) is queued with
`Transaction.after_commit` and runs after COMMIT while the lock is still held.

Group commit: transactions that queue for the writer while another runs share one SQLite transaction (and one
fsync). Each runs in a SAVEPOINT of the shared transaction, so one that fails is undone alone; the last one in the
group commits, and only then does every member's `async with` end, its after-commit work run (in order) and its
caller acknowledge. Nothing changes for callers: `async with db.transaction() as tx` as before.

With several worker processes (`serve --workers N`) each has its own writer, and SQLite's file lock arbitrates
between them: `BEGIN IMMEDIATE` waits up to the busy timeout for the other process's transaction, and if it is
still held after that the request gets a clear 503 with Retry-After instead of a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import aiosqlite

from smartrlp.core import metrics
from smartrlp.core.errors import ApiError, StorageUnavailable

log = logging.getLogger("smartrlp.db")

Params = Mapping[str, Any] | tuple[Any, ...]
MIGRATION_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")
# Transactions are short (milliseconds); a write that cannot get the lock within this long means the other
# workers are overloaded, and waiting longer would only pile up requests.
DEFAULT_BUSY_TIMEOUT_MS = 10_000
log = logging.getLogger("smartrlp.storage")
# How often a write is tried while the storage is unavailable (`Database.watch_storage`).
STORAGE_PROBE_SECONDS = 5.0


class DatabaseBusy(ApiError):
    def __init__(self) -> None:
        super().__init__(
            503,
            "busy",
            "The server is busy right now; please try again in a moment.",
            headers={"Retry-After": "1"},
        )


def _is_busy(error: sqlite3.Error) -> bool:
    return isinstance(error, sqlite3.OperationalError) and (
        getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "locked" in str(error)
    )


# SQLite's answers when the database cannot be written: a full disk or quota (FULL), a read-only file or folder
# (READONLY; CANTOPEN for a journal it may not create), the disk refusing a write (IOERR: an immutable file, a
# failing device). The texts catch the same where a driver gives no code.
_STORAGE_FAULT_CODES = frozenset(
    {sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
)
_STORAGE_FAULT_TEXTS = ("database or disk is full", "readonly database", "disk i/o error", "unable to open database")


def storage_fault(error: BaseException) -> str | None:
    """The cause, for the log, when `error` says the database cannot be written; None for any other error."""
    if not isinstance(error, sqlite3.Error):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    text = str(error)
    if (code is None or code & 0xFF not in _STORAGE_FAULT_CODES) and not any(
        known in text.lower() for known in _STORAGE_FAULT_TEXTS
    ):
        return None
    name = getattr(error, "sqlite_errorname", None)
    return f"{text} ({name})" if name else text


class StorageHealth:
    """Whether writes reach the disk. A fault is logged when it starts and then once a minute while it lasts, with
    its cause and the number of writes refused, never with a traceback per request; the first write that commits
    again ends it."""

    LOG_EVERY_SECONDS = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.cause: str | None = None
        self.since: str | None = None  # when the fault began, for /healthz and the moderator page
        self._started = 0.0
        self._logged_at = 0.0
        self._refused = 0

    @property
    def writable(self) -> bool:
        return self.cause is None

    def failed(self, cause: str) -> StorageUnavailable:
        now = self.clock()
        if self.cause is None:
            self.since, self._started, self._logged_at = utcnow(), now, 0.0
        self._refused += 1
        if cause != self.cause or now - self._logged_at >= self.LOG_EVERY_SECONDS:
            log.error("storage unavailable: %s; %d write(s) refused with 503 so far, reads go on", cause, self._refused)
            self._logged_at = now
        self.cause = cause
        metrics.STORAGE_WRITABLE.set(0)
        return StorageUnavailable(cause)

    def succeeded(self) -> None:
        if self.cause is None:
            return
        lasted = self.clock() - self._started
        log.warning("storage writable again after %.0f s (%d write(s) refused)", lasted, self._refused)
        self.cause = self.since = None
        self._refused = 0
        metrics.STORAGE_WRITABLE.set(1)


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _connect(path: str, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        # First: switching to WAL needs a lock, which another worker starting at the same moment may hold.
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await _switch_to_wal(conn, busy_timeout_ms)
        # FULL: an acknowledged change must survive a power cut, not only a crashed process.
        await conn.execute("PRAGMA synchronous = FULL")
        await conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await conn.close()  # or its thread outlives the failed start, and the process cannot exit
        raise
    return conn


async def _switch_to_wal(conn: aiosqlite.Connection, busy_timeout_ms: int) -> None:
    """`PRAGMA journal_mode = WAL`, waiting for a worker that converts the same new file at the same moment.

    SQLite does not call the busy handler for every lock this needs (it answers SQLITE_BUSY at once where waiting
    could deadlock), so the busy timeout alone let one of several workers starting together fail with
    "database is locked". The wait is bounded by the same timeout.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    pause = 0.005
    while True:
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() + pause > deadline:
                raise
        await asyncio.sleep(pause)  # a bounded back-off while another connection holds the lock, not a sync wait
        pause = min(pause * 2, 0.1)


class Transaction:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._after_commit: list[Callable[[], None]] = []

    async def execute(self, sql: str, params: Params = ()) -> aiosqlite.Cursor:
        return await self.conn.execute(sql, params)

    # One trip to the database thread per query (execute, fetch and close together): under load every trip
    # waits for a thread switch, and three per query made a vote burst crawl (docs/performance.md).
    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self.conn.executemany(sql, rows)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)


# A group commits when nobody else waits for the writer, or at these bounds: its first member's answer waits for
# the last one's work, so a group is kept short enough for the acknowledgement latency to stay low under a burst.
GROUP_MAX_MEMBERS = 200
GROUP_MAX_SECONDS = 0.025


class _Group:
    """The SQLite transaction that queued transactions share, and who waits for its commit."""

    __slots__ = ("after_commit", "changes_before", "members", "opened")

    def __init__(self, changes_before: int) -> None:
        self.opened = time.monotonic()
        # A COMMIT that wrote nothing succeeds on a read-only file too: only one that wrote proves writes work.
        self.changes_before = changes_before
        self.members: list[asyncio.Future[None]] = []
        self.after_commit: list[Callable[[], None]] = []


class Database:
    def __init__(self, path: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.storage = StorageHealth()
        self._group: _Group | None = None  # open while queued transactions join it
        self._queued = 0  # transactions waiting for the writer lock
        self._background: set[asyncio.Task[None]] = set()  # commits and flushes under way
        # For the benchmark and tests: how many commits, and how many transactions they held.
        self.commits = 0
        self.grouped_transactions = 0

    async def open(self) -> None:
        try:
            self._writer = await _connect(self.path, self.busy_timeout_ms)
            await apply_migrations(self._writer)
            self._reader = await _connect(self.path, self.busy_timeout_ms)
        except BaseException:
            await self.close()  # a failed start leaves no connection (and no thread) behind
            raise

    async def close(self) -> None:
        # Commits under way finish first: their callers are waiting to acknowledge.
        await asyncio.gather(*self._background, return_exceptions=True)
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @property
    def is_open(self) -> bool:
        return self._writer is not None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One transaction on the writer; it may share its COMMIT with others queued meanwhile (group commit).

        The `async with` ends only after the COMMIT that holds this transaction's changes, so whatever the caller
        does next (answer, broadcast) happens after they are durable.
        """
        assert self._writer is not None, "database is not open"
        await self._acquire_writer()
        tx = Transaction(self._writer)
        try:
            first = await self._begin_member()
        except BaseException:
            self._hand_on()
            raise
        try:
            yield tx
        except BaseException as error:
            try:
                await self._undo_member(first, error)
            finally:
                self._hand_on()
            self._refuse_if_storage_fault(error)
            raise
        group = self._group
        assert group is not None
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            if not first:
                await self._writer.execute("RELEASE member")
        except BaseException:
            self._hand_on()
            raise
        group.after_commit += tx._after_commit
        group.members.append(done)
        self._hand_on()
        await done

    async def _acquire_writer(self) -> None:
        self._queued += 1
        try:
            await self._write_lock.acquire()
        except asyncio.CancelledError:
            self._queued -= 1
            # It may have been the one an open group was handed on to: someone must still commit the others.
            if self._group is not None and self._queued == 0:
                self._run_in_background(self._flush(self._group))
            raise
        self._queued -= 1

    async def _begin_member(self) -> bool:
        """Open a group (True: the first member, whose failure rolls back the transaction) or join the open one."""
        assert self._writer is not None
        if self._group is not None:
            await self._writer.execute("SAVEPOINT member")
            return False
        try:
            await self._writer.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if _is_busy(error):
                raise DatabaseBusy() from error
            self._refuse_if_storage_fault(error)
            raise
        self._group = _Group(self._writer.total_changes)
        return True

    async def _undo_member(self, first: bool, error: BaseException) -> None:
        """Undo a failed member's changes only: the whole transaction for the first, its savepoint otherwise."""
        assert self._writer is not None
        if not self._writer.in_transaction:
            # SQLite rolled the whole transaction back by itself (a full disk): the group's work is gone too.
            group, self._group = self._group, None
            if group is not None:
                cause = storage_fault(error)
                failure = self.storage.failed(cause) if cause is not None else DatabaseBusy()
                for member in group.members:
                    if not member.done():
                        member.set_exception(failure)
            return
        if first:
            self._group = None
            await self._writer.execute("ROLLBACK")
        else:
            await self._writer.execute("ROLLBACK TO member")
            await self._writer.execute("RELEASE member")

    def _hand_on(self) -> None:
        """Leave the writer to the next queued transaction with the group open, or commit the group.

        The commit runs in a task of its own that releases the writer when done, so a caller cancelled meanwhile
        (a client that went away) cannot leave the other members of its group waiting.
        """
        group = self._group
        if group is None or (
            self._queued > 0
            and len(group.members) < GROUP_MAX_MEMBERS
            and time.monotonic() - group.opened < GROUP_MAX_SECONDS
        ):
            self._write_lock.release()  # nothing open, or the next one joins and the last one commits
            return
        self._run_in_background(self._commit_and_release(group))

    async def _commit_and_release(self, group: _Group) -> None:
        try:
            await self._commit(group)
        finally:
            self._write_lock.release()

    async def _flush(self, group: _Group) -> None:
        async with self._write_lock:
            if self._group is group:
                await self._commit(group)

    async def _commit(self, group: _Group) -> None:
        """COMMIT the group, then (still holding the writer, so in seq order) its after-commit work and answers."""
        assert self._writer is not None
        self._group = None
        try:
            started = time.perf_counter()
            await self._writer.execute("COMMIT")
            metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
        except Exception as error:
            # After a full disk SQLite may have rolled back by itself already.
            if self._writer.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    await self._writer.execute("ROLLBACK")
            cause = storage_fault(error)
            failure = self.storage.failed(cause) if cause is not None else error
            for member in group.members:
                if not member.done():
                    member.set_exception(failure)
            return
        if self._writer.total_changes != group.changes_before:
            self.storage.succeeded()
        self.commits += 1
        self.grouped_transactions += len(group.members)
        for callback in group.after_commit:
            try:
                callback()
            except Exception:
                # Committed all the same: one failed broadcast must not leave the group's callers unanswered.
                log.exception("after-commit work failed")
        for member in group.members:
            if not member.done():
                member.set_result(None)

    def _run_in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _refuse_if_storage_fault(self, error: BaseException) -> None:
        cause = storage_fault(error)
        if cause is not None:
            raise self.storage.failed(cause) from None  # the cause is logged; a traceback would say no more

    async def watch_storage(self, interval: float = STORAGE_PROBE_SECONDS) -> None:
        """During a storage fault, try a one-row write every `interval`, so that the fault (and /healthz) clears
        once space is freed even when no visitor writes meanwhile (a load balancer may have stopped sending any)."""
        while True:
            await asyncio.sleep(interval)
            if self.storage.writable:
                continue
            if "SQLITE_READONLY" in (self.storage.cause or ""):
                await self._reopen_writer()
            with contextlib.suppress(StorageUnavailable, DatabaseBusy):
                async with self.transaction() as tx:
                    await tx.execute(
                        "INSERT INTO storage_probe (id, written_at) VALUES (1, :at) "
                        "ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at",
                        {"at": utcnow()},
                    )

    async def _reopen_writer(self) -> None:
        """SQLite opens a file it may not write read-only, and the connection stays so after the file is writable
        again (a restart on a read-only disk, say): a new connection is what notices."""
        async with self._write_lock:
            try:
                fresh = await _connect(self.path, self.busy_timeout_ms)
            except sqlite3.Error:
                return  # still not even readable; the next probe tries again
            stale, self._writer = self._writer, fresh
            if stale is not None:
                await stale.close()

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        assert self._reader is not None, "database is not open"
        rows = await self._reader.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        assert self._reader is not None, "database is not open"
        return list(await self._reader.execute_fetchall(sql, params))


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("smartrlp.db") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if MIGRATION_NAME.match(p.name))
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in names]


async def apply_migrations(conn: aiosqlite.Connection) -> list[str]:
    await conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    async with conn.execute("SELECT name FROM migrations") as cursor:
        done = {row[0] for row in await cursor.fetchall()}
    applied = []
    for name, sql in migration_files():
        if name in done:
            continue
        # executescript cannot take parameters; the name was checked against MIGRATION_NAME.
        try:
            await conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\n;INSERT INTO migrations (name, applied_at) "
                f"VALUES ('{name}', '{utcnow()}');\nCOMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            # Several workers start at once: another one may have applied it while this one waited for the lock.
            async with conn.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)) as cursor:
                if await cursor.fetchone() is not None:
                    continue
            raise
        applied.append(name)
    return applied
