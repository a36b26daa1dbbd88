"""The device cookie: a random id per browser, signed, that counts one vote per device and names no person."""

from __future__ import annotations

from collections.abc import Awaitable
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartrlp.core import i18n
from smartrlp.core.limits import RateLimited, address_key
from smartrlp.web.errors import render_error
from smartrlp.web.http import DEVICE_SCOPE_KEY, client_address, wants_json

if TYPE_CHECKING:
    from smartrlp.web.state import AppState


DEVICE_COOKIE = "srl_device"


DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600


class DeviceCookie:
    """Give every browser a random device id in a signed, HttpOnly cookie, set on its first response.

    The id counts one vote per device and lets askers see their own questions; it names no person.
    """

    def __init__(self, app: ASGIApp, secure: bool) -> None:
        self.app = app
        self.secure = secure

    # A plain function where it only hands over: a websocket then keeps no frame of ours alive for as long as
    # it is open (thousands of them, docs/performance.md).
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] not in {"http", "websocket"}:
            return self.app(scope, receive, send)
        state: AppState = scope["state"]["app"]
        device = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookie = SimpleCookie()
                try:
                    cookie.load(value.decode("latin-1"))
                except Exception:  # noqa: S112 - a mangled cookie header just means no device yet
                    continue
                if DEVICE_COOKIE in cookie:
                    device = state.device_signer.verify(cookie[DEVICE_COOKIE].value)
        # Static files need no device, and a cookie on them would only keep caches from keeping them.
        static = scope["type"] == "http" and scope["path"].startswith("/static/")
        if device is not None or scope["type"] == "websocket" or static:
            scope[DEVICE_SCOPE_KEY] = device
            return self.app(scope, receive, send)
        return self._issue(scope, receive, send, state)

    async def _issue(self, scope: Scope, receive: Receive, send: Send, state: AppState) -> None:
        # A new id is handed out, but this request does not act as that device: otherwise every cookie-less
        # request would be a new device, and one script could vote as many devices as it sends requests.
        scope[DEVICE_SCOPE_KEY] = None
        # New devices per address are limited too, or a script could still collect as many as it likes.
        try:
            await state.limiter.check("new devices", device_address=address_key(client_address(HTTPConnection(scope))))
        except RateLimited as limited:
            if scope["path"].startswith("/static/") or scope["path"] == "/healthz":
                await self.app(scope, receive, send)  # served, just without a device
                return
            request = Request(scope, receive)
            if wants_json(request):
                response: Response = JSONResponse(limited.body(), status_code=429, headers=limited.headers)
            else:
                response = render_error(
                    request,
                    429,
                    i18n.gettext(
                        "Von Ihrem Netzwerk kommen gerade sehr viele neue Besucher. Bitte laden Sie die Seite in einer "
                        "Minute neu."
                    ),
                )
                response.headers.update(limited.headers)
            await response(scope, receive, send)
            return
        _, signed = state.device_signer.issue()
        set_cookie = f"{DEVICE_COOKIE}={signed}; Path=/; Max-Age={DEVICE_COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax" + (
            "; Secure" if self.secure else ""
        )

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", set_cookie.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
