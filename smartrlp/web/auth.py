"""Who is calling: a moderator by bearer token or login session, checked against the event.

The one place that answers 401 or 403, or sends a page to the login form.
"""

from __future__ import annotations

from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from smartrlp.core.errors import ApiError
from smartrlp.core.i18n import gettext
from smartrlp.db.store import utcnow
from smartrlp.services import accounts
from smartrlp.web.http import CSRF_HEADER, SESSION_COOKIE, app_state, csrf_matches
from smartrlp.web.middleware.security import SAFE_METHODS


async def authenticate(conn: HTTPConnection) -> accounts.Moderator | None:
    """The moderator behind a bearer token or a login session cookie, or None for a viewer.

    A session-authenticated state change to the JSON API must carry the page's CSRF token in `X-CSRF-Token`
    (forms carry it as the field `csrf`, checked by the administration); bearer tokens are not sent by browsers
    on their own and need none.
    """
    state = app_state(conn)
    authorization = conn.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "Use 'Authorization: Bearer <token>'.")
        row = await state.db.fetchone(
            "SELECT m.id, m.name, m.role, t.id AS token_id, t.last_used_at FROM api_tokens t "
            "JOIN moderators m ON m.id = t.moderator_id WHERE t.token_hash = :hash AND t.revoked_at IS NULL",
            {"hash": accounts.token_hash(token.strip())},
        )
        if row is None:
            raise ApiError(401, "unauthorized", "The bearer token is not valid.")
        if row["last_used_at"] is None or accounts.seconds_since(row["last_used_at"]) > accounts.TOUCH_EVERY_SECONDS:
            async with state.db.transaction() as tx:
                await tx.execute(
                    "UPDATE api_tokens SET last_used_at = :now WHERE id = :id", {"id": row["token_id"], "now": utcnow()}
                )
        return accounts.Moderator.from_row(row)
    session_id = session_of(conn)
    if session_id is None:
        return None
    row = await state.db.fetchone(
        "SELECT m.id, m.name, m.role, s.created_at, s.last_seen_at FROM login_sessions s "
        "JOIN moderators m ON m.id = s.moderator_id WHERE s.id = :id",
        {"id": session_id},
    )
    if row is None:
        return None
    settings = state.settings
    idle = accounts.seconds_since(row["last_seen_at"])
    # The signed cookie's timestamp enforces the absolute limit too; the database decides, so a cookie kept past
    # its Max-Age (or a copied one) is refused. The row stays: /admin/users shows it as the last login.
    if idle > settings.session_idle or accounts.seconds_since(row["created_at"]) > settings.session_max_age:
        return None
    changes_api = conn.scope["type"] == "http" and conn.scope["method"] not in SAFE_METHODS
    if changes_api and conn.url.path.startswith("/api/") and not csrf_matches(conn, conn.headers.get(CSRF_HEADER, "")):
        raise ApiError(
            403, "csrf", f"This change needs the page's CSRF token in the {CSRF_HEADER} header; reload the page."
        )
    if idle > min(accounts.TOUCH_EVERY_SECONDS, settings.session_idle / 4):
        async with state.db.transaction() as tx:
            await tx.execute(
                "UPDATE login_sessions SET last_seen_at = :now WHERE id = :id", {"id": session_id, "now": utcnow()}
            )
    return accounts.Moderator.from_row(row)


def session_of(conn: HTTPConnection) -> str | None:
    """The login session id in the signed cookie, if the signature holds and the cookie is not too old."""
    cookie = conn.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    state = app_state(conn)
    try:
        return state.session_signer.unsign(cookie, max_age=int(state.settings.session_max_age)).decode()
    except (BadSignature, SignatureExpired):
        return None


async def require_moderator(conn: HTTPConnection, event_id: int) -> accounts.Moderator:
    moderator = await authenticate(conn)
    if moderator is None:
        raise ApiError(401, "unauthorized", "Log in as a moderator or send a bearer token.")
    if not await accounts.may_moderate(app_state(conn).db, moderator, event_id):
        raise ApiError(403, "forbidden", "You are not a moderator of this event.")
    return moderator


async def moderator_for(conn: HTTPConnection, event_id: int) -> accounts.Moderator | None:
    """The caller as a moderator of this event, or None: for endpoints that viewers may call too."""
    moderator = await authenticate(conn)
    if moderator is None or not await accounts.may_moderate(app_state(conn).db, moderator, event_id):
        return None
    return moderator


async def moderator_page_access(request: Request, event_id: int) -> accounts.Moderator | Response:
    """For a moderator's HTML page: the moderator, or the redirect to the login form; others get 403."""
    moderator = await authenticate(request)
    if moderator is None:
        return RedirectResponse(login_url(request.url.path), status_code=303)
    if not await accounts.may_moderate(app_state(request).db, moderator, event_id):
        raise ApiError(403, "forbidden", gettext("Sie moderieren diese Veranstaltung nicht."))
    return moderator


def safe_next(target: str | None) -> str:
    # Only paths on this site, so the login form cannot be used to send people elsewhere.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")

