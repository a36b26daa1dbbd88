"""Moderators and how they prove who they are: passwords, login sessions and bearer tokens."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smartrlp.db import Database, utcnow
from smartrlp.errors import ApiError
from smartrlp.i18n import gettext
from smartrlp.web import app_state, render

SESSION_COOKIE = "srl_session"
TOKEN_PREFIX = "srl_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot, not a secret
ROLES = ("moderator", "admin")

_hasher = PasswordHasher()
# Verifying against this keeps the answer time the same whether or not the name exists.
_DUMMY_HASH = _hasher.hash("not a real password")


@dataclass(frozen=True, slots=True)
class Moderator:
    id: int
    name: str
    role: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Moderator:
        return cls(id=row["id"], name=row["name"], role=row["role"])


class AccountError(ValueError):
    pass


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def add_moderator(
    db: Database, name: str, password: str, role: str = "moderator", event_slugs: list[str] | None = None
) -> Moderator:
    name = name.strip()
    if not name or len(name) > 80:
        raise AccountError("The name must have 1 to 80 characters.")
    if len(password) < 10:
        raise AccountError("The password must have at least 10 characters.")
    if role not in ROLES:
        raise AccountError(f"The role must be one of {', '.join(ROLES)}.")
    password_hash = await asyncio.to_thread(hash_password, password)
    async with db.transaction() as tx:
        if await tx.fetchone("SELECT 1 FROM moderators WHERE name = :name", {"name": name}):
            raise AccountError(f"A moderator named {name!r} exists already.")
        event_ids = []
        for slug in event_slugs or []:
            row = await tx.fetchone("SELECT id FROM events WHERE slug = :slug", {"slug": slug})
            if row is None:
                raise AccountError(f"There is no event {slug!r}.")
            event_ids.append(row["id"])
        row = await tx.fetchone(
            "INSERT INTO moderators (name, password_hash, role, all_events, created_at) "
            "VALUES (:name, :hash, :role, :all_events, :now) RETURNING id, name, role",
            {"name": name, "hash": password_hash, "role": role, "all_events": int(not event_ids), "now": utcnow()},
        )
        assert row is not None
        await tx.executemany(
            "INSERT INTO event_moderators (event_id, moderator_id) VALUES (:event_id, :moderator_id)",
            [{"event_id": event_id, "moderator_id": row["id"]} for event_id in event_ids],
        )
    return Moderator.from_row(row)


async def create_token(db: Database, moderator_name: str, label: str = "") -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT id FROM moderators WHERE name = :name", {"name": moderator_name})
        if row is None:
            raise AccountError(f"There is no moderator named {moderator_name!r}.")
        await tx.execute(
            "INSERT INTO api_tokens (moderator_id, token_hash, label, created_at) "
            "VALUES (:moderator_id, :hash, :label, :now)",
            {"moderator_id": row["id"], "hash": _token_hash(token), "label": label, "now": utcnow()},
        )
    return token


async def check_password(db: Database, name: str, password: str) -> Moderator | None:
    row = await db.fetchone(
        "SELECT id, name, role, password_hash FROM moderators WHERE name = :name", {"name": name.strip()}
    )
    stored = row["password_hash"] if row is not None else _DUMMY_HASH
    ok = await asyncio.to_thread(password_matches, stored, password)
    return Moderator.from_row(row) if ok and row is not None else None


async def start_session(db: Database, moderator: Moderator) -> str:
    session_id = secrets.token_urlsafe(24)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO login_sessions (id, moderator_id, created_at, last_seen_at) "
            "VALUES (:id, :moderator_id, :now, :now)",
            {"id": session_id, "moderator_id": moderator.id, "now": utcnow()},
        )
    return session_id


async def authenticate(conn: HTTPConnection) -> Moderator | None:
    """The moderator behind a bearer token or a login session cookie, or None for a viewer."""
    state = app_state(conn)
    authorization = conn.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "Use 'Authorization: Bearer <token>'.")
        row = await state.db.fetchone(
            "SELECT m.id, m.name, m.role FROM api_tokens t JOIN moderators m ON m.id = t.moderator_id "
            "WHERE t.token_hash = :hash AND t.revoked_at IS NULL",
            {"hash": _token_hash(token.strip())},
        )
        if row is None:
            raise ApiError(401, "unauthorized", "The bearer token is not valid.")
        return Moderator.from_row(row)
    cookie = conn.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        session_id = state.session_signer.unsign(cookie, max_age=state.settings.session_hours * 3600).decode()
    except (BadSignature, SignatureExpired):
        return None
    row = await state.db.fetchone(
        "SELECT m.id, m.name, m.role FROM login_sessions s JOIN moderators m ON m.id = s.moderator_id WHERE s.id = :id",
        {"id": session_id},
    )
    return Moderator.from_row(row) if row is not None else None


async def may_moderate(db: Database, moderator: Moderator, event_id: int) -> bool:
    if moderator.role == "admin":
        return True
    row = await db.fetchone(
        "SELECT m.all_events, EXISTS (SELECT 1 FROM event_moderators em WHERE em.moderator_id = m.id "
        "AND em.event_id = :event_id) AS assigned FROM moderators m WHERE m.id = :id",
        {"id": moderator.id, "event_id": event_id},
    )
    return row is not None and bool(row["all_events"] or row["assigned"])


async def require_moderator(conn: HTTPConnection, event_id: int) -> Moderator:
    moderator = await authenticate(conn)
    if moderator is None:
        raise ApiError(401, "unauthorized", "Log in as a moderator or send a bearer token.")
    if not await may_moderate(app_state(conn).db, moderator, event_id):
        raise ApiError(403, "forbidden", "You are not a moderator of this event.")
    return moderator


async def moderator_for(conn: HTTPConnection, event_id: int) -> Moderator | None:
    """The caller as a moderator of this event, or None: for endpoints that viewers may call too."""
    moderator = await authenticate(conn)
    if moderator is None or not await may_moderate(app_state(conn).db, moderator, event_id):
        return None
    return moderator


async def moderator_page_access(request: Request, event_id: int) -> Moderator | Response:
    """For a moderator's HTML page: the moderator, or the redirect to the login form; others get 403."""
    moderator = await authenticate(request)
    if moderator is None:
        return RedirectResponse(login_url(request.url.path), status_code=303)
    if not await may_moderate(app_state(request).db, moderator, event_id):
        raise ApiError(403, "forbidden", gettext("Sie moderieren diese Veranstaltung nicht."))
    return moderator


def _safe_next(target: str | None) -> str:
    # Only paths on this site, so the login form cannot be used to send people elsewhere.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


async def login_page(request: Request) -> Response:
    return render(request, "login.html", next=_safe_next(request.query_params.get("next")), error=None)


async def login_submit(request: Request) -> Response:
    state = app_state(request)
    form = await request.form()
    name = str(form.get("name", ""))[:200]
    password = str(form.get("password", ""))[:1000]
    next_path = _safe_next(str(form.get("next", "")))
    moderator = await check_password(state.db, name, password) if name and password else None
    if moderator is None:
        return render(
            request,
            "login.html",
            status=401,
            next=next_path,
            name=name,
            error=gettext("Name oder Passwort stimmt nicht."),
        )
    session_id = await start_session(state.db, moderator)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        state.session_signer.sign(session_id).decode(),
        max_age=state.settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
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
            async with state.db.transaction() as tx:
                await tx.execute("DELETE FROM login_sessions WHERE id = :id", {"id": session_id})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def make_session_signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt="smartrlp.session")


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
