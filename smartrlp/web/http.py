"""HTTP plumbing shared by every feature: JSON bodies, the device cookie, error answers, templates."""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

from smartrlp.core.errors import ApiError

if TYPE_CHECKING:
    from smartrlp.web.state import AppState

log = logging.getLogger("smartrlp")

DEVICE_SCOPE_KEY = "smartrlp.device_id"
SESSION_COOKIE = "srl_session"
CSRF_HEADER = "X-CSRF-Token"


def app_state(conn: HTTPConnection) -> AppState:
    return conn.state.app


def device_id(conn: HTTPConnection) -> str | None:
    return conn.scope.get(DEVICE_SCOPE_KEY)


# The longest key a page may give an action (the same bound as a websocket message's `ref`, which it repeats).
IDEMPOTENCY_KEY_MAX = 64


def idempotency_key(conn: HTTPConnection) -> str | None:
    """The page's key for this action (`Idempotency-Key`; over the websocket the message's `ref`), or None."""
    key = conn.headers.get("idempotency-key")
    if key is None:
        return None
    if not 0 < len(key) <= IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise ApiError(
            422, "invalid", f"Idempotency-Key must be 1-{IDEMPOTENCY_KEY_MAX} printable characters.",
            details={"field": "Idempotency-Key"},
        )
    return key


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


def path_id(request: HTTPConnection, name: str = "question_id", what: str = "question") -> int:
    raw = request.path_params[name]
    # isdigit() alone also takes digits int() refuses, such as "²"; only ASCII digits make an id.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ApiError(404, f"{what}_not_found", f"There is no {what} {raw!r}.")
    return int(raw)


# SQLite stores integers in 64 bits; a larger number in a body would fail deep in a query as a 500.
_SQLITE_INT_MIN, _SQLITE_INT_MAX = -(2**63), 2**63 - 1


class NumberTooLarge(ValueError):
    pass


def _parse_int(text: str) -> int:
    number = int(text)
    if not _SQLITE_INT_MIN <= number <= _SQLITE_INT_MAX:
        raise NumberTooLarge(text)
    return number


def loads_bounded(raw: str | bytes) -> Any:
    """`json.loads`, refusing integers the database cannot store (NumberTooLarge): for bodies and live messages."""
    return json.loads(raw, parse_int=_parse_int)


def number_too_large() -> ApiError:
    return ApiError(422, "invalid", "A number in the request body is too large.")


async def read_json(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json).")
    raw = await request.body()
    try:
        data = loads_bounded(raw)
    except NumberTooLarge:
        raise number_too_large() from None
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "The request body must be a JSON object.")
    return data


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


def wants_json(request: HTTPConnection) -> bool:
    return request.url.path.startswith(("/api/", "/ws/")) or request.url.path in {"/healthz", "/openapi.json"}
