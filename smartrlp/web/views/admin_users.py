"""User accounts in the administration at /admin/users (role `admin`): list, create, edit, set a password, delete.

The same rules as the event administration: a login with the role `admin`, plain HTML forms, a CSRF token bound
to the login session. The rules themselves are those of the command line (smartrlp.services.users); this module
only reads the forms, calls the service and shows its answer. Passwords are only ever hashed (Argon2id), and a
generated one is shown once, on the answer to the form that made it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from babel.dates import format_datetime
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smartrlp.core.errors import ApiError
from smartrlp.core.i18n import N_, current_language, gettext
from smartrlp.services import users
from smartrlp.services.accounts import AccountError, Moderator, Problem, same_name
from smartrlp.services.context import Context
from smartrlp.services.studio import public_base
from smartrlp.web import forms
from smartrlp.web.auth import ADMINS_ONLY, admin_page, admins_only, checked_form, session_of
from smartrlp.web.forms import UserForm
from smartrlp.web.http import app_state
from smartrlp.web.pages import EVENT_TIMEZONE

# German texts made at import are marked with N_ and translated where they are shown, in that request's language.
ROLE_LABELS = {"moderator": N_("Moderation"), "admin": N_("Administration")}
FIELD_ORDER = ("name", "role", "events", "password", "password_repeat")  # as on the page, for the error summary
NOTICES = {
    "created": N_("Das Konto wurde angelegt."),
    "saved": N_("Die Änderungen wurden gespeichert."),
    "password": N_("Das neue Passwort gilt ab sofort; die anderen Anmeldungen dieses Kontos sind beendet."),
    "deleted": N_("Das Konto wurde gelöscht; seine Anmeldungen und API-Tokens gelten nicht mehr."),
}
# Problems that are no mistake in the form: they answer with an error page of their own.
PAGE_ERRORS = {
    "account_missing": (404, "not_found"),
    "not_admin": (403, "forbidden"),
    "event_gone": (409, "conflict"),
}
SELF_DELETE = N_(
    "Ihr eigenes Konto können Sie nicht löschen. Bitten Sie eine andere Administratorin oder einen anderen "
    "Administrator darum."
)
LAST_ADMIN_DELETE = N_(
    "Das ist das letzte Konto mit der Rolle Administration; ohne es könnte niemand mehr die Verwaltung öffnen. "
    "Geben Sie zuerst einem anderen Konto diese Rolle."
)
DELETE_REFUSALS = {"self_delete": SELF_DELETE, "last_admin": LAST_ADMIN_DELETE}


def _notice(request: Request) -> str | None:
    done = request.query_params.get("done") or ""
    return gettext(NOTICES[done]) if done in NOTICES else None


def _page_error(refused: AccountError) -> ApiError | None:
    """The error page for a refusal that is no mistake in the form (None: show the problems in the form)."""
    for found in refused.problems:
        if found.code in PAGE_ERRORS:
            status, code = PAGE_ERRORS[found.code]
            message = gettext(ADMINS_ONLY) if found.code == "not_admin" else forms.account_message(found)
            return ApiError(status, code, message)
    return None


# The date and time as each language writes them; Babel supplies the names of the months.
WHEN_PATTERNS = {"de": "d. MMMM y, HH:mm 'Uhr'", "en": "d MMMM y, HH:mm"}


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    language = current_language()
    return format_datetime(moment, WHEN_PATTERNS[language], tzinfo=EVENT_TIMEZONE, locale=language)


def _ctx(request: Request) -> Context:
    return app_state(request).ctx


async def _account(request: Request) -> sqlite3.Row:
    """The account named by the path, or 404."""
    key = request.path_params["user_id"]
    if not (key.isascii() and key.isdigit() and len(key) <= 18):
        raise ApiError(404, "not_found", forms.account_message(Problem("account_missing", "")))
    try:
        return await users.account(_ctx(request).db, int(key))
    except AccountError as refused:
        raise _page_error(refused) or refused from None


def _no_store(response: Response) -> Response:
    # The page shows a password: no browser or proxy cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _password_shown(
    request: Request, actor: Moderator, account: dict[str, Any], password: str, created: bool
) -> Response:
    login_url = f"{public_base(app_state(request).settings.public_url, str(request.base_url))}/login"
    return _no_store(
        admin_page(
            request,
            "admin/user_password_shown.html",
            actor,
            account=account,
            password=password,
            created=created,
            login_url=login_url,
        )
    )


# --- pages ---------------------------------------------------------------------------------------------------


@admins_only
async def users_page(request: Request, actor: Moderator) -> Response:
    accounts = [
        {
            **row,
            "role_label": gettext(ROLE_LABELS[row["role"]]) if row["role"] in ROLE_LABELS else row["role"],
            "created": _when(row["created_at"]),
            "last_login_text": _when(row["last_login"]),
        }
        for row in await users.overview(_ctx(request))
    ]
    return admin_page(request, "admin/users.html", actor, accounts=accounts, notice=_notice(request))


async def _form_page(
    request: Request,
    actor: Moderator,
    form: UserForm,
    *,
    account: sqlite3.Row | None = None,
    status: int = 200,
    password_form: UserForm | None = None,
) -> Response:
    ctx = _ctx(request)
    for f in (form, password_form):
        if f is not None:
            f.errors = {name: f.errors[name] for name in FIELD_ORDER if name in f.errors}
    tokens = (await users.logins_of(ctx, account["id"]))["tokens"] if account is not None else 0
    events = [{**e, "when": _when(e["starts_at"])} for e in await users.event_choices(ctx)]
    return admin_page(
        request,
        "admin/user_form.html",
        actor,
        status=status,
        form=form,
        password_form=password_form or UserForm(raw={}),
        account={**dict(account), "created": _when(account["created_at"])} if account is not None else None,
        is_self=account is not None and account["id"] == actor.id,
        events=events,
        roles={role: gettext(label) for role, label in ROLE_LABELS.items()},
        tokens=tokens,
        min_password=users.PASSWORD_MIN,
        max_name=users.NAME_MAX,
        notice=_notice(request),
    )


@admins_only
async def new_user_page(request: Request, actor: Moderator) -> Response:
    return await _form_page(request, actor, UserForm(raw={"role": "moderator"}))


@admins_only
async def create_user_submit(request: Request, actor: Moderator) -> Response:
    form = forms.read_new_user(await checked_form(request))
    ctx = _ctx(request)
    name, role = form.raw["name"], form.raw["role"]
    if form.errors:
        # The service's verdict too, so that one answer names every problem at once.
        form.add_problems(await users.new_account_problems(ctx, name, form.password, role, form.event_ids))
        return await _form_page(request, actor, form, status=422)
    assert form.password is not None
    try:
        created = await users.create_account(ctx, name, form.password, role=role, event_ids=form.event_ids, actor=actor)
    except AccountError as refused:
        if error := _page_error(refused):
            raise error from refused
        form.add_problems(refused.problems)
        return await _form_page(request, actor, form, status=422)
    if form.generated:
        return _password_shown(request, actor, {"id": created.id, "name": created.name}, form.password, True)
    return RedirectResponse(f"/admin/users?done=created#user-{created.id}", status_code=303)


@admins_only
async def edit_user_page(request: Request, actor: Moderator) -> Response:
    account = await _account(request)
    event_ids = await users.assigned_event_ids(_ctx(request), account["id"])
    return await _form_page(
        request, actor, UserForm(raw={"role": account["role"]}, event_ids=event_ids), account=account
    )


@admins_only
async def edit_user_submit(request: Request, actor: Moderator) -> Response:
    data = await checked_form(request)
    account = await _account(request)
    form = UserForm(raw={})
    forms.read_role_and_events(data, form)
    if not form.errors:
        try:
            await users.update_account(
                _ctx(request), actor, account["id"], role=form.raw["role"], event_ids=form.event_ids
            )
        except AccountError as refused:
            if error := _page_error(refused):
                raise error from refused
            form.add_problems(refused.problems)
    if form.errors:
        return await _form_page(request, actor, form, account=account, status=422)
    return RedirectResponse(f"/admin/users?done=saved#user-{account['id']}", status_code=303)


@admins_only
async def password_submit(request: Request, actor: Moderator) -> Response:
    data = await checked_form(request)
    ctx = _ctx(request)
    account = await _account(request)
    password_form = UserForm(raw={"revoke_tokens": "on" if data.get("revoke_tokens") else ""})
    forms.read_password(data, password_form)
    if password_form.errors:
        form = UserForm(raw={"role": account["role"]}, event_ids=await users.assigned_event_ids(ctx, account["id"]))
        return await _form_page(request, actor, form, account=account, status=422, password_form=password_form)
    assert password_form.password is not None
    # An admin changing their own password stays logged in here; everywhere else that account is logged out.
    keep = session_of(request) if account["id"] == actor.id else None
    try:
        await users.set_password(
            ctx,
            actor,
            account["id"],
            password_form.password,
            keep_session=keep,
            revoke_tokens=bool(password_form.raw["revoke_tokens"]),
        )
    except AccountError as refused:
        # The password was checked above: what is left is no mistake in the form.
        raise _page_error(refused) or refused from None
    if password_form.generated:
        return _password_shown(request, actor, dict(account), password_form.password, False)
    return RedirectResponse(f"/admin/users/{account['id']}?done=password", status_code=303)


async def _delete_page(
    request: Request, actor: Moderator, account: sqlite3.Row, *, status: int = 200, error: str | None = None
) -> Response:
    return admin_page(
        request,
        "admin/user_delete.html",
        actor,
        status=status,
        account=dict(account),
        counts=await users.logins_of(_ctx(request), account["id"]),
        is_self=account["id"] == actor.id,
        error=error,
    )


@admins_only
async def delete_user_page(request: Request, actor: Moderator) -> Response:
    return await _delete_page(request, actor, await _account(request))


@admins_only
async def delete_user_submit(request: Request, actor: Moderator) -> Response:
    data = await checked_form(request)
    account = await _account(request)
    # The own account has no name to type (the page says why it cannot go): the service's refusal explains it.
    if account["id"] != actor.id and not same_name(str(data.get("confirm_name", "")), account["name"]):
        error = gettext("Zur Bestätigung bitte genau den Namen des Kontos eintippen.")
        return await _delete_page(request, actor, account, status=422, error=error)
    try:
        await users.delete_account(_ctx(request), actor, account["id"])
    except AccountError as refused:
        if refused.code not in DELETE_REFUSALS:
            raise _page_error(refused) or refused from None
        return await _delete_page(request, actor, account, status=409, error=gettext(DELETE_REFUSALS[refused.code]))
    return RedirectResponse("/admin/users?done=deleted", status_code=303)


routes = [
    Route("/admin/users", users_page, methods=["GET"]),
    Route("/admin/users/new", new_user_page, methods=["GET"]),
    Route("/admin/users/new", create_user_submit, methods=["POST"]),
    Route("/admin/users/{user_id}", edit_user_page, methods=["GET"]),
    Route("/admin/users/{user_id}", edit_user_submit, methods=["POST"]),
    Route("/admin/users/{user_id}/password", password_submit, methods=["POST"]),
    Route("/admin/users/{user_id}/delete", delete_user_page, methods=["GET"]),
    Route("/admin/users/{user_id}/delete", delete_user_submit, methods=["POST"]),
]
