"""Retention: once an event has been over for the retention period, nothing in it points at a person any more.

What the event produced stays (questions, vote counts, poll results, the change log), so it can still be looked
at and reported on; what could link it to people goes: the names askers gave and the random device ids. Ballots
keep a random token of their own instead of the device id, one per ballot, so results stay exact but one
device's ballots can no longer be put side by side. Each event is purged once and recorded in `event_purges`.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime, timedelta

import anyio
from anyio.abc import TaskStatus

from smartrlp.core.errors import StorageUnavailable
from smartrlp.db.store import Database, Transaction
from smartrlp.realtime import protocol

log = logging.getLogger("smartrlp.retention")

PURGE_INTERVAL = timedelta(days=1)
# Device ids are URL-safe base64, which has no colon: a token can never be mistaken for a device.
ANONYMOUS_PREFIX = "anon:"
# How a non-empty name looks inside a logged message (protocol.encode writes compact JSON); a quote in a
# question's text is escaped, so only a real "name" field matches.
_NAMED = '"name":"'


def iso(moment: datetime) -> str:
    """The format `db.utcnow()` writes, so stored times compare as text."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_end(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    # A time without an offset is taken as UTC, as every time the server writes is.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def purge(db: Database, now: datetime, days: int) -> list[str]:
    """Purge every event that ended more than `days` days before `now`; returns the slugs purged now."""
    cutoff = now - timedelta(days=days)
    rows = await db.fetchall("SELECT id, slug, ends_at FROM events WHERE ends_at IS NOT NULL ORDER BY id")
    purged = []
    for row in rows:
        end = parse_end(row["ends_at"])
        if end is None:
            log.warning("event %s: cannot read its end %r; not purged", row["slug"], row["ends_at"])
            continue
        if end >= cutoff:
            continue
        # One transaction per event keeps the writer lock short for the live events beside it.
        async with db.transaction() as tx:
            done = await tx.fetchone("SELECT 1 FROM event_purges WHERE event_id = :id", {"id": row["id"]})
            if done is None:
                await _strip(tx, row["id"], before=None)
                await tx.execute(
                    "INSERT INTO event_purges (event_id, purged_at, ends_at, retention_days) "
                    "VALUES (:id, :now, :ends_at, :days)",
                    {"id": row["id"], "now": iso(now), "ends_at": row["ends_at"], "days": days},
                )
                changed = True
            else:
                # The page of an ended event stays open, so questions and ballots can arrive after its purge;
                # they go once they are as old as the retention period.
                changed = await _strip(tx, row["id"], before=iso(cutoff))
        if changed:
            purged.append(row["slug"])
    return purged


async def _strip(tx: Transaction, event_id: int, *, before: str | None) -> bool:
    """Remove names and device ids from the event's rows (only rows written before `before`, if given)."""
    params = {"event_id": event_id, "before": before}
    # `before` is NULL for the first purge, which takes everything.
    written_before = "(:before IS NULL OR {column} < :before)"
    changed = 0
    cursor = await tx.execute(
        "UPDATE questions SET name = NULL, device_id = NULL WHERE event_id = :event_id "
        "AND (name IS NOT NULL OR device_id IS NOT NULL) AND " + written_before.format(column="created_at"),
        params,
    )
    changed += cursor.rowcount
    # questions.votes keeps the count; the rows only existed to refuse a second vote from the same device.
    cursor = await tx.execute(
        "DELETE FROM question_votes WHERE question_id IN (SELECT id FROM questions WHERE event_id = :event_id) "
        "AND " + written_before.format(column="question_votes.created_at"),
        params,
    )
    changed += cursor.rowcount
    ballots = await tx.fetchall(
        "SELECT b.poll_id, b.device_id FROM poll_ballots b JOIN polls p ON p.id = b.poll_id "
        "WHERE p.event_id = :event_id AND b.device_id NOT LIKE :anonymous AND "
        + written_before.format(column="b.updated_at"),
        {**params, "anonymous": ANONYMOUS_PREFIX + "%"},
    )
    tokens = [
        {"poll_id": b["poll_id"], "device": b["device_id"], "token": ANONYMOUS_PREFIX + secrets.token_urlsafe(12)}
        for b in ballots
    ]
    # A choice ballot's options get its token too, so a ballot and its options still belong together.
    await tx.executemany(
        "UPDATE poll_ballot_options SET device_id = :token WHERE poll_id = :poll_id AND device_id = :device", tokens
    )
    await tx.executemany(
        "UPDATE poll_ballots SET device_id = :token WHERE poll_id = :poll_id AND device_id = :device", tokens
    )
    changed += len(tokens)
    # Reports keep counting, under a random token per report instead of the reporting device.
    reports = await tx.fetchall(
        "SELECT r.question_id, r.device_id FROM question_reports r JOIN questions q ON q.id = r.question_id "
        "WHERE q.event_id = :event_id AND r.device_id NOT LIKE :anonymous AND "
        + written_before.format(column="r.created_at"),
        {**params, "anonymous": ANONYMOUS_PREFIX + "%"},
    )
    await tx.executemany(
        "UPDATE question_reports SET device_id = :token WHERE question_id = :question_id AND device_id = :device",
        [
            {
                "question_id": r["question_id"],
                "device": r["device_id"],
                "token": ANONYMOUS_PREFIX + secrets.token_urlsafe(12),
            }
            for r in reports
        ],
    )
    changed += len(reports)
    # A block only means something while the device can be recognised.
    cursor = await tx.execute(
        "DELETE FROM device_blocks WHERE event_id = :event_id AND " + written_before.format(column="created_at"),
        params,
    )
    changed += cursor.rowcount
    # A staff change with a device was there only to show askers their own pending questions.
    cursor = await tx.execute(
        "DELETE FROM changes WHERE event_id = :event_id AND audience = :staff AND device_id IS NOT NULL AND "
        + written_before.format(column="created_at"),
        {**params, "staff": protocol.AUDIENCE_STAFF},
    )
    changed += cursor.rowcount
    cursor = await tx.execute(
        "UPDATE changes SET device_id = NULL WHERE event_id = :event_id AND device_id IS NOT NULL AND "
        + written_before.format(column="created_at"),
        params,
    )
    changed += cursor.rowcount
    changed += await _strip_logged_names(tx, params)
    return changed > 0


async def _strip_logged_names(tx: Transaction, params: dict[str, object]) -> int:
    """The change log replays questions as they were broadcast, names included; blank those names."""
    rows = await tx.fetchall(
        "SELECT seq, message FROM changes WHERE event_id = :event_id AND instr(message, :named) > 0 "
        "AND (:before IS NULL OR created_at < :before)",
        {**params, "named": _NAMED},
    )
    updates = []
    for row in rows:
        message = json.loads(row["message"])
        question = message.get("question")
        if isinstance(question, dict) and question.get("name") is not None:
            question["name"] = None
            updates.append({"seq": row["seq"], "message": protocol.encode(message), **params})
    await tx.executemany("UPDATE changes SET message = :message WHERE event_id = :event_id AND seq = :seq", updates)
    return len(updates)


async def _purge_and_log(db: Database, days: int) -> None:
    try:
        slugs = await purge(db, datetime.now(UTC), days)
    except StorageUnavailable:
        return  # the store logs the cause; the next run tries again
    except Exception:
        # A failed purge must not take the live server down with it; the next run tries again.
        log.exception("retention purge failed")
        return
    if slugs:
        log.info("removed names and device ids of %s (ended more than %d days ago)", ", ".join(slugs), days)


async def run_daily(db: Database, days: int, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
    """Purge once at start, before the server takes requests (so it reports started only then), then daily."""
    await _purge_and_log(db, days)
    task_status.started()
    while True:
        await anyio.sleep(PURGE_INTERVAL.total_seconds())
        await _purge_and_log(db, days)
