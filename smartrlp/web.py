"""HTTP plumbing shared by every feature: JSON bodies, the device cookie, error answers, templates."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from itsdangerous import BadSignature, Signer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartrlp import i18n
from smartrlp.errors import ApiError, BodyTooLarge
from smartrlp.i18n import Catalogues

if TYPE_CHECKING:
    from smartrlp.app import AppState

log = logging.getLogger("smartrlp")

DEVICE_COOKIE = "srl_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600
DEVICE_SCOPE_KEY = "smartrlp.device_id"


def app_state(conn: HTTPConnection) -> AppState:
    return conn.state.app


def device_id(conn: HTTPConnection) -> str | None:
    return conn.scope.get(DEVICE_SCOPE_KEY)


def require_device(conn: HTTPConnection) -> str:
    device = device_id(conn)
    if device is None:
        raise ApiError(400, "no_device", "This request needs the device cookie the server sets.")
    return device


async def read_json(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json).")
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "The request body must be a JSON object.")
    return data


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


def wants_json(request: HTTPConnection) -> bool:
    return request.url.path.startswith(("/api/", "/ws/")) or request.url.path in {"/healthz", "/openapi.json"}


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if wants_json(request):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
    return render_error(request, exc.status, exc.message)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=headers)
    if wants_json(request):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse({"error": {"code": code, "message": exc.detail}}, exc.status_code, headers)
    return render_error(request, exc.status_code, exc.detail)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    # The last line of defence: log it with the traceback, answer in the client's format, keep serving.
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    if wants_json(request):
        body = {"error": {"code": "internal", "message": "Something went wrong on our side."}}
        return JSONResponse(body, status_code=500)
    return render_error(request, 500, "Something went wrong on our side.")


def N_(message: str) -> str:  # the name `pybabel extract` knows for "mark only"
    """Marks a German text for the catalogue without translating it: `gettext` translates it where it is shown."""
    return message


# German; render_error translates them into the request's language.
_ERROR_TITLES = {
    401: N_("Anmeldung erforderlich"),
    403: N_("Kein Zugriff"),
    404: N_("Seite nicht gefunden"),
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
    }
)


def render(request: Request, name: str, /, status: int = 200, **context: Any) -> HTMLResponse:
    # `name` is positional-only so that templates may take a variable called `name` (the login form does).
    templates = app_state(request).templates
    context.setdefault("request", request)
    translated = name in TRANSLATED_TEMPLATES
    with i18n.language(i18n.current_language() if translated else i18n.DEFAULT_LANGUAGE):
        html = templates.get_template(name).render(translated=translated, **context)
    return HTMLResponse(html, status_code=status)


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


class SecurityHeaders:
    """Headers every response carries; the content security policy forbids inline script."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Hands a websocket over without a frame of its own (see DeviceCookie).
        return self._http(scope, receive, send) if scope["type"] == "http" else self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        csp = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-src https://www.youtube-nocookie.com https://www.facebook.com; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
        )
        extra = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"content-security-policy", csp.encode()),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
