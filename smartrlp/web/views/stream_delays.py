"""`PUT /api/events/{slug}/stream-delays`: how far behind the studio the viewers' videos run (smartrlp/services/
stream_delays.py has the rules), and `GET /api/time`, the server's clock for measuring it at the sound check."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request

from smartrlp.models.events import ServerTime, StreamDelays, StreamDelaysReply
from smartrlp.realtime.changes import server_time_ms
from smartrlp.services import stream_delays
from smartrlp.web.endpoint import Endpoints
from smartrlp.web.http import app_state

api = Endpoints("events")


@api.put("/api/events/{slug}/stream-delays", body=StreamDelays, response=StreamDelaysReply, moderator=True)
async def set_stream_delays(request: Request, event: sqlite3.Row, body: StreamDelays) -> dict[str, Any]:
    """Set how many seconds behind the studio each way of watching runs

    Whole seconds from 0 to 120 for `youtube`, `facebook` and `tv`, all three at once. The viewer page waits that
    long before it shows the question on air, the studio screen, a poll's opening, close and results and the
    current agenda item (for YouTube only while the player reports no delay of its own), and a poll takes ballots
    for the largest of them after its close. A change is broadcast as `event`, whose `stream_delays` it is.
    """
    return await stream_delays.set_stream_delays(app_state(request).ctx, event["id"], body)


@api.get("/api/time", response=ServerTime)
async def server_time(request: Request) -> dict[str, Any]:
    """The server's clock, for the sound check

    The overlay's `?clock=1` and the moderator console show the server's time from it, so that a moderator can
    compare the clock in a viewer's picture with the studio's and enter the difference as the delay.
    """
    return {"now": server_time_ms()}


routes = api.routes
