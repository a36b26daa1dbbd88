"""Request bodies over the limit are refused with 413, announced or not."""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartrlp.core.errors import BodyTooLarge


class BodySizeLimit:
    """Refuse bodies over the limit with 413, whether or not the client announced their size."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Hands a websocket over without a frame of its own (see DeviceCookie).
        return self._http(scope, receive, send) if scope["type"] == "http" else self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    announced = 0
                if announced > self.max_bytes:
                    error = BodyTooLarge(self.max_bytes)
                    response = JSONResponse(error.body(), status_code=413, headers={"Connection": "close"})
                    await response(scope, receive, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)
