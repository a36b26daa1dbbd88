"""Events: how they are stored, how the API and the pages give them, and the change that tells open pages."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

from smartrlp.core import streams
from smartrlp.core.errors import ApiError
from smartrlp.db.store import Database, Transaction, utcnow
from smartrlp.realtime import protocol
from smartrlp.realtime.changes import ChangeLog

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G: a code read aloud on TV or typed on a phone cannot be mistaken.
JOIN_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"
JOIN_CODE_LENGTH = 6

EVENT_COLUMNS = (
    "id, slug, title, description, hashtag, starts_at, ends_at, youtube_url, facebook_url, "
    "questions_open, on_air_question_id, last_seq, join_code, screen_mode, screen_poll_id, screen_pinned, "
    "moderation_mode, names_allowed, archived_at, current_agenda_item_id, current_agenda_started_at, recording_url, "
    "questions_until, published_at, "
    "stream_delay_youtube, stream_delay_facebook, stream_delay_tv, captions_url, sign_language_url, stream_captions"
)


async def event_by_slug(db: Database, slug: str) -> sqlite3.Row:
    row = await db.fetchone(f"SELECT {EVENT_COLUMNS} FROM events WHERE slug = :slug", {"slug": slug})
    if row is None:
        raise ApiError(404, "event_not_found", f"There is no event {slug!r}.")
    return row


async def panelists_of(db: Database | Transaction, event_id: int) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT id, name, role FROM panelists WHERE event_id = :event_id ORDER BY position, id", {"event_id": event_id}
    )
    return [dict(r) for r in rows]


async def agenda_of(db: Database | Transaction, event_id: int) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT id, title, speakers, kind, starts_at, duration_minutes FROM agenda_items "
        "WHERE event_id = :event_id ORDER BY position",
        {"event_id": event_id},
    )
    return [dict(r) for r in rows]


async def event_details(db: Database | Transaction, row: sqlite3.Row) -> dict[str, Any]:
    """The event as the API and the pages give it, with its agenda and panelists."""
    return event_json(row, await agenda_of(db, row["id"]), await panelists_of(db, row["id"]))


def event_json(row: sqlite3.Row, agenda: list[dict[str, Any]], panelists: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "slug": row["slug"],
        "title": row["title"],
        "description": row["description"],
        "hashtag": row["hashtag"],
        "starts_at": row["starts_at"],
        "ends_at": row["ends_at"],
        "streams": [
            s.as_json()
            for s in streams.streams_of(row["youtube_url"], row["facebook_url"], captions=bool(row["stream_captions"]))
        ],
        "questions_open": bool(row["questions_open"]),
        "on_air_question_id": row["on_air_question_id"],
        "agenda": agenda,
        "panelists": panelists,
        "seq": row["last_seq"],
        "join_code": row["join_code"],
        "screen": {"mode": row["screen_mode"], "poll_id": row["screen_poll_id"], "pinned": bool(row["screen_pinned"])},
        "moderation_mode": row["moderation_mode"],
        "names_allowed": bool(row["names_allowed"]),
        "archived": row["archived_at"] is not None,
        "recording_url": row["recording_url"],
        "questions_until": row["questions_until"],
        "published": row["published_at"] is not None,
        "current_agenda": (
            {"item_id": row["current_agenda_item_id"], "started_at": row["current_agenda_started_at"]}
            if row["current_agenda_item_id"] is not None
            else None
        ),
        "stream_delays": stream_delays_of(row),
        "captions_url": row["captions_url"],
        "sign_language_url": row["sign_language_url"],
        "stream_captions": bool(row["stream_captions"]),
    }


STREAM_DELAY_KINDS = ("youtube", "facebook", "tv")
# What an admin sets for access per event (the event form's part in smartrlp/web/access_form.py).
ACCESS_COLUMNS = (
    "captions_url",
    "sign_language_url",
    "stream_captions",
    *(f"stream_delay_{kind}" for kind in STREAM_DELAY_KINDS),
)


def stream_delays_of(row: sqlite3.Row) -> dict[str, int]:
    return {kind: int(row[f"stream_delay_{kind}"]) for kind in STREAM_DELAY_KINDS}


async def log_event_change(log: ChangeLog, tx: Transaction, event_id: int) -> None:
    """Log the event's fields as they now are, for the pages open on it (published after the commit)."""
    row = await tx.fetchone(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = :id", {"id": event_id})
    assert row is not None
    await log.record(tx, event_id, protocol.EVENT, {"event": await event_details(tx, row)})


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(raw: str) -> str:
    return "".join(c for c in raw.upper() if c.isalnum())


async def assign_join_code(tx: Transaction, event_id: int) -> str:
    while True:
        code = new_join_code()
        taken = await tx.fetchone("SELECT 1 FROM events WHERE join_code = :code", {"code": code})
        if taken is None:
            await tx.execute("UPDATE events SET join_code = :code WHERE id = :id", {"code": code, "id": event_id})
            return code


async def ensure_join_codes(db: Database) -> None:
    """Give every event a join code (events made before join codes existed, or by older versions)."""
    async with db.transaction() as tx:
        for row in await tx.fetchall("SELECT id FROM events WHERE join_code IS NULL"):
            await assign_join_code(tx, row["id"])


async def create_event(tx: Transaction, fields: dict[str, Any], agenda: list[dict[str, Any]]) -> int:
    row = await tx.fetchone(
        "INSERT INTO events (slug, title, description, hashtag, starts_at, ends_at, youtube_url, "
        "facebook_url, created_at, published_at) VALUES (:slug, :title, :description, :hashtag, :starts_at, "
        ":ends_at, :youtube_url, :facebook_url, :now, :published_at) RETURNING id",
        {
            "description": "",
            "hashtag": "",
            "starts_at": None,
            "ends_at": None,
            "youtube_url": None,
            "facebook_url": None,
            # Public at once unless the caller makes a draft (`published_at: None`, the admin's new events).
            "published_at": utcnow(),
            **fields,
            "now": utcnow(),
        },
    )
    assert row is not None
    event_id = int(row["id"])
    await tx.executemany(
        "INSERT INTO agenda_items (event_id, position, title, speakers, kind, starts_at, duration_minutes) "
        "VALUES (:event_id, :position, :title, :speakers, :kind, :starts_at, :duration_minutes)",
        [{"event_id": event_id, "position": i, **item} for i, item in enumerate(agenda)],
    )
    await assign_join_code(tx, event_id)
    return event_id


async def listed_events(db: Database) -> list[dict[str, Any]]:
    """The events the start page lists: published and not archived, the latest first (drafts only the admin sees)."""
    rows = await db.fetchall(
        "SELECT slug, title, starts_at, ends_at FROM events WHERE archived_at IS NULL AND published_at IS NOT NULL "
        "ORDER BY starts_at DESC, id DESC"
    )
    return [dict(r) for r in rows]
