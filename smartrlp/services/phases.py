"""The event's life, stated once: before the start, live, after the end, and what each phase takes.

- before: questions in advance (collected for the question round); no reactions, no ballots.
- live: everything.
- after: the event closes by itself: no new questions (unless a moderator reopened them until a set moment), no
  reactions, no ballots; open polls are closed by services/closing.py (run in the background by the app).

An event without a start and an end is always live. The pages show the same phases (static/js/features/phase.js
mirrors `phase`); the server refuses what a phase does not take, whatever a page that is open too long still sends.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from smartrlp.core.errors import ApiError, conflict
from smartrlp.db.store import Database
from smartrlp.services import events
from smartrlp.services.context import Context

Phase = Literal["before", "live", "after"]
# Reactions come in bursts; their check reads the event's times from here, refreshed this often.
TIMES_TTL_SECONDS = 5.0
_TIMES_CACHE_MAX = 1000


def parse_time(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def now_of(ctx: Context) -> datetime:
    return parse_time(ctx.now())


def phase(starts_at: str | None, ends_at: str | None, now: datetime) -> Phase:
    """'before' the start, 'after' the end, else 'live' (an event without times is always live)."""
    if starts_at and now < parse_time(starts_at):
        return "before"
    if ends_at and now >= parse_time(ends_at):
        return "after"
    return "live"


def reopened(row: sqlite3.Row | dict[str, Any], now: datetime) -> bool:
    """A moderator reopened questions after the end, and that time has not run out."""
    until = row["questions_until"]
    return bool(until) and now < parse_time(until)


def takes_questions(row: sqlite3.Row | dict[str, Any], now: datetime) -> bool:
    if not row["questions_open"] or row["archived_at"] is not None:
        return False
    return phase(row["starts_at"], row["ends_at"], now) != "after" or reopened(row, now)


def refuse_questions(row: sqlite3.Row | dict[str, Any], now: datetime) -> None:
    if takes_questions(row, now):
        return
    if row["questions_open"] and row["archived_at"] is None:
        raise conflict("event_ended", "The event has ended and takes no more questions.")
    raise conflict("questions_closed", "This event is not taking questions at the moment.")


def refuse_unless_live(starts_at: str | None, ends_at: str | None, now: datetime, what: str) -> None:
    """Reactions and ballots belong to the live event: 409 `event_not_started` / `event_ended` otherwise."""
    current = phase(starts_at, ends_at, now)
    if current == "before":
        raise conflict("event_not_started", f"The event has not started yet: {what} open at the start.")
    if current == "after":
        raise conflict("event_ended", f"The event has ended: {what} are closed.")


_times: dict[tuple[int, int], tuple[float, str | None, str | None]] = {}


async def event_times(db: Database, event_id: int) -> tuple[str | None, str | None]:
    """The event's start and end, read at most every TIMES_TTL_SECONDS (an admin's change shows within that)."""
    key = (id(db), event_id)
    cached = _times.get(key)
    if cached is not None and time.monotonic() - cached[0] < TIMES_TTL_SECONDS:
        return cached[1], cached[2]
    row = await db.fetchone("SELECT starts_at, ends_at FROM events WHERE id = :id", {"id": event_id})
    if row is None:
        raise ApiError(404, "event_not_found", "The event no longer exists.")
    if len(_times) >= _TIMES_CACHE_MAX:
        _times.clear()
    _times[key] = (time.monotonic(), row["starts_at"], row["ends_at"])
    return row["starts_at"], row["ends_at"]


async def reopen_questions(ctx: Context, event_id: int, minutes: int) -> dict[str, Any]:
    """After the end: take questions for `minutes` more from now (0: close them again at once)."""
    now = now_of(ctx)
    until = None if minutes == 0 else _iso(now + timedelta(minutes=minutes))
    async with ctx.db.transaction() as tx:
        await tx.execute("UPDATE events SET questions_until = :until WHERE id = :id", {"until": until, "id": event_id})
        await events.log_event_change(ctx.log, tx, event_id)
    return {"questions_until": until}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
