"""The agenda during the event: the moderator marks which item is on now, and every page follows.

The mark is kept with the moment it was set, because a live programme drifts from its plan: the presenter screen
counts the time left in the item from when it really began.
"""

from __future__ import annotations

from typing import Any

from smartrlp.core.errors import ApiError
from smartrlp.services import events
from smartrlp.services.context import Context


async def set_current_item(ctx: Context, event_id: int, item_id: int | None) -> dict[str, Any]:
    """Mark `item_id` (an item of this event, or None for none) as on now; every open page hears of a change."""
    async with ctx.db.transaction() as tx:
        if item_id is not None:
            item = await tx.fetchone(
                "SELECT id FROM agenda_items WHERE id = :id AND event_id = :event_id",
                {"id": item_id, "event_id": event_id},
            )
            if item is None:
                raise ApiError(404, "agenda_item_not_found", f"There is no agenda item {item_id} in this event.")
        current = await tx.fetchone(
            "SELECT current_agenda_item_id, current_agenda_started_at FROM events WHERE id = :id", {"id": event_id}
        )
        if current is None:
            raise ApiError(404, "event_not_found", "The event no longer exists.")
        if current["current_agenda_item_id"] == item_id:
            # Pressing "Jetzt" twice must not restart the item's clock, nor tell anybody anything new.
            started_at = current["current_agenda_started_at"]
        else:
            started_at = ctx.now() if item_id is not None else None
            await tx.execute(
                "UPDATE events SET current_agenda_item_id = :item_id, current_agenda_started_at = :started_at "
                "WHERE id = :id",
                {"item_id": item_id, "started_at": started_at, "id": event_id},
            )
            await events.log_event_change(ctx.log, tx, event_id)
    return {"item_id": item_id, "started_at": started_at}
