"""Web hygiene for what the pages load: compression, cache lifetimes and content-hashed addresses.

- Compression: Starlette's GZipMiddleware (it compresses streamed bodies chunk by chunk and never touches
  websockets). Not for requests with a login session: their pages carry the CSRF token next to text the request
  can reflect, which compression would let an attacker guess byte by byte (BREACH). Viewers, the crowd, get it.
- Caching: a static file asked for with its content hash (`?v=…`, what `static_url` writes into the pages) never
  changes at that address, so browsers keep it a year without asking again; without the hash (a script module
  imported by another) it is revalidated each time with its ETag (a 304 costs no body).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartrlp.web.http import SESSION_COOKIE

# Below this a compressed body saves less than the header costs.
GZIP_MINIMUM_BYTES = 500
STATIC_PREFIX = "/static/"
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"


class Compression:
    """gzip for clients that accept it, except for logged-in requests (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.plain = app
        self.gzip = GZipMiddleware(app, minimum_size=GZIP_MINIMUM_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _has_session(scope):
            await self.plain(scope, receive, send)
            return
        await self.gzip(scope, receive, send)


def _has_session(scope: Scope) -> bool:
    cookie = Headers(scope=scope).get("cookie", "")
    return f"{SESSION_COOKIE}=" in cookie


class StaticCaching:
    """Cache-Control for /static/: a year for hashed addresses, revalidation for the others."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(STATIC_PREFIX):
            await self.app(scope, receive, send)
            return
        hashed = b"v=" in scope.get("query_string", b"")

        async def send_with_caching(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = (IMMUTABLE if hashed else REVALIDATE).decode()
            await send(message)

        await self.app(scope, receive, send_with_caching)


def static_url_for(static_dir: Path) -> object:
    """The Jinja global `static_url("css/app.css")`: the address with the file's content hash."""

    @lru_cache(maxsize=256)
    def digest(path: str, mtime_ns: int) -> str:
        return hashlib.sha256((static_dir / path).read_bytes()).hexdigest()[:12]

    def static_url(path: str) -> str:
        file = static_dir / path
        try:
            # The modification time in the key: an edited file (while developing) gets a new hash at once.
            version = digest(path, file.stat().st_mtime_ns)
        except OSError:
            return f"{STATIC_PREFIX}{path}"
        return f"{STATIC_PREFIX}{path}?v={version}"

    return static_url
