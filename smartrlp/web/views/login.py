"""Logging in and out: the login form, its throttling per account name and per address, and logout."""

from __future__ import annotations

import time

from itsdangerous import BadSignature
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smartrlp.core.i18n import gettext
from smartrlp.core.limits import Failures, Rate, after_failure
from smartrlp.db.store import Database
from smartrlp.services import accounts
from smartrlp.web.auth import safe_next
from smartrlp.web.http import SESSION_COOKIE, app_state, client_address
from smartrlp.web.pages import render


async def login_page(request: Request) -> Response:
    return render(request, "login.html", next=safe_next(request.query_params.get("next")), error=None)


def _account_key(request: Request, name: str) -> str:
    return app_state(request).session_signer.get_signature(f"login:{name.strip().casefold()}").decode()


async def _account_wait(db: Database, key: str) -> float:
    row = await db.fetchone("SELECT blocked_until FROM login_failures WHERE key = :key", {"key": key})
    return max(0.0, row["blocked_until"] - time.time()) if row is not None else 0.0


async def _account_failed(db: Database, key: str, rate: Rate) -> float:
    """Count a failure; returns the seconds until the next attempt may be made (0: at once)."""
    now = time.time()
    async with db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT failures, window_start, blocked_until FROM login_failures WHERE key = :key", {"key": key}
        )
        before = Failures(row["failures"], row["window_start"], row["blocked_until"]) if row else Failures(0, now)
        after = after_failure(before, rate, now)
        await tx.execute(
            "INSERT INTO login_failures (key, failures, window_start, blocked_until) "
            "VALUES (:key, :failures, :window_start, :blocked_until) ON CONFLICT (key) DO UPDATE SET "
            "failures = excluded.failures, window_start = excluded.window_start, "
            "blocked_until = excluded.blocked_until",
            {
                "key": key,
                "failures": after.failures,
                "window_start": after.window_start,
                "blocked_until": after.blocked_until,
            },
        )
        # Names tried once and never again go when their window is over, so the table stays small.
        await tx.execute(
            "DELETE FROM login_failures WHERE blocked_until < :now AND window_start < :expired",
            {"now": now, "expired": now - rate.period},
        )
    return max(0.0, after.blocked_until - now)


def _wait_text(seconds: float) -> str:
    if seconds <= 90:
        return gettext(
            "Zu viele Fehlversuche. Bitte warten Sie {seconds} Sekunden und versuchen Sie es dann erneut."
        ).format(seconds=max(1, round(seconds)))
    return gettext("Zu viele Fehlversuche. Bitte versuchen Sie es in {minutes} Minuten erneut.").format(
        minutes=round(seconds / 60 + 0.49)
    )


async def login_submit(request: Request) -> Response:
    state = app_state(request)
    form = await request.form()
    name = str(form.get("name", ""))[:200]
    password = str(form.get("password", ""))[:1000]
    next_path = safe_next(str(form.get("next", "")))
    address = client_address(request)
    account_rate = state.limiter.limits.get("login_account")
    key = _account_key(request, name) if name.strip() else None
    wait = state.login_addresses.wait(address)
    if key is not None:
        wait = max(wait, await _account_wait(state.db, key))
    if wait > 0:
        # Refused before the password is checked, and not counted: waiting it out always helps.
        response = render(request, "login.html", status=429, next=next_path, name=name, error=_wait_text(wait))
        response.headers["Retry-After"] = str(max(1, round(wait + 0.49)))
        return response
    moderator = await accounts.check_password(state.db, name, password) if name and password else None
    if moderator is None:
        wait = 0.0
        if name and password:
            state.login_addresses.failed(address)
            wait = state.login_addresses.wait(address)
            if key is not None and isinstance(account_rate, Rate):
                wait = max(wait, await _account_failed(state.db, key, account_rate))
        response = render(
            request,
            "login.html",
            status=401,
            next=next_path,
            name=name,
            error=gettext("Name oder Passwort stimmt nicht."),
        )
        if wait > 0:  # says when the next attempt will be taken (scripts read it; the page tells on the next try)
            response.headers["Retry-After"] = str(max(1, round(wait + 0.49)))
        return response
    if key is not None:
        async with state.db.transaction() as tx:
            await tx.execute("DELETE FROM login_failures WHERE key = :key", {"key": key})
    session_id = await accounts.start_session(state.db, moderator)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        state.session_signer.sign(session_id).decode(),
        max_age=int(state.settings.session_max_age),
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies or request.url.scheme == "https",
    )
    return response


async def logout(request: Request) -> Response:
    state = app_state(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            session_id = state.session_signer.unsign(cookie).decode()
        except BadSignature:
            session_id = None
        if session_id:
            # Ended on the server: the cookie is worthless from now on, even if a copy of it survives.
            async with state.db.transaction() as tx:
                await tx.execute("DELETE FROM login_sessions WHERE id = :id", {"id": session_id})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=state.settings.secure_cookies)
    return response


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]

