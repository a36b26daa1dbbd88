"""The live websocket `/ws/events/{slug}`: a snapshot or a replay from the change log, then live changes.

Who is connecting (moderator, studio view, device), the receive loop and its limits are here; what the client
gets first is built by smartrlp/services/snapshot.py, and a `react` message goes to the same service function as
`POST …/reactions`.

The connection's own task receives (pings, reactions, the disconnect); live broadcasts are written by the
publisher through `LiveClient.deliver`, without a task per viewer, and `Hub.subscribe` always removes the
subscription.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from smartrlp.core import metrics
from smartrlp.core.errors import ApiError
from smartrlp.core.limits import MessageBudget
from smartrlp.models.base import parse
from smartrlp.models.reactions import React
from smartrlp.realtime import changes, protocol
from smartrlp.services import reactions, snapshot
from smartrlp.services.studio import studio_link_for
from smartrlp.web.auth import moderator_for
from smartrlp.web.http import app_state, client_address, device_id
from smartrlp.web.middleware.security import same_site_request
from smartrlp.web.state import AppState
from smartrlp.web.transport import LiveClient, log


def _parse_since(raw: str | None) -> int | None:
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


# A client that keeps sending after being told to wait this many times over its budget is closed.
MESSAGES_BEYOND_BUDGET = 100


async def _receive(client: LiveClient, budget: MessageBudget | None) -> None:
    refused = 0
    while True:
        message = await client.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        wait = budget.take() if budget is not None else 0.0
        if wait > 0:
            # Dropped; told once per burst, so that a flood does not get a flood of answers.
            refused += 1
            metrics.REFUSED.labels("ws_rate_limited").inc()
            if refused == 1:
                await client.send(
                    {
                        "type": protocol.ERROR,
                        "code": "rate_limited",
                        "message": f"Too many messages; wait {max(1, round(wait))} seconds.",
                        "retry_after": max(1, round(wait + 0.49)),
                    }
                )
            elif refused > MESSAGES_BEYOND_BUDGET:
                await client.websocket.close(protocol.CLOSE_RATE_LIMITED, "too many messages")
                return
            continue
        refused = 0
        text = message.get("text")
        if text is None:
            await client.send(
                {"type": protocol.ERROR, "code": "binary_not_supported", "message": "Send JSON text frames."}
            )
            continue
        if len(text) > protocol.MAX_CLIENT_MESSAGE_BYTES:
            await client.send(
                {
                    "type": protocol.ERROR,
                    "code": "message_too_large",
                    "message": f"Messages may have at most {protocol.MAX_CLIENT_MESSAGE_BYTES} bytes.",
                }
            )
            continue
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
            data = None
        if not isinstance(data, dict):
            await client.send(
                {"type": protocol.ERROR, "code": "malformed_json", "message": "Send a JSON object with a 'type'."}
            )
            continue
        if data.get("type") == protocol.PING:
            await client.send({"type": protocol.PONG, "seq": client.last_seq, "now": changes.server_time_ms()})
        elif data.get("type") == protocol.REACT:
            await _react(client, data)
        else:
            await client.send(
                {
                    "type": protocol.ERROR,
                    "code": "unknown_type",
                    "message": f"Unknown message type; this server takes {list(protocol.CLIENT_TYPES)}.",
                }
            )


async def _react(client: LiveClient, data: dict[str, Any]) -> None:
    """A reaction, as `POST …/reactions` takes it (the same model and service); no answer unless refused."""
    try:
        # The message's `type` is the protocol's; the body is the rest, as the HTTP route would get it.
        body = parse(React, {"kind": data.get("kind")})
    except ApiError as error:
        await client.send({"type": protocol.ERROR, "code": error.code, "message": error.message})
        return
    if client.device is None:
        await client.send({"type": protocol.ERROR, "code": "no_device", "message": "Load the page first."})
        return
    reactions.react(app_state(client.websocket).reactions, client.event_id, body, device=client.device)


async def event_socket(websocket: WebSocket) -> None:
    state = app_state(websocket)
    # Cross-site websocket hijacking: a page elsewhere could open this socket with the visitor's cookies (a
    # moderator's session sees pending questions). Browsers always send Origin; a foreign one is refused (403).
    if not same_site_request(websocket, state.origins):
        await websocket.close()
        return
    address = client_address(websocket)
    if not state.limiter.open_connection(address):
        metrics.REFUSED.labels("ws_too_many_connections").inc()
        await websocket.accept()
        await websocket.close(protocol.CLOSE_RATE_LIMITED, "too many connections from your address")
        return
    try:
        await _event_socket(websocket, state)
    finally:
        state.limiter.close_connection(address)


async def _send_opening(client: LiveClient, state: AppState, since: int | None) -> None:
    """The snapshot, or the replay since `since`. A function of its own so that the opening's texts (kilobytes per
    viewer) are freed once sent, not kept alive with the handler's frame for as long as the socket stays open."""
    opening = await snapshot.opening(state.ctx, state.reactions, client.event_id, client, since)
    client.last_seq = opening.seq
    for text in opening.texts:
        await client.send_text(text)


async def _event_socket(websocket: WebSocket, state: AppState) -> None:
    event = await state.db.fetchone("SELECT id FROM events WHERE slug = :slug", {"slug": websocket.path_params["slug"]})
    if event is None:
        await websocket.accept()
        await websocket.close(protocol.CLOSE_UNKNOWN_EVENT, "unknown event")
        return
    try:
        moderator = await moderator_for(websocket, event["id"])
    except ApiError:
        moderator = None
    is_studio = moderator is None and (
        await studio_link_for(state.db, websocket.query_params.get("studio"), event["id"]) is not None
    )
    client = LiveClient(websocket, event["id"], moderator is not None, device_id(websocket), is_studio=is_studio)
    since = _parse_since(websocket.query_params.get("since"))
    await websocket.accept()
    sender: asyncio.Task[None] | None = None
    try:
        with state.hub.subscribe(client.event_id, client):
            # Subscribed first: what is committed while the opening is read waits in the client, and what it
            # already covers (seq up to `opening.seq`) is skipped when it goes live.
            await _send_opening(client, state, since)
            sender = client.go_live()
            # This task itself receives (pings, reactions, the disconnect); broadcasts need no task of their own.
            await _receive(client, state.limiter.message_budget())
    except WebSocketDisconnect:
        pass
    except RuntimeError as error:
        # Sending on a socket the client already closed; nothing to tell anyone.
        log.debug("websocket ended: %s", error)
    finally:
        if sender is not None:
            sender.cancel()


routes = [WebSocketRoute("/ws/events/{slug}", event_socket)]
