"""Log hygiene: uvicorn's per-connection websocket lines name visitors' addresses."""

from __future__ import annotations

import logging
import os

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class NoVisitorAddresses(logging.Filter):
    """Drops uvicorn's per-connection websocket lines ('1.2.3.4:5678 - "WebSocket /ws/..." [accepted]'), which
    name visitors' addresses like the access log does; installed unless `SMARTRLP_ACCESS_LOG` is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith('%s - "WebSocket')


class WorkerHeader:
    """Names the worker process in every response and websocket handshake (`X-Smartrlp-Worker: <pid>`).

    With several workers on one port the operator (and the tests) can tell which process answered a request
    or holds a websocket, e.g. to read the right log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.header = (b"x-smartrlp-worker", str(os.getpid()).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, send_with_header)
