"""The agenda during the event: the moderator marks which item is on now, and every page follows.

The mark is kept with the moment it was set, because a live programme drifts from its plan: the presenter screen
counts the time left in the item from when it really began.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.core.errors import ApiError, invalid
from smartrlp.db.store import utcnow
from smartrlp.services.events import event_by_slug, record_event_change
from smartrlp.web.auth import require_moderator
from smartrlp.web.http import app_state, json_response, read_json


async def set_current_item(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    body = await read_json(request)
    unknown = sorted(set(body) - {"item_id"})
    if unknown:
        raise invalid(f"Unknown field {unknown[0]!r}.", unknown[0])
    if "item_id" not in body:
        raise invalid("Send 'item_id': the agenda item that is on now, or null for none.", "item_id")
    item_id = body["item_id"]
    if item_id is not None and (not isinstance(item_id, int) or isinstance(item_id, bool)):
        raise invalid("'item_id' must be the id of an agenda item of this event, or null.", "item_id")
    async with state.db.transaction() as tx:
        if item_id is not None:
            item = await tx.fetchone(
                "SELECT id FROM agenda_items WHERE id = :id AND event_id = :event_id",
                {"id": item_id, "event_id": event["id"]},
            )
            if item is None:
                raise ApiError(404, "agenda_item_not_found", f"There is no agenda item {item_id} in this event.")
        current = await tx.fetchone(
            "SELECT current_agenda_item_id, current_agenda_started_at FROM events WHERE id = :id", {"id": event["id"]}
        )
        assert current is not None
        if current["current_agenda_item_id"] == item_id:
            # Pressing "Jetzt" twice must not restart the item's clock.
            started_at = current["current_agenda_started_at"]
        else:
            started_at = utcnow() if item_id is not None else None
            await tx.execute(
                "UPDATE events SET current_agenda_item_id = :item_id, current_agenda_started_at = :started_at "
                "WHERE id = :id",
                {"item_id": item_id, "started_at": started_at, "id": event["id"]},
            )
            await record_event_change(tx, state.hub, event["id"])
    return json_response({"item_id": item_id, "started_at": started_at})


routes = [Route("/api/events/{slug}/agenda/current", set_current_item, methods=["PUT"])]
