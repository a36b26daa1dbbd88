"""Running the app under uvicorn, with a goodbye to the live connections on shutdown.

uvicorn ends open websockets with 1012 ("service restart") by cutting them off. `GoingAwayServer` first stops
listening and closes every live connection of its process cleanly with 1001 ("going away"), so that clients
know to reconnect and resume from their last seq. With several worker processes give each the same server class
(uvicorn's `Multiprocess(config, target=GoingAwayServer(config).run, ...)`): each closes its own connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from smartrlp import live

# Open websockets must not hold up a restart for long: clients resume from their last seq.
GRACEFUL_SHUTDOWN_SECONDS = 5
# A frame larger than this closes the connection with 1009 before it is read into memory; frames up to it but
# over protocol.MAX_CLIENT_MESSAGE_BYTES get an `error` message (uvicorn's default would be 16 MiB per frame).
MAX_FRAME_BYTES = 64 * 1024
# The kernel would let a connection's send buffer grow to megabytes for a client that stopped reading; bounded
# (Linux doubles it), a stalled client's sends block soon, its queue in the hub fills and it is dropped (4008).
WS_SEND_BUFFER_BYTES = 64 * 1024
STARTUP_FAILURE = 3  # uvicorn's own exit code when the server could not start


class BoundedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's default websocket implementation, with a bounded kernel send buffer per connection."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # not a TCP socket (a Unix socket in some set-ups): keep the default
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, WS_SEND_BUFFER_BYTES)
        super().connection_made(transport)


class GoingAwayServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Stop listening first, so that clients reconnecting at once are refused rather than sent away again.
        for server in self.servers:
            server.close()
        await live.open_sockets.close_all()
        await super().shutdown(sockets)


def config(app: ASGIApp | str, *, host: str, port: int, log_level: str, **options: object) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        ws=BoundedWebSocketProtocol,
        ws_max_size=MAX_FRAME_BYTES,
        **options,  # type: ignore[arg-type]
    )


def run(app: ASGIApp, *, host: str, port: int, log_level: str) -> None:
    server = GoingAwayServer(config(app, host=host, port=port, log_level=log_level))
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
