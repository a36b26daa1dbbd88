"""For the operator and the moderators: `/metrics` (Prometheus text format) and the event's live status.

`/metrics` is read by a monitoring system, never by visitors: it answers only a request with the bearer token
`SMARTRLP_METRICS_TOKEN`, or one from `SMARTRLP_METRICS_ADDRESSES` (the client address as `SMARTRLP_TRUSTED_PROXIES`
makes it, so a visitor coming through the proxy on the same host is not taken for a local scraper). With neither
set it is off (404). The counters are in core/metrics.py; what is a state is read here at scrape time.
"""

from __future__ import annotations

import ipaddress
import secrets
import sqlite3
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from smartrlp.core import metrics
from smartrlp.core.errors import not_found
from smartrlp.models.operations import LiveStatus
from smartrlp.web.endpoint import Endpoints
from smartrlp.web.http import app_state
from smartrlp.web.middleware.proxy import parse_networks
from smartrlp.web.state import AppState

api = Endpoints("operations")


def _may_read_metrics(request: Request, state: AppState) -> bool:
    token = state.settings.metrics_token
    sent = request.headers.get("authorization", "")
    if token and secrets.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    networks = parse_networks(state.settings.metrics_addresses)
    if not networks or request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(address in network for network in networks)


class _LiveState(Collector):
    """What is a state rather than a count: connections per event, the storage, the broker."""

    def __init__(self, state: AppState, slugs: dict[int, str]) -> None:
        self.state = state
        self.slugs = slugs

    def collect(self) -> Any:
        connections = GaugeMetricFamily(
            "smartrlp_live_connections",
            "Live connections of an event to this process now, by role (viewer, or staff: moderators and studio)",
            labels=["event", "role"],
        )
        for event_id, (viewers, staff) in self.state.hub.connected_by_event().items():
            slug = self.slugs.get(event_id, str(event_id))
            connections.add_metric([slug, "viewer"], viewers)
            connections.add_metric([slug, "staff"], staff)
        yield connections
        connected = getattr(self.state.hub, "connected", None)
        if connected is not None:  # only with SMARTRLP_BROKER
            yield GaugeMetricFamily(
                "smartrlp_broker_connected", "1 while this worker is connected to the broker (Redis)", value=connected
            )


@api.get("/metrics", errors=(404,), media_type=CONTENT_TYPE_LATEST)
async def metrics_page(request: Request) -> Response:
    """The server's figures in the Prometheus text format, for a monitoring system

    Only with `Authorization: Bearer $SMARTRLP_METRICS_TOKEN` or from `SMARTRLP_METRICS_ADDRESSES`; 404 otherwise.
    """
    state = app_state(request)
    if not _may_read_metrics(request, state):
        raise not_found()  # as if it did not exist: visitors learn nothing from it
    event_ids = list(state.hub.connected_by_event())
    rows = await state.db.fetchall(
        f"SELECT id, slug FROM events WHERE id IN ({','.join('?' * len(event_ids))})", tuple(event_ids)
    )
    live = CollectorRegistry()
    live.register(_LiveState(state, {int(row["id"]): str(row["slug"]) for row in rows}))
    return Response(generate_latest(metrics.REGISTRY) + generate_latest(live), media_type=CONTENT_TYPE_LATEST)


@api.get("/api/events/{slug}/status", response=LiveStatus, moderator=True)
async def live_status(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """Viewers connected now, and whether changes can be saved (the moderator page shows both)

    The figures are those of the process that answers; with several workers each counts its own connections.
    """
    state = app_state(request)
    viewers, staff = state.hub.connected_by_event().get(int(event["id"]), (0, 0))
    storage = state.db.storage
    return {"viewers": viewers, "staff": staff, "storage": {"writable": storage.writable, "since": storage.since}}


routes = api.routes
