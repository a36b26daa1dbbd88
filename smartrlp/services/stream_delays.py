"""How far behind the studio a viewer's video runs, per event and way of watching (YouTube, Facebook, TV).

Measured by a moderator at the sound check (the overlay's `?clock=1` shows the server clock; the console works out
the difference) and stored per event. The viewer page waits that long before it shows what the video shows, unless
the YouTube player tells it the delay itself; a poll takes ballots for the largest delay after its close, so that
no viewer is cut off before the close reached their screen.
"""

from __future__ import annotations

from typing import Any

from smartrlp.core.errors import ApiError
from smartrlp.models.events import StreamDelays
from smartrlp.services import events
from smartrlp.services.context import Context


async def set_stream_delays(ctx: Context, event_id: int, delays: StreamDelays) -> dict[str, int]:
    """Store the event's delays; open pages get them with an `event` change."""
    values = delays.model_dump()
    async with ctx.db.transaction() as tx:
        current = await tx.fetchone(f"SELECT {events.EVENT_COLUMNS} FROM events WHERE id = :id", {"id": event_id})
        if current is None:
            raise ApiError(404, "event_not_found", "The event no longer exists.")
        if events.stream_delays_of(current) != values:
            assignments = ", ".join(f"stream_delay_{kind} = :{kind}" for kind in events.STREAM_DELAY_KINDS)
            await tx.execute(f"UPDATE events SET {assignments} WHERE id = :id", {**values, "id": event_id})
            await events.log_event_change(ctx.log, tx, event_id)
    return values


def grace_seconds(row: Any) -> int:
    """How long after its close a poll of this event still takes ballots: the largest configured delay."""
    return max(int(row[f"stream_delay_{kind}"]) for kind in events.STREAM_DELAY_KINDS)
