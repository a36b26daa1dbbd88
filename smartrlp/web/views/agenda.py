"""The agenda API: the moderator marks the item that is on now. The rules are in smartrlp/services/agenda.py."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request

from smartrlp.models.agenda import CurrentItem, SetCurrentItem
from smartrlp.services import agenda
from smartrlp.web.endpoint import Endpoints
from smartrlp.web.http import app_state

api = Endpoints("agenda")


@api.put("/api/events/{slug}/agenda/current", body=SetCurrentItem, response=CurrentItem, moderator=True)
async def set_current_agenda_item(request: Request, event: sqlite3.Row, body: SetCurrentItem) -> dict[str, Any]:
    """Mark the agenda item that is on now (or none)

    Marking the item that is already marked keeps its start. A change is broadcast as `event`.
    404 `agenda_item_not_found` for an item of another event.
    """
    return await agenda.set_current_item(app_state(request).ctx, event["id"], body.item_id)


routes = api.routes
