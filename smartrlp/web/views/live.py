"""The live websocket `/ws/events/{slug}`: a snapshot or a replay from the change log, then live changes.

The connection's own task receives (pings, reactions, the disconnect); live broadcasts are written by the
publisher through `_Client.deliver`, without a task per viewer, and `Hub.subscribe` always removes the
subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import socket
from collections.abc import Awaitable
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from smartrlp.core.errors import ApiError
from smartrlp.core.limits import MessageBudget
from smartrlp.realtime import changes, protocol
from smartrlp.realtime.hub import EPHEMERAL_SEQ, Broadcast, text_frame
from smartrlp.services.accounts import moderator_for
from smartrlp.services.ballots import compute_results, option_ids_of, results_message, results_public
from smartrlp.services.events import EVENT_COLUMNS, event_details
from smartrlp.services.polls import polls_for
from smartrlp.services.questions import PUBLIC_STATUSES, question_json, visible_questions
from smartrlp.services.reactions import check_kind
from smartrlp.services.studio import studio_link_for
from smartrlp.web.http import app_state, client_address, device_id, same_site_request

log = logging.getLogger("smartrlp.live")


# Where `WebSocketTap` leaves uvicorn's protocol object of a websocket connection in the ASGI scope.
_PROTOCOL_SCOPE_KEY = "smartrlp.ws_protocol"
# Closing tasks of viewers that fell behind (rare); kept so they are not garbage-collected mid-way.
_closing: set[asyncio.Task[None]] = set()
# The kernel's send buffer of a live viewer (Linux doubles it): ample for live messages of a few hundred bytes,
# and small enough that a viewer who stopped reading fills it soon and then our own limit (ws_send_buffer_bytes).
KERNEL_SEND_BUFFER_BYTES = 64 * 1024
# How long a slow viewer may take to accept its close frame before its connection is cut.
_CLOSE_TIMEOUT = 5.0


def _sansio_protocol_class() -> type | None:
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:  # another server, or a uvicorn without it: the queued path below serves
        return None
    return WebSocketsSansIOProtocol


_SANSIO = _sansio_protocol_class()


def tune_garbage_collector() -> None:
    """For a process holding thousands of long-lived connection objects, called once it has started.

    With CPython's default thresholds a full collection ran every few seconds under a vote burst and walked
    every object of every open connection: 6.9 s of collection pauses in a 2.5-minute run with 5,000 viewers
    (docs/performance.md). Collecting the young generation every 50,000 allocations instead of 700, and
    freezing what startup created (modules, templates, catalogues), brought that to 1.1 s. Cycles still get
    collected, just in fewer, larger steps.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


class WebSocketTap:
    """Outermost middleware: remembers uvicorn's protocol object of a websocket, whose bound `send` we get.

    Live broadcasts are then written to its transport directly, as one pre-encoded frame shared by all
    viewers, instead of through one awaited ASGI `send` per viewer (see `_Client.deliver`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain function: no frame of ours stays alive for as long as the websocket is open.
        if scope["type"] == "websocket" and _SANSIO is not None:
            owner = getattr(send, "__self__", None)
            if isinstance(owner, _SANSIO):
                scope[_PROTOCOL_SCOPE_KEY] = owner
        return self.app(scope, receive, send)


class _Client:
    """One live connection, and the hub's subscriber for it.

    Until its snapshot (or replay) is sent, broadcasts wait in `_held` (bounded by the hub's queue size);
    then `go_live` writes them and every later broadcast is written at once in `deliver`, on the publisher's
    call stack. With uvicorn's sans-I/O websockets the shared frame goes straight to the transport; a write
    buffer beyond `send_buffer_bytes` closes the connection with 4008 instead of growing. Elsewhere a bounded
    queue and one sender task do the same job.
    """

    __slots__ = (
        "_buffer_limit", "_closing", "_held", "_held_limit", "_hub", "_protocol", "_queue", "_send_lock",
        "device", "event_id", "is_staff", "is_studio", "last_seq", "websocket",
    )  # fmt: skip

    def __init__(
        self, websocket: WebSocket, event_id: int, is_staff: bool, device: str | None, *, is_studio: bool = False
    ) -> None:
        self.websocket = websocket
        self.event_id = event_id
        self.is_staff = is_staff
        self.is_studio = is_studio
        self.device = device
        self.last_seq = 0
        self._send_lock = asyncio.Lock()
        state = app_state(websocket)
        self._hub = state.hub
        self._held_limit = state.hub.queue_size
        self._buffer_limit = state.settings.ws_send_buffer_bytes
        self._held: list[Broadcast] | None = []  # None once live
        self._closing = False
        self._protocol: Any = websocket.scope.get(_PROTOCOL_SCOPE_KEY)
        self._queue: asyncio.Queue[str] | None = None  # only without a transport to write to

    async def send_text(self, text: str) -> None:
        async with self._send_lock:
            await self.websocket.send_text(text)

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_text(protocol.encode(message))

    def deliver(self, broadcast: Broadcast, frame: bytes) -> None:
        if self._closing:
            return
        if self._held is not None:
            if len(self._held) >= self._held_limit:
                self._too_slow()
            else:
                self._held.append(broadcast)
            return
        self._write(broadcast, frame)

    def go_live(self) -> asyncio.Task[None] | None:
        """After the snapshot: write what was held back, and from now on write each broadcast as it comes.

        Returns the sender task when there is no transport to write to directly.
        """
        sender = None
        # Starlette's parsed headers, cookies and query of the handshake were read once, above; they would
        # stay for the life of the connection (docs/performance.md: memory per viewer).
        for cached in ("_headers", "_cookies", "_query_params", "_url"):
            self.websocket.__dict__.pop(cached, None)
        if self._protocol is not None:
            # uvicorn keeps its parsed handshake (request and response with their headers) but never reads
            # them again; about 3 kB per viewer.
            self._protocol.request = self._protocol.response = None
            # The kernel would otherwise grow a stalled viewer's send buffer to megabytes before our own
            # limit is ever reached; capped, a viewer that reads nothing is found after a few hundred kB.
            sock = self._protocol.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError, ValueError):  # ValueError: the connection is gone already
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER_BYTES)
        else:
            self._queue = asyncio.Queue(maxsize=self._held_limit)
            sender = asyncio.get_running_loop().create_task(self._send_queued())
        held, self._held = self._held or [], None
        for broadcast in held:
            if self._closing:
                break
            self._write(broadcast, None)
        return sender

    def _write(self, broadcast: Broadcast, frame: bytes | None) -> None:
        if broadcast.seq != EPHEMERAL_SEQ:
            if broadcast.seq <= self.last_seq:
                return
            self.last_seq = broadcast.seq
        if broadcast.audience != protocol.AUDIENCE_PUBLIC and not changes.visible_to(
            broadcast, is_staff=self.is_staff, device=self.device, is_studio=self.is_studio
        ):
            return
        ws = self._protocol
        if ws is None:
            assert self._queue is not None
            try:
                self._queue.put_nowait(broadcast.text)
            except asyncio.QueueFull:
                self._too_slow()
            return
        transport = ws.transport
        if ws.close_sent or ws.disconnected or transport.is_closing():
            return
        # No await, no lock: a send of our own (snapshot, pong) awaits only before its single write, so
        # frames never interleave.
        transport.write(frame if frame is not None else text_frame(broadcast.text))
        if transport.get_write_buffer_size() > self._buffer_limit:
            self._too_slow()

    async def _send_queued(self) -> None:
        assert self._queue is not None
        try:
            while True:
                await self.send_text(await self._queue.get())
        except (RuntimeError, OSError, WebSocketDisconnect):
            pass  # the connection ended; the receive loop ends with it

    def _too_slow(self) -> None:
        self._closing = True
        self._hub.unsubscribe(self.event_id, self)
        task = asyncio.get_running_loop().create_task(self._close_too_slow())
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    async def _close_too_slow(self) -> None:
        # Too far behind: close so the client resumes from the log instead of slowing everyone.
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self.websocket.close(protocol.CLOSE_TOO_SLOW, "too slow, resume from your last seq")
        except TimeoutError:
            if self._protocol is not None:
                self._protocol.transport.abort()  # it reads nothing; its receive loop then sees the disconnect
        except (RuntimeError, OSError, WebSocketDisconnect):
            pass  # closed already, from either side


def _parse_since(raw: str | None) -> int | None:
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


async def _send_snapshot(client: _Client, state: Any) -> None:
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


async def _send_current_state(client: _Client, state: Any, *, results: bool) -> None:
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


async def _replay(client: _Client, state: Any, since: int) -> None:
    client.last_seq = since
    for broadcast in await changes.since(state.db, client.event_id, since):
        if changes.visible_to(broadcast, is_staff=client.is_staff, device=client.device, is_studio=client.is_studio):
            await client.send_text(broadcast.text)
        client.last_seq = broadcast.seq
    await client.send({"type": protocol.SYNCED, "seq": client.last_seq})
    await _send_current_state(client, state, results=True)


# A client that keeps sending after being told to wait this many times over its budget is closed.
MESSAGES_BEYOND_BUDGET = 100


async def _receive(client: _Client, budget: MessageBudget | None) -> None:
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


async def _react(client: _Client, data: dict[str, Any]) -> None:
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
    client = _Client(websocket, event["id"], moderator is not None, device_id(websocket), is_studio=is_studio)
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
