"""The start page (the list of events) and the health check."""

from __future__ import annotations

import os
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smartrlp.models.common import Health
from smartrlp.services import events
from smartrlp.web import openapi
from smartrlp.web.endpoint import Endpoints
from smartrlp.web.http import app_state, json_response
from smartrlp.web.pages import render

api = Endpoints("health")


@api.get("/healthz", response=Health)
async def healthz(request: Request) -> dict[str, Any] | Response:
    """Liveness and readiness: 200 once the database is open, 503 while the server starts or cannot write"""
    db = app_state(request).db
    if not db.is_open:
        return json_response({"status": "starting"}, status=503)
    if not db.storage.writable:
        # Reads are still served; the reason is for the operator and the load balancer's log.
        body = {"status": "degraded", "reason": "storage_unavailable", "cause": db.storage.cause}
        return json_response({**body, "since": db.storage.since, "worker": os.getpid()}, status=503)
    # `worker` tells which process answered when several serve one port (`serve --workers N`).
    return {"status": "ok", "worker": os.getpid()}


@api.get("/openapi.json")
async def openapi_document(request: Request) -> Response:
    """This document: the OpenAPI schema of the JSON API"""
    return JSONResponse(openapi.build_schema(request.app.routes))


async def home(request: Request) -> Response:
    return render(request, "home.html", events=await events.listed_events(app_state(request).db))


routes = [*api.routes, Route("/", home, methods=["GET"])]
