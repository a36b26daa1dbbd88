"""Security headers on every response and the cross-site guard for every state change."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartrlp.core import i18n
from smartrlp.core.streams import youtube_video_id
from smartrlp.web.errors import render_error
from smartrlp.web.http import wants_json

if TYPE_CHECKING:
    from smartrlp.core.settings import Settings


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# The stream providers' embed addresses (smartrlp/streams.py): the only frames the viewer page may show.
STREAM_FRAME_SOURCES = ("https://www.youtube-nocookie.com", "https://www.facebook.com")


_VIEWER_PAGE = re.compile(r"^/e/[^/]+/?$")


_OVERLAY_PAGE = re.compile(r"^/e/[^/]+/overlay/?$")


HSTS = "max-age=31536000"  # a year; no includeSubDomains, a city's other hosts may not all speak HTTPS


# The sign-language page: its video, if the operator's is a YouTube one, behind the same consent as the stream.
_SIGN_LANGUAGE_PAGE = re.compile(r"^/gebaerdensprache/?$")


def content_security_policy(path: str, overlay_ancestors: str = "", sign_video_origin: str = "") -> str:
    viewer = bool(_VIEWER_PAGE.match(path))
    sign = bool(_SIGN_LANGUAGE_PAGE.match(path))
    # The sign-language page frames its video after consent: YouTube's, or the operator's host (a file elsewhere).
    sign_frames = " ".join(dict.fromkeys((STREAM_FRAME_SOURCES[0], sign_video_origin or STREAM_FRAME_SOURCES[0])))
    frames = " ".join(STREAM_FRAME_SOURCES) if viewer else sign_frames if sign else "'none'"
    ancestors = overlay_ancestors if overlay_ancestors and _OVERLAY_PAGE.match(path) else "'none'"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"frame-src {frames}; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}; "
        "object-src 'none'"
    )


class SecurityHeaders:
    """Headers every response carries: no inline script, frames only from the stream providers and only on the
    viewer page, no page framed by others (except the overlay where configured), HSTS over HTTPS."""

    def __init__(self, app: ASGIApp, overlay_frame_ancestors: str = "", sign_video_url: str = "") -> None:
        self.app = app
        ancestors = " ".join(overlay_frame_ancestors.replace(",", " ").split())
        parts = urlsplit(sign_video_url)
        # A YouTube video is framed from youtube-nocookie.com like the stream; another host's file from that host.
        elsewhere = parts.scheme in {"http", "https"} and parts.netloc and youtube_video_id(sign_video_url) is None
        sign_origin = f"{parts.scheme}://{parts.netloc}" if elsewhere else ""
        # Every response carries them, so they are built and encoded once per kind of page, not per request.
        self._by_kind = {
            kind: self._headers(content_security_policy(path, ancestors, sign_origin))
            for kind, path in (
                ("viewer", "/e/x"),
                ("overlay", "/e/x/overlay"),
                ("sign", "/gebaerdensprache"),
                ("other", "/"),
            )
        }

    @staticmethod
    def _headers(csp: str) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"content-security-policy", csp.encode()),
        ]
        if "frame-ancestors 'none'" in csp:
            headers.append((b"x-frame-options", b"DENY"))  # for browsers that predate frame-ancestors
        return headers

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Hands a websocket over without a frame of its own (see DeviceCookie).
        return self._http(scope, receive, send) if scope["type"] == "http" else self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        kind = (
            "viewer"
            if _VIEWER_PAGE.match(path)
            else "overlay"
            if _OVERLAY_PAGE.match(path)
            else "sign"
            if _SIGN_LANGUAGE_PAGE.match(path)
            else "other"
        )
        extra = self._by_kind[kind]
        if scope.get("scheme") == "https":  # set by TrustedProxy from a trusted proxy, or TLS in the server
            extra = [*extra, (b"strict-transport-security", HSTS.encode())]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _origin_of(url: str) -> str:
    parts = urlsplit(url.strip().lower())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def allowed_origins(settings: Settings) -> frozenset[str]:
    """This site's configured address and the origins of `SMARTRLP_ALLOWED_ORIGINS`."""
    origins = {_origin_of(o) for o in settings.allowed_origins.replace(",", " ").split()}
    if settings.public_url:
        origins.add(_origin_of(settings.public_url))
    return frozenset(o for o in origins if o)


def same_site_request(conn: HTTPConnection, allowed: frozenset[str]) -> bool:
    """Whether a browser sent this from a page of this site (or an allowed origin).

    Browsers send `Origin` with every websocket handshake and every POST, PUT, PATCH and DELETE; requests without
    it (and without `Sec-Fetch-Site: cross-site`) come from scripts and command-line tools, which carry no
    visitor's cookies and are let through.
    """
    origin = conn.headers.get("origin")
    if origin is None:
        return conn.headers.get("sec-fetch-site", "same-origin") in {"same-origin", "none"}
    origin = origin.strip().lower()
    if origin in allowed:
        return True
    parts = urlsplit(origin)
    host = conn.headers.get("host", "").lower()
    if not host or parts.netloc != host:
        return False
    # The same host and port. Its scheme is the request's, or https: a TLS proxy this server does not trust
    # (SMARTRLP_TRUSTED_PROXIES unset) still forwards the https page's requests as plain http.
    own_scheme = "https" if conn.url.scheme in {"https", "wss"} else "http"
    return parts.scheme in {own_scheme, "https"}


class CrossSiteGuard:
    """Refuse state changes (POST, PUT, PATCH, DELETE) that a page of another site makes the browser send.

    This covers every cookie-authenticated change at once: the viewer's device cookie (ask, vote, answer, react),
    the login form and logout, the administration's forms and the moderators' API calls; the session-bound CSRF
    token (forms and `X-CSRF-Token`) is checked on top of it where a login session acts. Requests with an
    `Authorization` header carry no ambient credentials and are not checked.
    """

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            return self.app(scope, receive, send)  # without a frame of ours (see DeviceCookie)
        return self._check(scope, receive, send)

    async def _check(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if "authorization" in request.headers or same_site_request(request, self.allowed):
            await self.app(scope, receive, send)
            return
        message = "Cross-site request refused: send it from a page of this site."
        if wants_json(request):
            body = {"error": {"code": "cross_site", "message": message}}
            response: Response = JSONResponse(body, status_code=403)
        else:
            response = render_error(request, 403, i18n.gettext("Diese Anfrage kam nicht von dieser Seite."))
        await response(scope, receive, send)
