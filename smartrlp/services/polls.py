"""Live polls: moderators prepare drafts, launch, close, reset and reorder them; viewers answer with ballots."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.core.errors import ApiError, conflict, invalid
from smartrlp.core.text import clean_text
from smartrlp.core.wordfilter import normalise_for_display
from smartrlp.db.store import Transaction, utcnow
from smartrlp.realtime import changes, protocol
from smartrlp.services import screening
from smartrlp.services.ballots import CHOICE_KINDS, Ballot, Reader, compute_results, results_public
from smartrlp.services.events import event_by_slug
from smartrlp.web.auth import moderator_for, require_moderator
from smartrlp.web.http import app_state, client_address, device_id, json_response, path_id, read_json, require_device

KINDS = ("single", "multiple", "rating", "words")
STATES = ("draft", "open", "closed")
VISIBILITIES = ("live", "after_close", "never")
SCALES = (5, 10)
MAX_TITLE = 200
MAX_OPTION = 100
MIN_OPTIONS, MAX_OPTIONS = 2, 12
MAX_WORD = 40
CONTENT_FIELDS = ("title", "options", "max_choices", "scale_max")

POLL_COLUMNS = (
    "id, event_id, position, title, kind, state, results_visibility, max_choices, scale_max, version, "
    "opened_at, closed_at"
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
    return {"text": row["word"]}


async def poll_json(
    conn: Reader, poll: sqlite3.Row, *, with_results: bool, device: str | None = None
) -> dict[str, Any]:
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


async def _record_poll(tx: Transaction, request: Request, poll: sqlite3.Row, old_state: str | None) -> dict[str, Any]:
    """Log the poll as it now is; the logged message carries results only where every viewer may see them."""
    data = await poll_json(tx, poll, with_results=results_public(poll))
    await changes.record(
        tx,
        app_state(request).hub,
        poll["event_id"],
        protocol.POLL,
        {"poll": data},
        audience=_audience(old_state, poll["state"]),
    )
    # Moderators always see results; a change of state or visibility can also reveal them to viewers.
    tx.after_commit(lambda: app_state(request).results.mark(poll["event_id"], poll["id"]))
    return data


# --- validation -------------------------------------------------------------------------------------------


def _choice(body: dict[str, Any], name: str, allowed: tuple[Any, ...], default: Any) -> Any:
    value = body.get(name, default)
    if value not in allowed or isinstance(value, bool):
        raise invalid(f"'{name}' must be one of {', '.join(map(str, allowed))}.", name)
    return value


def _option_labels(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not MIN_OPTIONS <= len(raw) <= MAX_OPTIONS:
        raise invalid(f"'options' must be a list of {MIN_OPTIONS} to {MAX_OPTIONS} labels.", "options")
    labels = [clean_text(label, field="options", max_length=MAX_OPTION, required=True) or "" for label in raw]
    if len({label.casefold() for label in labels}) != len(labels):
        raise invalid("Two options have the same label.", "options")
    return labels


def _content(kind: str, body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Title, options, max_choices and scale_max after applying `body` to `current`, checked together."""
    title = current["title"]
    if "title" in body or not title:
        title = clean_text(body.get("title"), field="title", max_length=MAX_TITLE, required=True)
    options = current["options"]
    if kind in CHOICE_KINDS:
        if "options" in body or not options:
            options = _option_labels(body.get("options"))
    elif body.get("options"):
        raise invalid("Only single and multiple choice polls have options.", "options")
    max_choices = current["max_choices"]
    if "max_choices" in body:
        max_choices = body["max_choices"]
    if kind != "multiple":
        if max_choices is not None and "max_choices" in body:
            raise invalid("Only multiple choice polls have 'max_choices'.", "max_choices")
        max_choices = None
    elif max_choices is not None and (
        not isinstance(max_choices, int) or isinstance(max_choices, bool) or not 2 <= max_choices <= len(options)
    ):
        raise invalid(f"'max_choices' must be a whole number from 2 to {len(options)}, or null.", "max_choices")
    scale_max = current["scale_max"]
    if kind == "rating":
        scale_max = _choice(body, "scale_max", SCALES, scale_max or 5)
    elif body.get("scale_max") is not None:
        raise invalid("Only rating polls have 'scale_max'.", "scale_max")
    return {"title": title, "options": options, "max_choices": max_choices, "scale_max": scale_max}


def _unknown_fields(body: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise invalid(f"Unknown field {unknown[0]!r}.", unknown[0])


# --- routes -----------------------------------------------------------------------------------------------


async def list_polls(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    is_staff = await moderator_for(request, event["id"]) is not None
    polls = await polls_for(state.db, event["id"], is_staff=is_staff, device=device_id(request))
    return json_response({"polls": polls})


async def get_poll(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    poll_id = path_id(request, "poll_id", "poll")
    is_staff = await moderator_for(request, event["id"]) is not None
    poll = await _poll_row(state.db, event["id"], poll_id)
    if poll["state"] == "draft" and not is_staff:
        raise ApiError(404, "poll_not_found", f"There is no poll {poll_id} in this event.")
    device = None if is_staff else device_id(request)
    return json_response(await poll_json(state.db, poll, with_results=is_staff or results_public(poll), device=device))


async def create_poll(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    body = await read_json(request)
    _unknown_fields(body, {"title", "kind", "options", "max_choices", "scale_max", "results_visibility"})
    kind = _choice(body, "kind", KINDS, None)
    visibility = _choice(body, "results_visibility", VISIBILITIES, "live")
    content = _content(kind, body, {"title": None, "options": [], "max_choices": None, "scale_max": None})
    now = utcnow()
    async with state.db.transaction() as tx:
        row = await tx.fetchone(
            "INSERT INTO polls (event_id, position, title, kind, results_visibility, max_choices, scale_max, "
            "created_at, updated_at) VALUES (:event_id, "
            "(SELECT COALESCE(MAX(position), 0) + 1 FROM polls WHERE event_id = :event_id), "
            ":title, :kind, :visibility, :max_choices, :scale_max, :now, :now) "
            f"RETURNING {POLL_COLUMNS}",
            {
                "event_id": event["id"],
                "title": content["title"],
                "kind": kind,
                "visibility": visibility,
                "max_choices": content["max_choices"],
                "scale_max": content["scale_max"],
                "now": now,
            },
        )
        assert row is not None
        await _replace_options(tx, row["id"], content["options"])
        await _record_poll(tx, request, row, None)
        data = await poll_json(tx, row, with_results=True)
    return json_response(data, status=201)


async def _replace_options(tx: Transaction, poll_id: int, labels: list[str]) -> None:
    await tx.execute("DELETE FROM poll_options WHERE poll_id = :id", {"id": poll_id})
    await tx.executemany(
        "INSERT INTO poll_options (poll_id, position, label) VALUES (:poll_id, :position, :label)",
        [{"poll_id": poll_id, "position": i, "label": label} for i, label in enumerate(labels, start=1)],
    )


_TRANSITIONS = {("draft", "open"), ("closed", "open"), ("open", "closed"), ("closed", "draft")}


async def update_poll(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    poll_id = path_id(request, "poll_id", "poll")
    body = await read_json(request)
    _unknown_fields(body, {"state", "results_visibility", "position", *CONTENT_FIELDS})
    async with state.db.transaction() as tx:
        poll = await _poll_row(tx, event["id"], poll_id)
        updates: dict[str, Any] = {}
        now = utcnow()
        target = _choice(body, "state", STATES, poll["state"])
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
        visibility = _choice(body, "results_visibility", VISIBILITIES, poll["results_visibility"])
        if visibility != poll["results_visibility"]:
            updates["results_visibility"] = visibility
        new_options: list[str] | None = None
        if any(name in body for name in CONTENT_FIELDS):
            current = {
                "title": poll["title"],
                "options": [o["label"] for o in await _options(tx, poll_id)],
                "max_choices": poll["max_choices"],
                "scale_max": poll["scale_max"],
            }
            content = _content(poll["kind"], body, current)
            changed = {k: v for k, v in content.items() if v != current[k]}
            if changed and poll["state"] != "draft":
                raise conflict("poll_not_editable", "A poll can only be edited while it is a draft; reset it first.")
            new_options = changed.pop("options", None)
            updates.update(changed)
        moved = await _move(tx, request, poll, body["position"]) if "position" in body else False
        if not updates and new_options is None:
            # Nothing to change (a retry, a double click): answer without logging anything.
            if moved:
                poll = await _poll_row(tx, event["id"], poll_id)
            return json_response(await poll_json(tx, poll, with_results=True))
        if new_options is not None:
            await _replace_options(tx, poll_id, new_options)
        assignments = ", ".join(f"{name} = :{name}" for name in updates)
        updated = await tx.fetchone(
            f"UPDATE polls SET {assignments}{', ' if assignments else ''}version = version + 1, updated_at = :now "
            f"WHERE id = :id RETURNING {POLL_COLUMNS}",
            {**updates, "now": now, "id": poll_id},
        )
        assert updated is not None
        await _record_poll(tx, request, updated, poll["state"])
        data = await poll_json(tx, updated, with_results=True)
    return json_response(data)


async def _move(tx: Transaction, request: Request, poll: sqlite3.Row, raw: Any) -> bool:
    """Put the poll at 1-based `raw` and renumber the event's polls; log every poll whose place changed."""
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise invalid("'position' must be a whole number from 1.", "position")
    rows = await tx.fetchall(
        f"SELECT {POLL_COLUMNS} FROM polls WHERE event_id = :event_id ORDER BY position, id",
        {"event_id": poll["event_id"]},
    )
    order = [r for r in rows if r["id"] != poll["id"]]
    order.insert(min(raw, len(rows)) - 1, next(r for r in rows if r["id"] == poll["id"]))
    moved = False
    for position, row in enumerate(order, start=1):
        if row["position"] == position:
            continue
        moved = True
        updated = await tx.fetchone(
            f"UPDATE polls SET position = :position WHERE id = :id RETURNING {POLL_COLUMNS}",
            {"position": position, "id": row["id"]},
        )
        assert updated is not None
        await _record_poll(tx, request, updated, updated["state"])
    return moved


async def delete_poll(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    poll_id = path_id(request, "poll_id", "poll")
    async with state.db.transaction() as tx:
        poll = await _poll_row(tx, event["id"], poll_id)
        if poll["state"] == "open":
            raise conflict("poll_open", "Close the poll before deleting it.")
        await tx.execute("DELETE FROM polls WHERE id = :id", {"id": poll_id})
        await changes.record(
            tx,
            state.hub,
            event["id"],
            protocol.POLL_DELETED,
            {"poll_id": poll_id},
            audience=_audience(poll["state"], "draft"),
        )
    return Response(status_code=204)


def _ballot_from(body: dict[str, Any], poll: sqlite3.Row, option_ids: set[int], event_id: int, device: str) -> Ballot:
    kind = poll["kind"]
    base = {"event_id": event_id, "poll_id": poll["id"], "device_id": device}
    if kind in CHOICE_KINDS:
        _unknown_fields(body, {"options"})
        raw = body.get("options")
        if not isinstance(raw, list) or not raw or not all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
            raise invalid("'options' must be a non-empty list of option ids.", "options")
        chosen = tuple(sorted(set(raw)))
        if not set(chosen) <= option_ids:
            raise invalid("An option does not belong to this poll.", "options")
        limit = 1 if kind == "single" else (poll["max_choices"] or len(option_ids))
        if len(chosen) > limit:
            raise invalid(f"Choose at most {limit} option{'s' if limit > 1 else ''}.", "options")
        return Ballot(**base, option_ids=chosen)
    if kind == "rating":
        _unknown_fields(body, {"value"})
        value = body.get("value")
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= poll["scale_max"]:
            raise invalid(f"'value' must be a whole number from 1 to {poll['scale_max']}.", "value")
        return Ballot(**base, value=value)
    _unknown_fields(body, {"text"})
    text = clean_text(body.get("text"), field="text", max_length=MAX_WORD * 4, required=True) or ""
    word = normalise_for_display(text)
    if not word:
        raise invalid("'text' must contain a word.", "text")
    if len(word) > MAX_WORD:
        raise invalid(f"'text' may have at most {MAX_WORD} characters.", "text")
    return Ballot(**base, word=word)


async def vote(request: Request) -> Response:
    state = app_state(request)
    slug = request.path_params["slug"]
    poll_id = path_id(request, "poll_id", "poll")
    # Event, poll and option ids in one query: in a burst of thousands of ballots every trip to the database
    # thread counts (docs/performance.md). When it finds nothing, the separate lookups name what is missing.
    poll = await state.db.fetchone(
        f"SELECT e.id AS poll_event_id, {', '.join('p.' + c.strip() for c in POLL_COLUMNS.split(','))}, "
        "(SELECT json_group_array(o.id) FROM poll_options o WHERE o.poll_id = p.id) AS option_ids "
        "FROM events e JOIN polls p ON p.event_id = e.id WHERE e.slug = :slug AND p.id = :id",
        {"slug": slug, "id": poll_id},
    )
    event_id = int(poll["poll_event_id"]) if poll else (await event_by_slug(state.db, slug))["id"]
    body = await read_json(request)
    device = require_device(request)
    state.limiter.hit("poll answers", ballot_device=device, ballot_address=client_address(request))
    if poll is None:
        poll = await _poll_row(state.db, event_id, poll_id)  # poll_not_found, unless created meanwhile
        option_ids = {o["id"] for o in await _options(state.db, poll_id)}
    else:
        option_ids = set(json.loads(poll["option_ids"]))
    if poll["state"] != "open":
        raise conflict("poll_not_open", "This poll is not open for answers.")
    ballot = _ballot_from(body, poll, option_ids, event_id, device)
    if ballot.word is not None:
        # The shipped lists and the words the moderators added for this event.
        word_filter = await screening.filter_for(state.db, state.word_filter, event_id)
        if word_filter.blocks(ballot.word):
            raise ApiError(422, "blocked_text", "This word cannot be shown.", details={"field": "text"})
    replaced = await state.ballots.submit(ballot)
    return json_response({"poll_id": poll_id, "ballot": ballot.as_json(), "replaced": replaced}, status=201)


routes = [
    Route("/api/events/{slug}/polls", list_polls, methods=["GET"]),
    Route("/api/events/{slug}/polls", create_poll, methods=["POST"]),
    Route("/api/events/{slug}/polls/{poll_id}", get_poll, methods=["GET"]),
    Route("/api/events/{slug}/polls/{poll_id}", update_poll, methods=["PATCH"]),
    Route("/api/events/{slug}/polls/{poll_id}", delete_poll, methods=["DELETE"]),
    Route("/api/events/{slug}/polls/{poll_id}/votes", vote, methods=["POST"]),
]
