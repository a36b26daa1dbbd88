"""Logging in and out: the login form, its throttling per account name and per address, and logout."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.core.i18n import gettext
from smartrlp.core.limits import Rate
from smartrlp.services import accounts
from smartrlp.web.auth import safe_next, session_of
from smartrlp.web.http import SESSION_COOKIE, app_state, client_address
from smartrlp.web.pages import render

# Not a rule for names (those are at most FIELD_LIMITS["account_name"]): only a bound on what is hashed for the
# throttle, generous so that a name one character too long is still told apart from the right one.
NAME_READ = 200


async def login_page(request: Request) -> Response:
    return render(request, "login.html", next=safe_next(request.query_params.get("next")), error=None)


def _wait_text(seconds: float) -> str:
    if seconds <= 90:
        return gettext(
            "Zu viele Fehlversuche. Bitte warten Sie {seconds} Sekunden und versuchen Sie es dann erneut."
        ).format(seconds=max(1, round(seconds)))
    return gettext("Zu viele Fehlversuche. Bitte versuchen Sie es in {minutes} Minuten erneut.").format(
        minutes=round(seconds / 60 + 0.49)
    )


def _retry_after(seconds: float) -> str:
    return str(max(1, round(seconds + 0.49)))


async def login_submit(request: Request) -> Response:
    state = app_state(request)
    ctx = state.ctx
    form = await request.form()
    name = str(form.get("name", ""))[:NAME_READ]
    password = str(form.get("password", ""))[: FIELD_LIMITS["password_max"]]
    next_path = safe_next(str(form.get("next", "")))
    address = client_address(request)
    account_rate = state.limiter.limits.get("login_account")
    key = accounts.login_key(state.session_signer, name) if name.strip() else None
    wait = await state.login_addresses.wait_for(address)
    if key is not None:
        wait = max(wait, await accounts.login_wait(ctx, key))
    if wait > 0:
        # Refused before the password is checked, and not counted: waiting it out always helps.
        response = render(request, "login.html", status=429, next=next_path, name=name, error=_wait_text(wait))
        response.headers["Retry-After"] = _retry_after(wait)
        return response
    moderator = await accounts.check_password(ctx, name, password) if name and password else None
    if moderator is None:
        wait = 0.0
        if name and password:
            wait = await state.login_addresses.fail(address)
            if key is not None and isinstance(account_rate, Rate):
                wait = max(wait, await accounts.login_failed(ctx, key, account_rate))
        response = render(
            request,
            "login.html",
            status=401,
            next=next_path,
            name=name,
            error=gettext("Name oder Passwort stimmt nicht."),
        )
        if wait > 0:  # says when the next attempt will be taken (scripts read it; the page tells on the next try)
            response.headers["Retry-After"] = _retry_after(wait)
        return response
    if key is not None:
        await accounts.login_succeeded(ctx, key)
    session_id = await accounts.start_session(ctx, moderator)
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
    session_id = session_of(request)
    if session_id:
        await accounts.end_session(state.ctx, session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=state.settings.secure_cookies)
    return response


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
