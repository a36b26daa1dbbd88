"""User accounts in the administration at /admin/users (role `admin`): list, create, edit, set a password, delete.

The same rules as the event administration: a login with the role `admin`, plain HTML forms, a CSRF token bound
to the login session. Passwords are only ever hashed (Argon2id) and a generated one is shown once, on the answer
to the form that made it. Whoever changes a password or deletes an account ends that account's other login
sessions, because the point of doing either is usually to lock someone out.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel.dates import format_datetime
from itsdangerous import BadSignature
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smartrlp.core.errors import ApiError
from smartrlp.core.i18n import N_, current_language, gettext
from smartrlp.db.store import Database, Transaction, utcnow
from smartrlp.services.accounts import ROLES, Moderator, hash_password
from smartrlp.services.studio import public_base
from smartrlp.web.http import SESSION_COOKIE, app_state
from smartrlp.web.views.admin_events import ADMINS_ONLY, BERLIN, admin_or_redirect, admin_page, checked_form

MAX_NAME = 60
MIN_PASSWORD = 12
MAX_PASSWORD = 1000  # the login form reads no more than this, so a longer one could never be used
# Lowercase letters and digits without the ones people mix up when they copy by hand (l/1, o/0, i): 20 of
# them carry 99 bits, in groups of five so they can be read out over the phone.
READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"
# German texts made at import are marked with N_ and translated where they are shown, in that request's language.
ROLE_LABELS = {"moderator": N_("Moderation"), "admin": N_("Administration")}
FIELD_ORDER = ("name", "role", "events", "password", "password_repeat")  # as on the page, for the error summary
MISSING = N_("Dieses Konto gibt es nicht (mehr).")
EVENT_GONE = N_("Eine der gewählten Veranstaltungen wurde eben gelöscht. Bitte noch einmal.")

NOTICES = {
    "created": N_("Das Konto wurde angelegt."),
    "saved": N_("Die Änderungen wurden gespeichert."),
    "password": N_("Das neue Passwort gilt ab sofort; die anderen Anmeldungen dieses Kontos sind beendet."),
    "deleted": N_("Das Konto wurde gelöscht; seine Anmeldungen und API-Tokens gelten nicht mehr."),
}


def _notice(request: Request) -> str | None:
    done = request.query_params.get("done") or ""
    return gettext(NOTICES[done]) if done in NOTICES else None


# --- what may be typed ---------------------------------------------------------------------------------------


@dataclass
class UserForm:
    """What the admin sent, as sent (passwords excepted: they are never shown again), and what it means."""

    raw: dict[str, str]
    event_ids: set[int] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)
    password: str | None = None
    generated: bool = False


def generate_password() -> str:
    groups = ("".join(secrets.choice(READABLE_CHARACTERS) for _ in range(5)) for _ in range(4))
    return "-".join(groups)


def normalised_name(raw: str) -> str:
    # One spelling of "ü" whatever the keyboard sent, so names that look alike are alike.
    return unicodedata.normalize("NFC", raw.strip())


def name_problem(name: str) -> str | None:
    if not name:
        return gettext("Bitte geben Sie einen Namen ein.")
    if len(name) > MAX_NAME:
        return gettext("Der Name darf höchstens %(max)s Zeichen lang sein.") % {"max": MAX_NAME}
    # Control and format characters (tabs, line breaks, invisible direction marks) would make two names that
    # look the same on screen, or break the pages that show them.
    if any(unicodedata.category(c)[0] == "C" or unicodedata.category(c) in {"Zl", "Zp"} for c in name):
        return gettext(
            "Der Name darf keine Steuerzeichen wie Tabulatoren, Zeilenumbrüche oder unsichtbare Zeichen enthalten."
        )
    return None


def _read_password(form: FormData, result: UserForm) -> None:
    if form.get("generate"):
        result.raw["generate"] = "on"
        result.password, result.generated = generate_password(), True
        return
    password = str(form.get("password", ""))
    if not password:
        problem = ("password", gettext("Bitte geben Sie ein Passwort ein oder wählen Sie „Passwort erzeugen“."))
    elif len(password) < MIN_PASSWORD:
        problem = (
            "password",
            gettext("Das Passwort muss mindestens %(min)s Zeichen lang sein.") % {"min": MIN_PASSWORD},
        )
    elif len(password) > MAX_PASSWORD:
        problem = (
            "password",
            gettext("Das Passwort darf höchstens %(max)s Zeichen lang sein.") % {"max": MAX_PASSWORD},
        )
    elif password != str(form.get("password_repeat", "")):
        problem = (
            "password_repeat",
            gettext("Die beiden Passwörter stimmen nicht überein. Bitte tippen Sie beide neu."),
        )
    else:
        result.password = password
        return
    result.errors[problem[0]] = problem[1]


def _read_role_and_events(form: FormData, result: UserForm, events: list[dict[str, Any]]) -> None:
    role = str(form.get("role", ""))
    result.raw["role"] = role
    if role not in ROLES:
        result.errors["role"] = gettext("Bitte wählen Sie eine Rolle.")
    known = {e["id"] for e in events}
    for value in form.getlist("events"):
        text = str(value)
        if not (text.isascii() and text.isdigit() and len(text) <= 18) or int(text) not in known:
            result.errors["events"] = gettext(
                "Eine der gewählten Veranstaltungen gibt es nicht (mehr). Bitte prüfen Sie die Auswahl."
            )
            continue
        result.event_ids.add(int(text))


def read_new_user(form: FormData, events: list[dict[str, Any]]) -> UserForm:
    result = UserForm(raw={"name": normalised_name(str(form.get("name", "")))})
    problem = name_problem(result.raw["name"])
    if problem:
        result.errors["name"] = problem
    _read_role_and_events(form, result, events)
    _read_password(form, result)
    return result


# --- reading the database ------------------------------------------------------------------------------------


# The date and time as each language writes them; Babel supplies the names of the months.
WHEN_PATTERNS = {"de": "d. MMMM y, HH:mm 'Uhr'", "en": "d MMMM y, HH:mm"}


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    language = current_language()
    return format_datetime(moment, WHEN_PATTERNS[language], tzinfo=BERLIN, locale=language)


def _user_id(request: Request) -> int:
    key = request.path_params["user_id"]
    if not (key.isascii() and key.isdigit() and len(key) <= 18):
        raise ApiError(404, "not_found", gettext(MISSING))
    return int(key)


async def _account(db: Database | Transaction, user_id: int) -> sqlite3.Row:
    row = await db.fetchone("SELECT id, name, role, created_at FROM moderators WHERE id = :id", {"id": user_id})
    if row is None:
        raise ApiError(404, "not_found", gettext(MISSING))
    return row


async def _all_events(db: Database) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT id, slug, title, starts_at, archived_at FROM events "
        "ORDER BY archived_at IS NOT NULL, starts_at DESC, id DESC"
    )
    return [{**dict(r), "when": _when(r["starts_at"])} for r in rows]


async def _event_ids_of(db: Database, user_id: int) -> set[int]:
    rows = await db.fetchall("SELECT event_id FROM event_moderators WHERE moderator_id = :id", {"id": user_id})
    return {int(r["event_id"]) for r in rows}


async def _name_in_use(db: Database | Transaction, name: str) -> str | None:
    """The message for a name that exists already, whatever its case, or None."""
    # SQLite's NOCASE folds ASCII only; "Ärger" and "ärger" must collide too. A city has a few dozen accounts.
    wanted = name.casefold()
    for row in await db.fetchall("SELECT name FROM moderators"):
        if str(row["name"]).casefold() == wanted:
            return gettext(
                "Den Namen „%(name)s“ gibt es schon (Groß- und Kleinschreibung zählen dabei nicht). "
                "Bitte wählen Sie einen anderen."
            ) % {"name": row["name"]}
    return None


async def _still_admin(tx: Transaction, actor: Moderator) -> None:
    # Checked again under the write lock: an admin demoted or deleted a moment ago must not act any more.
    row = await tx.fetchone("SELECT role FROM moderators WHERE id = :id", {"id": actor.id})
    if row is None or row["role"] != "admin":
        raise ApiError(403, "forbidden", gettext(ADMINS_ONLY))


async def _admin_count(tx: Transaction) -> int:
    row = await tx.fetchone("SELECT COUNT(*) AS n FROM moderators WHERE role = 'admin'")
    return int(row["n"]) if row is not None else 0


async def _set_events(tx: Transaction, user_id: int, role: str, event_ids: set[int]) -> bool:
    """Replace the account's events; False if one of them was deleted meanwhile."""
    await tx.execute("DELETE FROM event_moderators WHERE moderator_id = :id", {"id": user_id})
    everything = role == "admin" or not event_ids
    # The flag, not the absence of rows, grants every event: deleting an account's last event must not do that.
    await tx.execute(
        "UPDATE moderators SET all_events = :all_events WHERE id = :id", {"all_events": int(everything), "id": user_id}
    )
    # An admin moderates every event anyway (accounts.may_moderate); rows would only mislead the next reader.
    if everything:
        return True
    params = [{"event_id": e, "moderator_id": user_id} for e in sorted(event_ids)]
    placeholders = ", ".join(f":e{i}" for i in range(len(params)))
    found = await tx.fetchone(
        f"SELECT COUNT(*) AS n FROM events WHERE id IN ({placeholders})",
        {f"e{i}": p["event_id"] for i, p in enumerate(params)},
    )
    # Without this, an account meant for one event whose event just vanished would get no rows: every event.
    if found is None or int(found["n"]) != len(params):
        return False
    await tx.executemany(
        "INSERT INTO event_moderators (event_id, moderator_id) VALUES (:event_id, :moderator_id)", params
    )
    return True


def _current_session(request: Request) -> str | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return app_state(request).session_signer.unsign(cookie).decode()
    except BadSignature:
        return None


async def _end_other_sessions(tx: Transaction, user_id: int, keep: str | None) -> None:
    await tx.execute(
        "DELETE FROM login_sessions WHERE moderator_id = :id AND id IS NOT :keep", {"id": user_id, "keep": keep}
    )


# --- pages ---------------------------------------------------------------------------------------------------


def _no_store(response: Response) -> Response:
    # The page shows a password: no browser or proxy cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


async def users_page(request: Request) -> Response:
    actor = await admin_or_redirect(request)
    if isinstance(actor, Response):
        return actor
    db = app_state(request).db
    rows = await db.fetchall(
        "SELECT m.id, m.name, m.role, m.all_events, m.created_at, "
        "(SELECT MAX(s.created_at) FROM login_sessions s WHERE s.moderator_id = m.id) AS last_login, "
        "(SELECT COUNT(*) FROM api_tokens t WHERE t.moderator_id = m.id AND t.revoked_at IS NULL) AS tokens "
        "FROM moderators m ORDER BY m.role = 'moderator', m.name COLLATE NOCASE, m.id"
    )
    events: dict[int, list[str]] = {}
    for row in await db.fetchall(
        "SELECT em.moderator_id, e.title FROM event_moderators em JOIN events e ON e.id = em.event_id "
        "ORDER BY e.starts_at DESC, e.id DESC"
    ):
        events.setdefault(int(row["moderator_id"]), []).append(str(row["title"]))
    accounts = [
        {
            **dict(r),
            "role_label": gettext(ROLE_LABELS[r["role"]]) if r["role"] in ROLE_LABELS else r["role"],
            "events": [] if r["role"] == "admin" else events.get(int(r["id"]), []),
            "created": _when(r["created_at"]),
            "last_login_text": _when(r["last_login"]),
        }
        for r in rows
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
    db = app_state(request).db
    for f in (form, password_form):
        if f is not None:
            f.errors = {name: f.errors[name] for name in FIELD_ORDER if name in f.errors}
    tokens = 0
    if account is not None:
        row = await db.fetchone(
            "SELECT COUNT(*) AS n FROM api_tokens WHERE moderator_id = :id AND revoked_at IS NULL",
            {"id": account["id"]},
        )
        tokens = int(row["n"]) if row is not None else 0
    return admin_page(
        request,
        "admin/user_form.html",
        actor,
        status=status,
        form=form,
        password_form=password_form or UserForm(raw={}),
        account={**dict(account), "created": _when(account["created_at"])} if account is not None else None,
        is_self=account is not None and account["id"] == actor.id,
        events=await _all_events(db),
        roles={role: gettext(label) for role, label in ROLE_LABELS.items()},
        tokens=tokens,
        min_password=MIN_PASSWORD,
        max_name=MAX_NAME,
        notice=_notice(request),
    )


async def new_user_page(request: Request) -> Response:
    actor = await admin_or_redirect(request)
    if isinstance(actor, Response):
        return actor
    return await _form_page(request, actor, UserForm(raw={"role": "moderator"}))


async def create_user_submit(request: Request) -> Response:
    actor = await admin_or_redirect(request)
    if isinstance(actor, Response):
        return actor
    data = await checked_form(request)
    state = app_state(request)
    form = read_new_user(data, await _all_events(state.db))
    # Asked here as well as under the write lock below, so that one answer names every problem at once.
    taken = None if "name" in form.errors else await _name_in_use(state.db, form.raw["name"])
    if taken:
        form.errors["name"] = taken
    user_id = None
    if not form.errors:
        assert form.password is not None
        # Argon2 takes a moment on purpose; the writer lock is not held meanwhile.
        password_hash = await asyncio.to_thread(hash_password, form.password)
        async with state.db.transaction() as tx:
            await _still_admin(tx, actor)
            taken = await _name_in_use(tx, form.raw["name"])
            if taken:
                form.errors["name"] = taken
            else:
                row = await tx.fetchone(
                    "INSERT INTO moderators (name, password_hash, role, created_at) "
                    "VALUES (:name, :hash, :role, :now) RETURNING id",
                    {"name": form.raw["name"], "hash": password_hash, "role": form.raw["role"], "now": utcnow()},
                )
                assert row is not None
                user_id = int(row["id"])
                if not await _set_events(tx, user_id, form.raw["role"], form.event_ids):
                    raise ApiError(409, "conflict", gettext(EVENT_GONE))
    if form.errors or user_id is None:
        return await _form_page(request, actor, form, status=422)
    if form.generated:
        account = {"id": user_id, "name": form.raw["name"]}
        return _no_store(
            admin_page(
                request,
                "admin/user_password_shown.html",
                actor,
                account=account,
                password=form.password,
                created=True,
                login_url=f"{public_base(app_state(request).settings.public_url, str(request.base_url))}/login",
            )
        )
    return RedirectResponse(f"/admin/users?done=created#user-{user_id}", status_code=303)


async def edit_user_page(request: Request) -> Response:
    actor = await admin_or_redirect(request)
    if isinstance(actor, Response):
        return actor
    db = app_state(request).db
    account = await _account(db, _user_id(request))
    form = UserForm(raw={"role": account["role"]}, event_ids=await _event_ids_of(db, account["id"]))
    return await _form_page(request, actor, form, account=account)


async def edit_user_submit(request: Request) -> Response:
    actor = await admin_or_redirect(request)
    if isinstance(actor, Response):
        return actor
    data = await checked_form(request)
    state = app_state(request)
    account = await _account(state.db, _user_id(request))
    form = UserForm(raw={})
    _read_role_and_events(data, form, await _all_events(state.db))
    if not form.errors:
        role = form.raw["role"]
        async with state.db.transaction() as tx:
            await _still_admin(tx, actor)
            account = await _account(tx, account["id"])
            demoting = account["role"] == "admin" and role != "admin"
            if demoting and account["id"] == actor.id:
                form.errors["role"] = gettext(
                    "Sie können sich nicht selbst die Rolle Administration nehmen. Bitten Sie eine andere "
                    "Administratorin oder einen anderen Administrator darum."
                )
            # Implied by the rule above (the actor is an admin too); kept so the last admin stays protected
            # should admins one day be allowed to demote themselves.
            elif demoting and await _admin_count(tx) <= 1:
                form.errors["role"] = gettext(
                    "Das ist das letzte Konto mit der Rolle Administration. Geben Sie zuerst einem anderen Konto "
                    "diese Rolle."
                )
            else:
                await tx.execute(
                    "UPDATE moderators SET role = :role WHERE id = :id", {"role": role, "id": account["id"]}
                )
                if not await _set_events(tx, account["id"], role, form.event_ids):
                    raise ApiError(409, "conflict", gettext(EVENT_GONE))
    if form.errors:
        return await _form_page(request, actor, form, account=account, status=422)
    return RedirectResponse(f"/admin/users?done=saved#user-{account['id']}", status_code=303)


async def password_submit(request: Request) -> Response:
    actor = await admin_or_redirect(request)
    if isinstance(actor, Response):
        return actor
    data = await checked_form(request)
    state = app_state(request)
    account = await _account(state.db, _user_id(request))
    password_form = UserForm(raw={"revoke_tokens": "on" if data.get("revoke_tokens") else ""})
    _read_password(data, password_form)
    if password_form.errors:
        form = UserForm(raw={"role": account["role"]}, event_ids=await _event_ids_of(state.db, account["id"]))
        return await _form_page(request, actor, form, account=account, status=422, password_form=password_form)
    assert password_form.password is not None
    password_hash = await asyncio.to_thread(hash_password, password_form.password)
    # An admin changing their own password stays logged in here; everywhere else that account is logged out.
    keep = _current_session(request) if account["id"] == actor.id else None
    async with state.db.transaction() as tx:
        await _still_admin(tx, actor)
        await _account(tx, account["id"])
        await tx.execute(
            "UPDATE moderators SET password_hash = :hash WHERE id = :id", {"hash": password_hash, "id": account["id"]}
        )
        await _end_other_sessions(tx, account["id"], keep)
        if password_form.raw["revoke_tokens"]:
            await tx.execute(
                "UPDATE api_tokens SET revoked_at = :now WHERE moderator_id = :id AND revoked_at IS NULL",
                {"now": utcnow(), "id": account["id"]},
            )
    if password_form.generated:
        return _no_store(
            admin_page(
                request,
                "admin/user_password_shown.html",
                actor,
                account=dict(account),
                password=password_form.password,
                created=False,
                login_url=f"{public_base(app_state(request).settings.public_url, str(request.base_url))}/login",
            )
        )
    return RedirectResponse(f"/admin/users/{account['id']}?done=password", status_code=303)


async def _delete_page(
    request: Request, actor: Moderator, account: sqlite3.Row, *, status: int = 200, error: str | None = None
) -> Response:
    row = await app_state(request).db.fetchone(
        "SELECT (SELECT COUNT(*) FROM login_sessions WHERE moderator_id = :id) AS sessions, "
        "(SELECT COUNT(*) FROM api_tokens WHERE moderator_id = :id AND revoked_at IS NULL) AS tokens",
        {"id": account["id"]},
    )
    return admin_page(
        request,
        "admin/user_delete.html",
        actor,
        status=status,
        account=dict(account),
        counts=dict(row) if row is not None else {"sessions": 0, "tokens": 0},
        is_self=account["id"] == actor.id,
        error=error,
    )


SELF_DELETE = N_(
    "Ihr eigenes Konto können Sie nicht löschen. Bitten Sie eine andere Administratorin oder einen anderen "
    "Administrator darum."
)
LAST_ADMIN_DELETE = N_(
    "Das ist das letzte Konto mit der Rolle Administration; ohne es könnte niemand mehr die Verwaltung öffnen. "
    "Geben Sie zuerst einem anderen Konto diese Rolle."
)


async def delete_user_page(request: Request) -> Response:
    actor = await admin_or_redirect(request)
    if isinstance(actor, Response):
        return actor
    account = await _account(app_state(request).db, _user_id(request))
    return await _delete_page(request, actor, account)


async def delete_user_submit(request: Request) -> Response:
    actor = await admin_or_redirect(request)
    if isinstance(actor, Response):
        return actor
    data = await checked_form(request)
    state = app_state(request)
    account = await _account(state.db, _user_id(request))
    if account["id"] == actor.id:
        return await _delete_page(request, actor, account, status=409, error=gettext(SELF_DELETE))
    typed = normalised_name(str(data.get("confirm_name", "")))
    if typed.casefold() != str(account["name"]).casefold():
        error = gettext("Zur Bestätigung bitte genau den Namen des Kontos eintippen.")
        return await _delete_page(request, actor, account, status=422, error=error)
    deleted = False
    async with state.db.transaction() as tx:
        await _still_admin(tx, actor)
        account = await _account(tx, account["id"])
        # Implied by the self rule (the actor is an admin too); kept for the day that rule is relaxed.
        if account["role"] != "admin" or await _admin_count(tx) > 1:
            # ON DELETE CASCADE takes its login sessions, API tokens and event assignments with it; what it did as
            # a moderator stays, no longer linked to it (SET NULL).
            await tx.execute("DELETE FROM moderators WHERE id = :id", {"id": account["id"]})
            deleted = True
    if not deleted:
        return await _delete_page(request, actor, account, status=409, error=gettext(LAST_ADMIN_DELETE))
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
