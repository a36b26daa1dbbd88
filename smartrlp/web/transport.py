"""The websocket transport of live clients: one pre-encoded frame written to every viewer's transport.

No task or queue per viewer; a viewer that falls too far behind is closed and resumes from the change log.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
from collections.abc import Awaitable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from smartrlp.core import metrics
from smartrlp.realtime import changes, protocol
from smartrlp.realtime.hub import EPHEMERAL_SEQ, Broadcast, text_frame
from smartrlp.web.http import app_state

log = logging.getLogger("smartrlp.live")


# Where `WebSocketTap` leaves uvicorn's protocol object of a websocket connection in the ASGI scope.
_PROTOCOL_SCOPE_KEY = "smartrlp.ws_protocol"


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


# Closing tasks of viewers that fell behind (rare); kept so they are not garbage-collected mid-way.
_closing: set[asyncio.Task[None]] = set()


class WebSocketTap:
    """Outermost middleware: remembers uvicorn's protocol object of a websocket, whose bound `send` we get.

    Live broadcasts are then written to its transport directly, as one pre-encoded frame shared by all
    viewers, instead of through one awaited ASGI `send` per viewer (see `LiveClient.deliver`).
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


class LiveClient:
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
        metrics.SLOW_VIEWERS.inc()
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



class LiveWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol with a clean goodbye on shutdown (live.py bounds its send buffer)."""

    def shutdown(self) -> None:
        if not self.handshake_complete or self.close_sent:
            super().shutdown()
            return
        # As uvicorn's own shutdown, but with 1001: the app hears of it as a disconnect, the client as going away.
        self.stop_keepalive()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": protocol.CLOSE_GOING_AWAY})
        self.conn.send_close(protocol.CLOSE_GOING_AWAY, "server restarting, resume with since")
        self.close_sent = True
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()

