"""The start page (the list of events) and the health check."""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import Response

from smartrlp.services import events
from smartrlp.web.http import app_state, json_response
from smartrlp.web.pages import render


async def healthz(request: Request) -> Response:
    if not app_state(request).db.is_open:
        return json_response({"status": "starting"}, status=503)
    # `worker` tells which process answered when several serve one port (`serve --workers N`).
    return json_response({"status": "ok", "worker": os.getpid()})


async def home(request: Request) -> Response:
    return render(request, "home.html", events=await events.listed_events(app_state(request).db))

