"""Who is calling: a moderator by bearer token or login session, checked against the event or the admin role.

The one place that answers 401 or 403, or sends a page to the login form; and the guards of the administration's
HTML forms (the admin role, the CSRF field), so that no view imports them from another.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired
from starlette.datastructures import FormData
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from smartrlp.core.errors import ApiError
from smartrlp.core.i18n import N_, gettext
from smartrlp.services import accounts
from smartrlp.web.http import CSRF_HEADER, SESSION_COOKIE, app_state, csrf_matches, csrf_token
from smartrlp.web.middleware.security import SAFE_METHODS
from smartrlp.web.pages import render


async def authenticate(conn: HTTPConnection) -> accounts.Moderator | None:
    """The moderator behind a bearer token or a login session cookie, or None for a viewer.

    A session-authenticated state change to the JSON API must carry the page's CSRF token in `X-CSRF-Token`
    (forms carry it as the field `csrf`, see `checked_form`); bearer tokens are not sent by browsers on their own
    and need none.
    """
    ctx = app_state(conn).ctx
    authorization = conn.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "Use 'Authorization: Bearer <token>'.")
        moderator = await accounts.token_moderator(ctx, token.strip())
        if moderator is None:
            raise ApiError(401, "unauthorized", "The bearer token is not valid.")
        return moderator
    session_id = session_of(conn)
    session = await accounts.live_session(ctx, session_id) if session_id is not None else None
    if session is None:
        return None
    changes_api = conn.scope["type"] == "http" and conn.scope["method"] not in SAFE_METHODS
    if changes_api and conn.url.path.startswith("/api/") and not csrf_matches(conn, conn.headers.get(CSRF_HEADER, "")):
        raise ApiError(
            403, "csrf", f"This change needs the page's CSRF token in the {CSRF_HEADER} header; reload the page."
        )
    # After the CSRF check: a refused request does not keep the session alive.
    await accounts.touch_session(ctx, session)
    return session.moderator


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


# --- the administration: pages for the role `admin`, forms with a CSRF field --------------------------------------

ADMINS_ONLY = N_("Die Verwaltung ist Administratorinnen und Administratoren vorbehalten.")


async def admin_or_redirect(request: Request) -> accounts.Moderator | Response:
    """The admin calling, or the redirect to the login form; a moderator without the role gets 403."""
    try:
        moderator = await authenticate(request)
    except ApiError:
        moderator = None
    if moderator is None:
        return RedirectResponse(login_url(request.url.path), status_code=303)
    if moderator.role != "admin":
        raise ApiError(403, "forbidden", gettext(ADMINS_ONLY))
    return moderator


AdminHandler = Callable[[Request, accounts.Moderator], Awaitable[Response]]


def admins_only(handler: AdminHandler) -> Callable[[Request], Awaitable[Response]]:
    """A page or form handler of the administration: called with the admin (`admin_or_redirect`), else not at all."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        actor = await admin_or_redirect(request)
        if isinstance(actor, Response):
            return actor
        return await handler(request, actor)

    return guarded


async def checked_form(request: Request) -> FormData:
    """The posted form, if its `csrf` field is the token of this login session; 403 otherwise."""
    form = await request.form()
    sent = str(form.get("csrf", ""))
    if not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise ApiError(
            403,
            "csrf",
            gettext("Das Formular ist abgelaufen oder kam nicht von dieser Seite. Bitte laden Sie die Seite neu."),
        )
    return form


def admin_page(
    request: Request, template: str, moderator: accounts.Moderator, status: int = 200, **context: Any
) -> Response:
    """An administration page: with the admin for the header and the CSRF token for its forms."""
    return render(request, template, status=status, moderator=moderator, csrf=csrf_token(request), **context)
