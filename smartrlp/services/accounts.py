"""Moderators and how they prove who they are: passwords, login sessions and bearer tokens."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smartrlp.core.errors import ApiError
from smartrlp.core.i18n import gettext
from smartrlp.core.limits import Failures, Rate, after_failure
from smartrlp.db.store import Database, utcnow
from smartrlp.web.http import CSRF_HEADER, SESSION_COOKIE, app_state, client_address, csrf_matches
from smartrlp.web.middleware.security import SAFE_METHODS
from smartrlp.web.pages import render

__all__ = ["SESSION_COOKIE"]  # re-exported: the administration takes it from here
MIN_PASSWORD = 12  # one policy for the command line and /admin/users
# How often a session's or token's "last seen" is written: often enough for the idle expiry, not on every request.
TOUCH_EVERY_SECONDS = 60.0
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
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"The password must have at least {MIN_PASSWORD} characters.")
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


async def list_tokens(db: Database, moderator_name: str | None = None) -> list[sqlite3.Row]:
    """Every token (never the token itself: only its hash is stored), oldest first, optionally of one moderator."""
    return await db.fetchall(
        "SELECT t.id, m.name AS moderator, t.label, t.created_at, t.last_used_at, t.revoked_at "
        "FROM api_tokens t JOIN moderators m ON m.id = t.moderator_id "
        "WHERE :name IS NULL OR m.name = :name ORDER BY t.id",
        {"name": moderator_name},
    )


async def revoke_token(db: Database, token_id: int) -> sqlite3.Row:
    async with db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT t.id, m.name AS moderator, t.label, t.revoked_at FROM api_tokens t "
            "JOIN moderators m ON m.id = t.moderator_id WHERE t.id = :id",
            {"id": token_id},
        )
        if row is None:
            raise AccountError(f"There is no token {token_id}.")
        if row["revoked_at"] is not None:
            raise AccountError(f"Token {token_id} was revoked already, at {row['revoked_at']}.")
        await tx.execute("UPDATE api_tokens SET revoked_at = :now WHERE id = :id", {"id": token_id, "now": utcnow()})
    return row


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


def _seconds_since(iso: str) -> float:
    return time.time() - datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def authenticate(conn: HTTPConnection) -> Moderator | None:
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
            {"hash": _token_hash(token.strip())},
        )
        if row is None:
            raise ApiError(401, "unauthorized", "The bearer token is not valid.")
        if row["last_used_at"] is None or _seconds_since(row["last_used_at"]) > TOUCH_EVERY_SECONDS:
            async with state.db.transaction() as tx:
                await tx.execute(
                    "UPDATE api_tokens SET last_used_at = :now WHERE id = :id", {"id": row["token_id"], "now": utcnow()}
                )
        return Moderator.from_row(row)
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
    idle = _seconds_since(row["last_seen_at"])
    # The signed cookie's timestamp enforces the absolute limit too; the database decides, so a cookie kept past
    # its Max-Age (or a copied one) is refused. The row stays: /admin/users shows it as the last login.
    if idle > settings.session_idle or _seconds_since(row["created_at"]) > settings.session_max_age:
        return None
    changes_api = conn.scope["type"] == "http" and conn.scope["method"] not in SAFE_METHODS
    if changes_api and conn.url.path.startswith("/api/") and not csrf_matches(conn, conn.headers.get(CSRF_HEADER, "")):
        raise ApiError(
            403, "csrf", f"This change needs the page's CSRF token in the {CSRF_HEADER} header; reload the page."
        )
    if idle > min(TOUCH_EVERY_SECONDS, settings.session_idle / 4):
        async with state.db.transaction() as tx:
            await tx.execute(
                "UPDATE login_sessions SET last_seen_at = :now WHERE id = :id", {"id": session_id, "now": utcnow()}
            )
    return Moderator.from_row(row)


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


# Login throttling. Failures per account name are kept in the database (table login_failures): they must survive
# a restart, or an attacker who can crash or restart the server resets the lock, and with several processes they
# are shared. The name is stored only as an HMAC with the secret key (it may be a password typed into the wrong
# field). Failures per address are kept in memory (limits.AddressFailures): addresses are not written to disk.
# A name that does not exist is throttled exactly like one that does, so the answers do not tell them apart.


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
    next_path = _safe_next(str(form.get("next", "")))
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
    moderator = await check_password(state.db, name, password) if name and password else None
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
    session_id = await start_session(state.db, moderator)
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


def make_session_signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt="smartrlp.session")


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
