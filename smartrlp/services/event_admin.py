"""Event administration: create, update, duplicate, archive and delete events, and edit their agenda and panel one
entry at a time.

What an admin typed is read and checked by the forms (`smartrlp.web.forms`); the rules that need the database (a
slug is taken only once) and every write are here. Every new event goes through `events.create_event`, the one
insert of an event, whether it comes from /admin, a duplicate or the demo.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.db.store import Transaction
from smartrlp.services import events
from smartrlp.services.context import Context

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = FIELD_LIMITS["event_slug"]
# Paths under /admin that an event's slug must not shadow, and words that would confuse people in a URL.
RESERVED_SLUGS = frozenset({"new", "neu", "admin", "api", "static"})
# The database's CHECK constraints (migrations 0001 and 0004) allow exactly these.

# The columns an admin sets that `events.create_event` leaves at their defaults.
_SETTINGS_COLUMNS = ("recording_url", "moderation_mode", "names_allowed", "questions_open", *events.ACCESS_COLUMNS)
# Every column the event form sets; web/forms.py reads exactly these fields (its import-time check says so).
ADMIN_COLUMNS = (
    "slug",
    "title",
    "description",
    "hashtag",
    "starts_at",
    "ends_at",
    "youtube_url",
    "facebook_url",
    *_SETTINGS_COLUMNS,
)


class SlugTaken(ValueError):
    """Another event has this slug already."""


def slugify(title: str) -> str:
    """A readable slug from a German title: umlauts spelled out, everything else that is not a-z0-9 a dash."""
    text = title.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:SLUG_MAX].strip("-") or "veranstaltung"


async def _slug_taken(tx: Transaction, slug: str, except_id: int | None = None) -> bool:
    row = await tx.fetchone(
        "SELECT id FROM events WHERE slug = :slug AND id IS NOT :except_id", {"slug": slug, "except_id": except_id}
    )
    return row is not None


async def _create(
    tx: Transaction,
    fields: Mapping[str, Any],
    agenda: Sequence[Mapping[str, Any]],
    panelists: Sequence[Mapping[str, Any]],
) -> int:
    if await _slug_taken(tx, fields["slug"]):
        raise SlugTaken(fields["slug"])
    event_id = await events.create_event(tx, dict(fields), [dict(item) for item in agenda])
    settings = {column: fields[column] for column in _SETTINGS_COLUMNS if column in fields}
    if settings:
        assignments = ", ".join(f"{column} = :{column}" for column in settings)
        await tx.execute(f"UPDATE events SET {assignments} WHERE id = :id", {**settings, "id": event_id})
    await tx.executemany(
        "INSERT INTO panelists (event_id, position, name, role) VALUES (:event_id, :position, :name, :role)",
        [{"event_id": event_id, "position": i, "name": p["name"], "role": p["role"]} for i, p in enumerate(panelists)],
    )
    return event_id


async def create_event(
    ctx: Context,
    fields: Mapping[str, Any],
    agenda: Sequence[Mapping[str, Any]] = (),
    panelists: Sequence[Mapping[str, Any]] = (),
) -> int:
    """A new event with its agenda and panel, and a join code; SlugTaken if the slug is in use."""
    async with ctx.db.transaction() as tx:
        return await _create(tx, fields, agenda, panelists)


async def update_event(ctx: Context, event_id: int, fields: Mapping[str, Any]) -> None:
    """Save the event's form; pages open on the event see the change at once. SlugTaken if the slug is in use."""
    async with ctx.db.transaction() as tx:
        if await _slug_taken(tx, fields["slug"], except_id=event_id):
            raise SlugTaken(fields["slug"])
        assignments = ", ".join(f"{column} = :{column}" for column in ADMIN_COLUMNS)
        values = {column: fields[column] for column in ADMIN_COLUMNS}
        await tx.execute(f"UPDATE events SET {assignments} WHERE id = :id", {**values, "id": event_id})
        await events.log_event_change(ctx.log, tx, event_id)


async def duplicate_event(ctx: Context, source_id: int, title: str) -> str:
    """A new event called `title` with the source's settings, streams and agenda, and none of its questions, polls,
    votes, panel or recording; returns its slug (the source's with "-kopie", numbered if that is taken)."""
    async with ctx.db.transaction() as tx:
        source = await tx.fetchone(f"SELECT {events.EVENT_COLUMNS} FROM events WHERE id = :id", {"id": source_id})
        assert source is not None
        base = f"{source['slug'][: SLUG_MAX - 8]}-kopie"
        slug, number = base, 1
        while await _slug_taken(tx, slug):
            number += 1
            slug = f"{base}-{number}"
        copied = ("description", "hashtag", "starts_at", "ends_at", "youtube_url", "facebook_url")
        fields = {column: source[column] for column in (*copied, "moderation_mode", "names_allowed", "questions_open")}
        agenda = [{k: v for k, v in item.items() if k != "id"} for item in await events.agenda_of(tx, source_id)]
        await _create(tx, {**fields, "slug": slug, "title": title}, agenda, ())
    return slug


async def set_archived(ctx: Context, event_id: int, archived: bool) -> None:
    # An archived event takes no questions: the page stays readable for the documentation.
    async with ctx.db.transaction() as tx:
        await tx.execute(
            "UPDATE events SET archived_at = :archived_at WHERE id = :id",
            {"archived_at": ctx.now() if archived else None, "id": event_id},
        )
        await events.log_event_change(ctx.log, tx, event_id)


async def delete_event(ctx: Context, event_id: int) -> None:
    async with ctx.db.transaction() as tx:
        # Everything in the event goes with it (ON DELETE CASCADE): questions, votes, polls, ballots, the log.
        await tx.execute("DELETE FROM events WHERE id = :id", {"id": event_id})


async def overview(ctx: Context) -> list[dict[str, Any]]:
    """Every event for the admin's home page, the active ones first, newest first, with its number of questions."""
    rows = await ctx.db.fetchall(
        "SELECT e.slug, e.title, e.starts_at, e.ends_at, e.archived_at, e.join_code, "
        "(SELECT COUNT(*) FROM questions q WHERE q.event_id = e.id) AS question_count "
        "FROM events e ORDER BY e.archived_at IS NOT NULL, e.starts_at DESC, e.id DESC"
    )
    return [dict(r) for r in rows]


async def deletion_counts(ctx: Context, event_id: int) -> dict[str, int]:
    """What deleting the event would take with it, for the page that asks first."""
    row = await ctx.db.fetchone(
        "SELECT (SELECT COUNT(*) FROM questions WHERE event_id = :id) AS questions, "
        "(SELECT COUNT(*) FROM polls WHERE event_id = :id) AS polls",
        {"id": event_id},
    )
    return dict(row) if row is not None else {"questions": 0, "polls": 0}


# --- the event's parts: agenda items and panelists ----------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    name: str  # in the paths: /admin/events/{slug}/{name}/...
    table: str
    columns: tuple[str, ...]
    order: str  # how entries are numbered after every change


AGENDA = Part(
    name="agenda",
    table="agenda_items",
    columns=("title", "speakers", "kind", "starts_at", "duration_minutes"),
    # In time order; entries without a time keep their place after the timed ones.
    order="starts_at IS NULL, starts_at, position, id",
)
PANELISTS = Part(name="panelists", table="panelists", columns=("name", "role"), order="position, id")
PARTS = (AGENDA, PANELISTS)


async def entries(ctx: Context, part: Part, event_id: int) -> list[dict[str, Any]]:
    rows = await ctx.db.fetchall(
        f"SELECT id, {', '.join(part.columns)} FROM {part.table} WHERE event_id = :event_id ORDER BY position, id",
        {"event_id": event_id},
    )
    return [dict(r) for r in rows]


async def _renumber_and_publish(ctx: Context, tx: Transaction, part: Part, event_id: int) -> None:
    ordered = await tx.fetchall(
        f"SELECT id FROM {part.table} WHERE event_id = :event_id ORDER BY {part.order}", {"event_id": event_id}
    )
    await tx.executemany(
        f"UPDATE {part.table} SET position = :position WHERE id = :id",
        [{"position": i, "id": r["id"]} for i, r in enumerate(ordered)],
    )
    await events.log_event_change(ctx.log, tx, event_id)


async def _in_event(tx: Transaction, part: Part, event_id: int, entry_id: int) -> bool:
    params = {"id": entry_id, "event_id": event_id}
    return await tx.fetchone(f"SELECT id FROM {part.table} WHERE id = :id AND event_id = :event_id", params) is not None


async def save_entry(ctx: Context, part: Part, event_id: int, entry_id: int | None, values: Mapping[str, Any]) -> bool:
    """Add an entry (`entry_id` None) or change one; False, changing nothing, if the event has no such entry."""
    row = {column: values[column] for column in part.columns}
    async with ctx.db.transaction() as tx:
        if entry_id is None:
            placeholders = ", ".join(f":{column}" for column in part.columns)
            await tx.execute(
                f"INSERT INTO {part.table} (event_id, position, {', '.join(part.columns)}) "
                f"VALUES (:event_id, 1000000, {placeholders})",
                {**row, "event_id": event_id},
            )
        elif await _in_event(tx, part, event_id, entry_id):
            assignments = ", ".join(f"{column} = :{column}" for column in part.columns)
            await tx.execute(f"UPDATE {part.table} SET {assignments} WHERE id = :id", {**row, "id": entry_id})
        else:
            return False
        await _renumber_and_publish(ctx, tx, part, event_id)
    return True


async def delete_entry(ctx: Context, part: Part, event_id: int, entry_id: int) -> bool:
    """Delete an entry; False, changing nothing, if the event has no such entry."""
    async with ctx.db.transaction() as tx:
        if not await _in_event(tx, part, event_id, entry_id):
            return False
        await tx.execute(f"DELETE FROM {part.table} WHERE id = :id", {"id": entry_id})
        await _renumber_and_publish(ctx, tx, part, event_id)
    return True
