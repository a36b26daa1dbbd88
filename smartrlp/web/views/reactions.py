"""The reactions API (the page itself sends reactions over the websocket, smartrlp/web/views/live.py)."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request

from smartrlp.models.reactions import React, ReactionTaken
from smartrlp.services import reactions
from smartrlp.web.endpoint import Endpoints
from smartrlp.web.http import app_state, client_address, require_device

api = Endpoints("reactions")


@api.post(
    "/api/events/{slug}/reactions", body=React, response=ReactionTaken, status=202, errors=(400, 409), rate_limited=True
)
async def react(request: Request, event: sqlite3.Row, body: React) -> dict[str, Any]:
    """Send a reaction (counted once per device and kind within the window)

    Only while the event is live: 409 `event_not_started` before its start, `event_ended` after its end.
    Reactions are not stored: they only feed the live meter. Needs the device cookie.
    """
    state = app_state(request)
    device = require_device(request)
    await state.limiter.check("reactions", reaction_device=device, reaction_address=client_address(request))
    return await reactions.react(state.ctx, state.reactions, event["id"], body, device=device)


routes = api.routes
