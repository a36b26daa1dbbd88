"""The live websocket `/ws/events/{slug}`: a snapshot or a replay from the change log, then live changes.

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

from smartrlp.core.errors import ApiError
from smartrlp.core.limits import MessageBudget
from smartrlp.realtime import changes, protocol
from smartrlp.services.ballots import compute_results, option_ids_of, results_message, results_public
from smartrlp.services.events import EVENT_COLUMNS, event_details
from smartrlp.services.polls import polls_for
from smartrlp.services.questions import PUBLIC_STATUSES, question_json, visible_questions
from smartrlp.services.reactions import check_kind
from smartrlp.services.studio import studio_link_for
from smartrlp.web.auth import moderator_for
from smartrlp.web.http import app_state, client_address, device_id
from smartrlp.web.middleware.security import same_site_request
from smartrlp.web.transport import LiveClient, log


def _parse_since(raw: str | None) -> int | None:
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


async def _send_snapshot(client: LiveClient, state: Any) -> None:
    db = state.db
    # Read the head first: anything committed after it arrives through the subscription.
    event = await db.fetchone(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = :id", {"id": client.event_id})
    assert event is not None
    statuses = None if client.is_staff else PUBLIC_STATUSES
    device = None if client.is_staff else client.device
    rows = await visible_questions(db, client.event_id, statuses=statuses, device=device, sort="newest")
    voted: list[int] = []
    if device is not None:
        voted_rows = await db.fetchall(
            "SELECT v.question_id FROM question_votes v JOIN questions q ON q.id = v.question_id "
            "WHERE q.event_id = :event_id AND v.device_id = :device",
            {"event_id": client.event_id, "device": device},
        )
        voted = [r["question_id"] for r in voted_rows]
    client.last_seq = int(event["last_seq"])
    await client.send(
        {
            "type": protocol.SNAPSHOT,
            "seq": client.last_seq,
            "role": "moderator" if client.is_staff else "studio" if client.is_studio else "viewer",
            "event": await event_details(db, event),
            "questions": [question_json(r, event["on_air_question_id"], device=device) for r in rows],
            "voted": voted,
            "polls": await polls_for(
                db, client.event_id, is_staff=client.is_staff, device=device, all_results=client.is_studio
            ),
        }
    )
    await _send_current_state(client, state, results=False)


async def _send_current_state(client: LiveClient, state: Any, *, results: bool) -> None:
    """What is not in the change log: current poll results (after a replay) and the reaction levels."""
    if results:
        polls = await state.db.fetchall(
            "SELECT id, kind, state, results_visibility, scale_max FROM polls "
            "WHERE event_id = :event_id AND state != 'draft' ORDER BY position",
            {"event_id": client.event_id},
        )
        for poll in polls:
            if client.is_staff or client.is_studio or results_public(poll):
                option_ids = await option_ids_of(state.db, poll["id"])
                await client.send(results_message(poll["id"], await compute_results(state.db, poll, option_ids)))
    reactions = state.reactions.message(client.event_id)
    if any(reactions["counts"].values()):
        await client.send(reactions)


async def _replay(client: LiveClient, state: Any, since: int) -> None:
    client.last_seq = since
    for broadcast in await changes.since(state.db, client.event_id, since):
        if changes.visible_to(broadcast, is_staff=client.is_staff, device=client.device, is_studio=client.is_studio):
            await client.send_text(broadcast.text)
        client.last_seq = broadcast.seq
    await client.send({"type": protocol.SYNCED, "seq": client.last_seq})
    await _send_current_state(client, state, results=True)


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
            await client.send({"type": protocol.PONG, "seq": client.last_seq})
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
    try:
        kind = check_kind(data.get("kind"))
    except ApiError as error:
        await client.send({"type": protocol.ERROR, "code": error.code, "message": error.message})
        return
    if client.device is None:
        await client.send({"type": protocol.ERROR, "code": "no_device", "message": "Load the page first."})
        return
    app_state(client.websocket).reactions.react(client.event_id, client.device, kind)


async def event_socket(websocket: WebSocket) -> None:
    state = app_state(websocket)
    # Cross-site websocket hijacking: a page elsewhere could open this socket with the visitor's cookies (a
    # moderator's session sees pending questions). Browsers always send Origin; a foreign one is refused (403).
    if not same_site_request(websocket, state.origins):
        await websocket.close()
        return
    address = client_address(websocket)
    if not state.limiter.open_connection(address):
        await websocket.accept()
        await websocket.close(protocol.CLOSE_RATE_LIMITED, "too many connections from your address")
        return
    try:
        await _event_socket(websocket, state)
    finally:
        state.limiter.close_connection(address)


async def _event_socket(websocket: WebSocket, state: Any) -> None:
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
            head = await state.db.fetchone("SELECT last_seq FROM events WHERE id = :id", {"id": client.event_id})
            if since is None or head is None or since > head["last_seq"]:
                await _send_snapshot(client, state)
            else:
                await _replay(client, state, since)
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
