"""HTTP plumbing shared by every feature: JSON bodies, the device cookie, error answers, templates."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from itsdangerous import BadSignature, Signer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartrlp.core import i18n
from smartrlp.core.errors import ApiError, BodyTooLarge
from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.core.i18n import Catalogues
from smartrlp.core.limits import RateLimited, address_key

if TYPE_CHECKING:
    from smartrlp.app import AppState
    from smartrlp.core.settings import Settings

log = logging.getLogger("smartrlp")

DEVICE_COOKIE = "srl_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600
DEVICE_SCOPE_KEY = "smartrlp.device_id"
SESSION_COOKIE = "srl_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def app_state(conn: HTTPConnection) -> AppState:
    return conn.state.app


def device_id(conn: HTTPConnection) -> str | None:
    return conn.scope.get(DEVICE_SCOPE_KEY)


def client_address(conn: HTTPConnection) -> str:
    """The client's address: the peer's, or the forwarded one when the peer is a trusted proxy (`TrustedProxy`)."""
    return conn.client.host if conn.client else "unknown"


def csrf_token(conn: HTTPConnection) -> str:
    """The token a page of this login session sends back with a state change (form field or `X-CSRF-Token`).

    Bound to the session cookie: a page on another site can neither read it nor compute it. Empty without a session.
    """
    cookie = conn.cookies.get(SESSION_COOKIE, "")
    if not cookie:
        return ""
    return app_state(conn).session_signer.get_signature(f"csrf:{cookie}").decode()


def csrf_matches(conn: HTTPConnection, sent: str) -> bool:
    expected = csrf_token(conn)
    return bool(sent and expected) and hmac.compare_digest(sent, expected)


def require_device(conn: HTTPConnection) -> str:
    device = device_id(conn)
    if device is None:
        raise ApiError(400, "no_device", "This request needs the device cookie the server sets.")
    return device


# SQLite stores integers in 64 bits; a larger number in a body would fail deep in a query as a 500.
_SQLITE_INT_MIN, _SQLITE_INT_MAX = -(2**63), 2**63 - 1


class _NumberTooLarge(ValueError):
    pass


def _parse_int(text: str) -> int:
    number = int(text)
    if not _SQLITE_INT_MIN <= number <= _SQLITE_INT_MAX:
        raise _NumberTooLarge(text)
    return number


async def read_json(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json).")
    raw = await request.body()
    try:
        data = json.loads(raw, parse_int=_parse_int)
    except _NumberTooLarge:
        raise ApiError(422, "invalid", "A number in the request body is too large.") from None
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "The request body must be a JSON object.")
    return data


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


def wants_json(request: HTTPConnection) -> bool:
    return request.url.path.startswith(("/api/", "/ws/")) or request.url.path in {"/healthz", "/openapi.json"}


def N_(message: str) -> str:  # the name `pybabel extract` knows for "mark only"
    """Marks a German text for the catalogue without translating it: `gettext` translates it where it is shown."""
    return message


# A page says in its own language what the API says in English for programs (the API's messages stay English).
_PAGE_DETAILS = {"event_not_found": N_("Diese Veranstaltung gibt es nicht (mehr). Bitte prüfen Sie die Adresse.")}
_NOT_FOUND = N_("Diese Adresse gibt es nicht. Bitte prüfen Sie, ob sie richtig geschrieben ist.")


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if wants_json(request):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
    detail = i18n.gettext(_PAGE_DETAILS[exc.code]) if exc.code in _PAGE_DETAILS else exc.message
    return render_error(request, exc.status, detail)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=headers)
    if wants_json(request):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse({"error": {"code": code, "message": exc.detail}}, exc.status_code, headers)
    # Starlette's details are English reason phrases ("Not Found"); a page says it in the page's language.
    detail = i18n.gettext(_NOT_FOUND) if exc.status_code == 404 else exc.detail
    return render_error(request, exc.status_code, detail)


_UNEXPECTED = N_("Der Fehler liegt bei uns, nicht bei Ihnen. Bitte versuchen Sie es gleich noch einmal.")


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    # The last line of defence: log it with the traceback, answer in the client's format, keep serving.
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    if wants_json(request):
        body = {"error": {"code": "internal", "message": "Something went wrong on our side."}}
        return JSONResponse(body, status_code=500)
    # Starlette calls this handler from its outermost layer, outside every middleware: the language chosen for
    # the request has been reset by the time the exception gets here, so it is chosen again.
    code, _remember = i18n.language_of(request.scope)
    with i18n.language(code):
        return render_error(request, 500, i18n.gettext(_UNEXPECTED))


# German; render_error translates them into the request's language.
_ERROR_TITLES = {
    401: N_("Anmeldung erforderlich"),
    403: N_("Kein Zugriff"),
    404: N_("Seite nicht gefunden"),
    429: N_("Bitte einen Moment warten"),
    500: N_("Ein Fehler ist aufgetreten"),
}


def render_error(request: Request, status: int, detail: str) -> Response:
    try:
        templates = app_state(request).templates
    except AttributeError:
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status)
    # In the request's language; `detail` comes from the code as it is.
    title = i18n.gettext(_ERROR_TITLES[status]) if status in _ERROR_TITLES else i18n.gettext("Anfrage nicht möglich")
    html = templates.get_template("error.html").render(status=status, title=title, detail=detail, translated=True)
    return HTMLResponse(html, status_code=status)


def page_config(data: dict[str, Any]) -> str:
    """JSON for a `<script type="application/json">` block; `<`, `>` and `&` escaped so no text can end it."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


EVENT_TIMEZONE = ZoneInfo("Europe/Berlin")


def event_time_range(starts_at: str | None, ends_at: str | None = None) -> str:
    """ "Donnerstag, 3. Dezember 2026 um 17:30 – 19:00 Uhr" (or the English form), in the events' own time zone."""
    if not starts_at:
        return ""
    language = i18n.current_language()
    # The date as people write it in each language; Babel supplies the month and day names.
    full, clock, suffix = {
        "de": ("EEEE, d. MMMM y 'um' HH:mm", "HH:mm", " Uhr"),
        "en": ("EEEE d MMMM y 'at' HH:mm", "HH:mm", ""),
    }[language]
    start = datetime.fromisoformat(starts_at.replace("Z", "+00:00"))
    text = format_datetime(start, full, tzinfo=EVENT_TIMEZONE, locale=language)
    if ends_at:
        end = datetime.fromisoformat(ends_at.replace("Z", "+00:00"))
        same_day = start.astimezone(EVENT_TIMEZONE).date() == end.astimezone(EVENT_TIMEZONE).date()
        text += " – " + format_datetime(end, clock if same_day else full, tzinfo=EVENT_TIMEZONE, locale=language)
    return text + suffix


def event_clock(iso: str | None) -> str:
    """ "17:30": the time of day in the events' time zone."""
    if not iso:
        return ""
    return format_datetime(datetime.fromisoformat(iso.replace("Z", "+00:00")), "HH:mm", tzinfo=EVENT_TIMEZONE)


def make_templates(directory: str, catalogues: Catalogues) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["event_time_range"] = event_time_range
    environment.filters["event_clock"] = event_clock
    environment.globals["Markup"] = Markup
    # Templates set `maxlength` from these, and base.html hands them to the scripts (static/js/lib/limits.js).
    environment.globals["field_limits"] = dict(FIELD_LIMITS)
    i18n.install(environment, catalogues)
    return environment


# The pages whose every text is translated. The others stay German whatever language was chosen (and offer no
# switch), so that no page says lang="en" over German text; a page joins this set with its translations.
# The presenter screen and the overlay are translated too, but stay German: they show the broadcast, whose language
# is the event's, not that of the studio browser (OBS's sends an English Accept-Language).
TRANSLATED_TEMPLATES = frozenset(
    {
        "viewer.html",
        "join.html",
        "moderate.html",
        "login.html",
        "home.html",
        "error.html",
        "summary.html",
        "privacy.html",
        "accessibility.html",
        "admin/home.html",
        "admin/event_form.html",
        "admin/delete.html",
        "admin/users.html",
        "admin/user_form.html",
        "admin/user_delete.html",
        "admin/user_password_shown.html",
    }
)


def render(request: Request, name: str, /, status: int = 200, **context: Any) -> HTMLResponse:
    # `name` is positional-only so that templates may take a variable called `name` (the login form does).
    templates = app_state(request).templates
    context.setdefault("request", request)
    # For the scripts of logged-in pages (`<meta name="csrf-token">`, sent back by static/js/api.js).
    context.setdefault("csrf_meta", csrf_token(request))
    translated = name in TRANSLATED_TEMPLATES
    with i18n.language(i18n.current_language() if translated else i18n.DEFAULT_LANGUAGE):
        html = templates.get_template(name).render(translated=translated, **context)
    return HTMLResponse(html, status_code=status)


class NoVisitorAddresses(logging.Filter):
    """Drops uvicorn's per-connection websocket lines ('1.2.3.4:5678 - "WebSocket /ws/..." [accepted]'), which
    name visitors' addresses like the access log does; installed unless `SMARTRLP_ACCESS_LOG` is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith('%s - "WebSocket')


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


@dataclass(frozen=True, slots=True)
class DeviceSigner:
    signer: Signer

    def issue(self) -> tuple[str, str]:
        device = secrets.token_urlsafe(16)
        return device, self.signer.sign(device).decode()

    def verify(self, cookie_value: str) -> str | None:
        try:
            return self.signer.unsign(cookie_value).decode()
        except BadSignature:
            return None


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
        if device is not None or scope["type"] == "websocket":
            scope[DEVICE_SCOPE_KEY] = device
            return self.app(scope, receive, send)
        return self._issue(scope, receive, send, state)

    async def _issue(self, scope: Scope, receive: Receive, send: Send, state: AppState) -> None:
        # A new id is handed out, but this request does not act as that device: otherwise every cookie-less
        # request would be a new device, and one script could vote as many devices as it sends requests.
        scope[DEVICE_SCOPE_KEY] = None
        # New devices per address are limited too, or a script could still collect as many as it likes.
        try:
            state.limiter.hit("new devices", device_address=address_key(client_address(HTTPConnection(scope))))
        except RateLimited as limited:
            if scope["path"].startswith("/static/") or scope["path"] == "/healthz":
                await self.app(scope, receive, send)  # served, just without a device
                return
            request = Request(scope, receive)
            if wants_json(request):
                response: Response = JSONResponse(limited.body(), status_code=429, headers=limited.headers)
            else:
                response = render_error(request, 429, i18n.gettext(
                    "Von Ihrem Netzwerk kommen gerade sehr viele neue Besucher. Bitte laden Sie die Seite in einer "
                    "Minute neu."
                ))
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


# The stream providers' embed addresses (smartrlp/streams.py): the only frames the viewer page may show.
STREAM_FRAME_SOURCES = ("https://www.youtube-nocookie.com", "https://www.facebook.com")
_VIEWER_PAGE = re.compile(r"^/e/[^/]+/?$")
_OVERLAY_PAGE = re.compile(r"^/e/[^/]+/overlay/?$")
HSTS = "max-age=31536000"  # a year; no includeSubDomains, a city's other hosts may not all speak HTTPS


def content_security_policy(path: str, overlay_ancestors: str = "") -> str:
    frames = " ".join(STREAM_FRAME_SOURCES) if _VIEWER_PAGE.match(path) else "'none'"
    ancestors = overlay_ancestors if overlay_ancestors and _OVERLAY_PAGE.match(path) else "'none'"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"frame-src {frames}; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}; object-src 'none'"
    )


class SecurityHeaders:
    """Headers every response carries: no inline script, frames only from the stream providers and only on the
    viewer page, no page framed by others (except the overlay where configured), HSTS over HTTPS."""

    def __init__(self, app: ASGIApp, overlay_frame_ancestors: str = "") -> None:
        self.app = app
        ancestors = " ".join(overlay_frame_ancestors.replace(",", " ").split())
        # Every response carries them, so they are built and encoded once per kind of page, not per request.
        self._by_kind = {
            kind: self._headers(content_security_policy(path, ancestors))
            for kind, path in (("viewer", "/e/x"), ("overlay", "/e/x/overlay"), ("other", "/"))
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
        kind = "viewer" if _VIEWER_PAGE.match(path) else "overlay" if _OVERLAY_PAGE.match(path) else "other"
        extra = self._by_kind[kind]
        if scope.get("scheme") == "https":  # set by TrustedProxy from a trusted proxy, or TLS in the server
            extra = [*extra, (b"strict-transport-security", HSTS.encode())]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def parse_networks(setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    from smartrlp.core.settings import SettingsError

    networks = []
    for part in setting.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(f"SMARTRLP_TRUSTED_PROXIES: {part!r} is not an address or network") from None
    return tuple(networks)


class TrustedProxy:
    """The real client address and scheme behind reverse proxies, believed only from `SMARTRLP_TRUSTED_PROXIES`.

    Anyone can send `X-Forwarded-For`; believing it from everybody would let a viewer pick the address their limits
    count under. From a trusted proxy, the client is the right-most address in the chain that is not itself a
    trusted proxy. Uvicorn's own proxy handling is turned off (`cmd_serve`), so this is the one place that decides.
    """

    def __init__(self, app: ASGIApp, trusted: str = "") -> None:
        self.app = app
        self.trusted = parse_networks(trusted)
        self._warned = False

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    # A plain function: it only rewrites the scope, and a websocket keeps no frame of ours alive (see DeviceCookie).
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] in {"http", "websocket"}:
            self._rewrite(scope)
        return self.app(scope, receive, send)

    def _rewrite(self, scope: Scope) -> None:
        headers = {n.decode("latin-1"): v.decode("latin-1") for n, v in scope["headers"] if n in _PROXY_HEADERS}
        peer = scope["client"][0] if scope.get("client") else ""
        if headers and not self._is_trusted(peer):
            if not self._warned and self.trusted == () and ("x-forwarded-for" in headers or "forwarded" in headers):
                self._warned = True
                log.warning(
                    "ignoring X-Forwarded-For/Forwarded from %s: if the server runs behind a reverse proxy, "
                    "set SMARTRLP_TRUSTED_PROXIES to its address, or every visitor counts as one address",
                    peer,
                )
        elif headers:
            chain, proto = _forwarded(headers)
            client = next((a for a in reversed(chain) if not self._is_trusted(a)), chain[0] if chain else None)
            # In place, as uvicorn's own proxy middleware does, so that its access log names the real client too.
            if client:
                scope["client"] = (client, 0)
            if proto in {"http", "https"}:
                secure = proto == "https"
                scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto


_PROXY_HEADERS = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"forwarded"})


def _forwarded(headers: dict[str, str]) -> tuple[list[str], str | None]:
    """(client chain, left to right; the scheme the last proxy saw) from X-Forwarded-* or RFC 7239 Forwarded."""
    if "x-forwarded-for" in headers:
        chain = [a.strip() for a in headers["x-forwarded-for"].split(",") if a.strip()]
        proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower() or None
        return [_bare_address(a) for a in chain], proto
    chain, proto = [], None
    for element in headers.get("forwarded", "").split(","):
        for pair in element.split(";"):
            key, _, value = pair.strip().partition("=")
            value = value.strip().strip('"')
            if key.lower() == "for" and value:
                chain.append(_bare_address(value))
            elif key.lower() == "proto" and value:
                proto = value.lower()
    if proto is None and "x-forwarded-proto" in headers:
        proto = headers["x-forwarded-proto"].split(",")[-1].strip().lower()
    return chain, proto


def _bare_address(value: str) -> str:
    """ "[2001:db8::1]:4711" -> "2001:db8::1", "192.0.2.1:4711" -> "192.0.2.1"."""
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        return value.partition(":")[0]
    return value


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
