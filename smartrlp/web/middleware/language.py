"""The language of each request: from `?lang=` (remembered in a cookie), the cookie, Accept-Language, or German."""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartrlp.core.i18n import LANGUAGE_COOKIE, language, language_of, set_language


class LanguageSelector:
    """Sets the request's language for templates and error texts; `?lang=xx` is remembered in a cookie."""

    def __init__(self, app: ASGIApp, secure: bool) -> None:
        self.app = app
        self.secure = secure

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "websocket":
            # The websocket runs in its own task, which ends with it: set the language for the task and
            # hand over without a frame of our own, kept for as long as the connection (docs/performance.md).
            set_language(language_of(scope)[0])
            return self.app(scope, receive, send)
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        code, remember = language_of(scope)

        async def send_with_cookie(message: Message) -> None:
            if remember and message["type"] == "http.response.start":
                value = f"{LANGUAGE_COOKIE}={code}; Path=/; Max-Age=31536000; SameSite=Lax" + (
                    "; Secure" if self.secure else ""
                )
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", value.encode())]}
            await send(message)

        with language(code):
            await self.app(scope, receive, send_with_cookie)
