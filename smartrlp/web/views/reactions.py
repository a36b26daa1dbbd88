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
    "/api/events/{slug}/reactions", body=React, response=ReactionTaken, status=202, errors=(400,), rate_limited=True
)
async def react(request: Request, event: sqlite3.Row, body: React) -> dict[str, Any]:
    """Send a reaction (counted once per device and kind within the window)

    Reactions are not stored: they only feed the live meter. Needs the device cookie.
    """
    state = app_state(request)
    device = require_device(request)
    await state.limiter.check("reactions", reaction_device=device, reaction_address=client_address(request))
    return reactions.react(state.reactions, event["id"], body, device=device)


routes = api.routes
