"""The public event: its JSON, the viewer page and the phone page. The event's rules are in
smartrlp/services/events.py."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.models.events import Event
from smartrlp.services import events
from smartrlp.web.endpoint import Endpoints, event_from_path
from smartrlp.web.http import app_state
from smartrlp.web.pages import page_config, render

api = Endpoints("events")


@api.get("/api/events/{slug}", response=Event)
async def get_event(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """An event, with its agenda, panel, join code and what the studio shows"""
    return await events.event_details(app_state(request).db, event)


async def viewer_page(request: Request, *, phone_only: bool = False) -> Response:
    row = await event_from_path(request)
    event = await events.event_details(app_state(request).db, row)
    config = page_config({"slug": event["slug"], "phone_only": phone_only})
    phase = events.event_phase(row["starts_at"], row["ends_at"], datetime.now(UTC))
    return render(request, "viewer.html", event=event, config=config, phone_only=phone_only, phase=phase)


async def phone_page(request: Request) -> Response:
    """ "Fragen & Umfragen" without the stream, for people who watch on TV and take part by phone."""
    return await viewer_page(request, phone_only=True)


routes = [
    *api.routes,
    Route("/e/{slug}", viewer_page, methods=["GET"]),
    Route("/e/{slug}/mitmachen", phone_page, methods=["GET"]),
]
