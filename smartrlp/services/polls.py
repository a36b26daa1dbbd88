"""Live polls: moderators prepare drafts, launch, close, reset and reorder them; viewers answer with ballots
(smartrlp/services/ballots.py).

Every change is logged with the poll as it now is. Results go out separately (`ResultsPublisher`): a change of
state or visibility is also marked there, since it can reveal the results to viewers or change them (a reset).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from smartrlp.core.errors import ApiError, conflict, invalid
from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.db.store import Transaction
from smartrlp.models.polls import (
    CHOICE_KINDS,
    CONTENT_FIELDS,
    DEFAULT_SCALE,
    SCALES,
    CreatePoll,
    UpdatePoll,
)
from smartrlp.realtime import protocol
from smartrlp.services.context import Context
from smartrlp.services.results import WORD_SEPARATOR, Reader, ResultsPublisher, compute_results, results_public

POLL_COLUMNS = (
    "id, event_id, position, title, kind, state, results_visibility, max_choices, scale_max, max_words, "
    "version, opened_at, closed_at"
)


def _audience(old_state: str | None, new_state: str) -> str:
    # Viewers must hear of every change to a poll they could see, including its return to draft.
    if new_state != "draft" or (old_state is not None and old_state != "draft"):
        return protocol.AUDIENCE_PUBLIC
    return protocol.AUDIENCE_STAFF


async def _options(conn: Reader, poll_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetchall(
        "SELECT id, label FROM poll_options WHERE poll_id = :id ORDER BY position, id", {"id": poll_id}
    )
    return [{"id": r["id"], "label": r["label"]} for r in rows]


async def my_ballot(conn: Reader, poll: sqlite3.Row, device: str) -> dict[str, Any] | None:
    key = {"poll_id": poll["id"], "device": device}
    row = await conn.fetchone(
        "SELECT value, word FROM poll_ballots WHERE poll_id = :poll_id AND device_id = :device", key
    )
    if row is None:
        return None
    if poll["kind"] in CHOICE_KINDS:
        rows = await conn.fetchall(
            "SELECT option_id FROM poll_ballot_options WHERE poll_id = :poll_id AND device_id = :device "
            "ORDER BY option_id",
            key,
        )
        return {"options": [r["option_id"] for r in rows]}
    if poll["kind"] == "rating":
        return {"value": row["value"]}
    words = (row["word"] or "").split(WORD_SEPARATOR)
    return {"text": words[0], "words": words}


async def poll_json(
    conn: Reader, poll: sqlite3.Row, *, with_results: bool, device: str | None = None
) -> dict[str, Any]:
    """The poll as the API and the websocket give it (`models.polls.Poll`)."""
    options = await _options(conn, poll["id"])
    data: dict[str, Any] = {
        "id": poll["id"],
        "title": poll["title"],
        "kind": poll["kind"],
        "state": poll["state"],
        "results_visibility": poll["results_visibility"],
        "position": poll["position"],
        "max_choices": poll["max_choices"],
        "scale_max": poll["scale_max"],
        "max_words": poll["max_words"] if poll["kind"] == "words" else None,
        "options": options,
        "opened_at": poll["opened_at"],
        "closed_at": poll["closed_at"],
        "version": poll["version"],
    }
    if with_results:
        data["results"] = await compute_results(conn, poll, [o["id"] for o in options])
    if device is not None:
        data["my_ballot"] = await my_ballot(conn, poll, device)
    return data


async def polls_for(
    conn: Reader, event_id: int, *, is_staff: bool, device: str | None, all_results: bool = False
) -> list[dict[str, Any]]:
    """The polls a client may see, as the snapshot and `GET …/polls` give them (studio views: all results)."""
    rows = await conn.fetchall(
        f"SELECT {POLL_COLUMNS} FROM polls WHERE event_id = :event_id "
        + ("" if is_staff else "AND state != 'draft' ")
        + "ORDER BY position, id",
        {"event_id": event_id},
    )
    return [
        await poll_json(
            conn, r, with_results=is_staff or all_results or results_public(r), device=None if is_staff else device
        )
        for r in rows
    ]


async def _poll_row(conn: Reader, event_id: int, poll_id: int) -> sqlite3.Row:
    row = await conn.fetchone(
        f"SELECT {POLL_COLUMNS} FROM polls WHERE id = :id AND event_id = :event_id",
        {"id": poll_id, "event_id": event_id},
    )
    if row is None:
        raise ApiError(404, "poll_not_found", f"There is no poll {poll_id} in this event.")
    return row


async def _record_poll(
    ctx: Context, publisher: ResultsPublisher, tx: Transaction, poll: sqlite3.Row, old_state: str | None
) -> None:
    """Log the poll as it now is; the logged message carries results only where every viewer may see them."""
    data = await poll_json(tx, poll, with_results=results_public(poll))
    await ctx.log.record(
        tx, poll["event_id"], protocol.POLL, {"poll": data}, audience=_audience(old_state, poll["state"])
    )
    # Moderators always see results; a change of state or visibility can also reveal them to viewers.
    tx.after_commit(lambda: publisher.poll_changed(poll["event_id"], poll["id"]))


# --------------------------------------------------------------------------- what a kind of poll takes


def _option_labels(labels: list[str] | None) -> list[str]:
    low, high = FIELD_LIMITS["poll_options_min"], FIELD_LIMITS["poll_options_max"]
    # The model checks each label, the upper bound and duplicates; only choice polls need the lower bound.
    if labels is None or len(labels) < low:
        raise invalid(f"'options' must be a list of {low} to {high} labels.", "options")
    return labels


def _content(kind: str, body: CreatePoll | UpdatePoll, current: dict[str, Any]) -> dict[str, Any]:
    """Title, options, max_choices and scale_max after applying `body` to `current`, checked against the kind."""
    sent = body.model_fields_set
    title = body.title or current["title"]
    options = current["options"]
    if kind in CHOICE_KINDS:
        if "options" in sent or not options:
            options = _option_labels(body.options)
    elif body.options:
        raise invalid("Only single and multiple choice polls have options.", "options")
    max_choices = body.max_choices if "max_choices" in sent else current["max_choices"]
    if kind != "multiple":
        if max_choices is not None and "max_choices" in sent:
            raise invalid("Only multiple choice polls have 'max_choices'.", "max_choices")
        max_choices = None
    elif max_choices is not None and max_choices > len(options):
        raise invalid(f"'max_choices' must be a whole number from 2 to {len(options)}, or null.", "max_choices")
    scale_max = current["scale_max"]
    if kind == "rating":
        if "scale_max" in sent:
            if body.scale_max is None:
                raise invalid(f"'scale_max' must be one of {', '.join(map(str, SCALES))}.", "scale_max")
            scale_max = body.scale_max
        scale_max = scale_max or DEFAULT_SCALE
    elif body.scale_max is not None:
        raise invalid("Only rating polls have 'scale_max'.", "scale_max")
    max_words = current.get("max_words") or 1
    if body.max_words is not None:
        if kind != "words":
            raise invalid("Only word clouds have 'max_words'.", "max_words")
        max_words = body.max_words
    return {
        "title": title,
        "options": options,
        "max_choices": max_choices,
        "scale_max": scale_max,
        "max_words": max_words,
    }


async def _replace_options(tx: Transaction, poll_id: int, labels: list[str]) -> None:
    await tx.execute("DELETE FROM poll_options WHERE poll_id = :id", {"id": poll_id})
    await tx.executemany(
        "INSERT INTO poll_options (poll_id, position, label) VALUES (:poll_id, :position, :label)",
        [{"poll_id": poll_id, "position": i, "label": label} for i, label in enumerate(labels, start=1)],
    )


# --------------------------------------------------------------------------- reading


async def list_polls(ctx: Context, event_id: int, *, staff: bool, device: str | None) -> dict[str, Any]:
    """Moderators get drafts too; viewers their own ballots and the results they may see."""
    return {"polls": await polls_for(ctx.db, event_id, is_staff=staff, device=device)}


async def get_poll(ctx: Context, event_id: int, poll_id: int, *, staff: bool, device: str | None) -> dict[str, Any]:
    poll = await _poll_row(ctx.db, event_id, poll_id)
    if poll["state"] == "draft" and not staff:
        raise ApiError(404, "poll_not_found", f"There is no poll {poll_id} in this event.")
    return await poll_json(ctx.db, poll, with_results=staff or results_public(poll), device=None if staff else device)


# --------------------------------------------------------------------------- moderators' changes


async def create_poll(ctx: Context, publisher: ResultsPublisher, event_id: int, body: CreatePoll) -> dict[str, Any]:
    """A draft, placed last."""
    content = _content(body.kind, body, {"title": None, "options": [], "max_choices": None, "scale_max": None})
    now = ctx.now()
    async with ctx.db.transaction() as tx:
        row = await tx.fetchone(
            "INSERT INTO polls (event_id, position, title, kind, results_visibility, max_choices, scale_max, "
            "max_words, created_at, updated_at) VALUES (:event_id, "
            "(SELECT COALESCE(MAX(position), 0) + 1 FROM polls WHERE event_id = :event_id), "
            ":title, :kind, :visibility, :max_choices, :scale_max, :max_words, :now, :now) "
            f"RETURNING {POLL_COLUMNS}",
            {
                "event_id": event_id,
                "title": content["title"],
                "kind": body.kind,
                "visibility": body.results_visibility,
                "max_choices": content["max_choices"],
                "scale_max": content["scale_max"],
                "max_words": content["max_words"],
                "now": now,
            },
        )
        assert row is not None
        await _replace_options(tx, row["id"], content["options"])
        await _record_poll(ctx, publisher, tx, row, None)
        return await poll_json(tx, row, with_results=True)


_TRANSITIONS = {("draft", "open"), ("closed", "open"), ("open", "closed"), ("closed", "draft")}


async def update_poll(
    ctx: Context, publisher: ResultsPublisher, event_id: int, poll_id: int, body: UpdatePoll
) -> dict[str, Any]:
    """Launch, close, reset (back to a draft without ballots), show or hide results, move, or edit a draft.

    A request that changes nothing (a retry, a double click) is answered without logging anything.
    """
    async with ctx.db.transaction() as tx:
        poll = await _poll_row(tx, event_id, poll_id)
        updates: dict[str, Any] = {}
        now = ctx.now()
        target = body.state or poll["state"]
        if target != poll["state"]:
            if (poll["state"], target) not in _TRANSITIONS:
                raise conflict("invalid_transition", f"A poll cannot go from {poll['state']} to {target}.")
            updates["state"] = target
            if target == "open":
                updates.update(closed_at=None, opened_at=poll["opened_at"] if poll["state"] == "closed" else now)
            elif target == "closed":
                updates["closed_at"] = now
            else:  # reset: back to a draft without ballots
                updates.update(opened_at=None, closed_at=None)
                await tx.execute("DELETE FROM poll_ballots WHERE poll_id = :id", {"id": poll_id})
                await tx.execute("DELETE FROM poll_ballot_options WHERE poll_id = :id", {"id": poll_id})
        visibility = body.results_visibility or poll["results_visibility"]
        if visibility != poll["results_visibility"]:
            updates["results_visibility"] = visibility
        new_options: list[str] | None = None
        if body.model_fields_set & set(CONTENT_FIELDS):
            current = {
                "title": poll["title"],
                "options": [o["label"] for o in await _options(tx, poll_id)],
                "max_choices": poll["max_choices"],
                "scale_max": poll["scale_max"],
                "max_words": poll["max_words"],
            }
            content = _content(poll["kind"], body, current)
            changed = {k: v for k, v in content.items() if v != current[k]}
            if changed and poll["state"] != "draft":
                raise conflict("poll_not_editable", "A poll can only be edited while it is a draft; reset it first.")
            new_options = changed.pop("options", None)
            updates.update(changed)
        moved = await _move(ctx, publisher, tx, poll, body.position) if body.position is not None else False
        if not updates and new_options is None:
            if moved:
                poll = await _poll_row(tx, event_id, poll_id)
            return await poll_json(tx, poll, with_results=True)
        if new_options is not None:
            await _replace_options(tx, poll_id, new_options)
        assignments = ", ".join(f"{name} = :{name}" for name in updates)
        updated = await tx.fetchone(
            f"UPDATE polls SET {assignments}{', ' if assignments else ''}version = version + 1, updated_at = :now "
            f"WHERE id = :id RETURNING {POLL_COLUMNS}",
            {**updates, "now": now, "id": poll_id},
        )
        assert updated is not None
        await _record_poll(ctx, publisher, tx, updated, poll["state"])
        return await poll_json(tx, updated, with_results=True)


async def _move(ctx: Context, publisher: ResultsPublisher, tx: Transaction, poll: sqlite3.Row, position: int) -> bool:
    """Put the poll at 1-based `position` and renumber the event's polls; log every poll whose place changed."""
    rows = await tx.fetchall(
        f"SELECT {POLL_COLUMNS} FROM polls WHERE event_id = :event_id ORDER BY position, id",
        {"event_id": poll["event_id"]},
    )
    order = [r for r in rows if r["id"] != poll["id"]]
    order.insert(min(position, len(rows)) - 1, next(r for r in rows if r["id"] == poll["id"]))
    moved = False
    for place, row in enumerate(order, start=1):
        if row["position"] == place:
            continue
        moved = True
        updated = await tx.fetchone(
            f"UPDATE polls SET position = :position WHERE id = :id RETURNING {POLL_COLUMNS}",
            {"position": place, "id": row["id"]},
        )
        assert updated is not None
        await _record_poll(ctx, publisher, tx, updated, updated["state"])
    return moved


async def delete_poll(ctx: Context, event_id: int, poll_id: int) -> None:
    """Only a poll that is not open; its ballots go with it."""
    async with ctx.db.transaction() as tx:
        poll = await _poll_row(tx, event_id, poll_id)
        if poll["state"] == "open":
            raise conflict("poll_open", "Close the poll before deleting it.")
        await tx.execute("DELETE FROM polls WHERE id = :id", {"id": poll_id})
        await ctx.log.record(
            tx, event_id, protocol.POLL_DELETED, {"poll_id": poll_id}, audience=_audience(poll["state"], "draft")
        )
