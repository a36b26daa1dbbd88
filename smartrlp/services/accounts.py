"""Moderators and how they prove who they are: passwords, login sessions, bearer tokens and login throttling.

Who may do what with accounts (creating, changing, deleting them) is `smartrlp.services.users`; this module only
answers "who is this" and "may they moderate this event". Nothing here knows HTTP: the web layer reads cookies and
headers and passes the session id or token in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import secrets
import sqlite3
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import TimestampSigner

from smartrlp.core.limits import Failures, Rate, after_failure
from smartrlp.db.store import Database, Transaction
from smartrlp.services.context import Context

# How often a session's or token's "last seen" is written: often enough for the idle expiry, not on every request.
TOUCH_EVERY_SECONDS = 60.0
TOKEN_PREFIX = "srl_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot, not a secret

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


@dataclass(frozen=True, slots=True)
class Problem:
    """One rule an account change broke. `code` names the rule, so every front end can say it in its own words
    (the admin pages in German, from smartrlp.web.forms); `message` says it in English, for the command line."""

    code: str
    message: str
    field: str | None = None  # the form field it concerns, if any
    params: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))


class AccountError(ValueError):
    """An account change refused, with every problem found (the command line prints them, a form shows each)."""

    def __init__(self, *problems: Problem) -> None:
        assert problems
        super().__init__(" ".join(p.message for p in problems))
        self.problems = problems

    @property
    def code(self) -> str:
        return self.problems[0].code


def problem(code: str, message: str, field: str | None = None, **params: Any) -> Problem:
    return Problem(code, message, field, MappingProxyType(params))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def seconds_since(iso: str) -> float:
    return time.time() - datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# --- names -----------------------------------------------------------------------------------------------------


def normalised_name(raw: str) -> str:
    # One spelling of "ü" whatever the keyboard sent, so names that look alike are alike.
    return unicodedata.normalize("NFC", raw.strip())


def same_name(a: str, b: str) -> bool:
    """Names are one name whatever their case, beyond ASCII too ("Ärger" is "ärger")."""
    return normalised_name(a).casefold() == normalised_name(b).casefold()


async def account_named(conn: Database | Transaction, name: str) -> sqlite3.Row | None:
    """The account of this name, compared as `same_name` does (the exact spelling first, for old databases that
    hold two names differing only beyond ASCII case)."""
    # SQLite's NOCASE folds ASCII only, so the comparison is made here. A city has a few dozen accounts.
    wanted = normalised_name(name)
    rows = await conn.fetchall("SELECT id, name, role, password_hash FROM moderators")
    exact = [r for r in rows if r["name"] == wanted]
    matching = exact or [r for r in rows if same_name(r["name"], wanted)]
    return matching[0] if matching else None


# --- passwords and login sessions -------------------------------------------------------------------------------


async def check_password(ctx: Context, name: str, password: str) -> Moderator | None:
    row = await account_named(ctx.db, name)
    stored = row["password_hash"] if row is not None else _DUMMY_HASH
    ok = await asyncio.to_thread(password_matches, stored, password)
    return Moderator.from_row(row) if ok and row is not None else None


async def start_session(ctx: Context, moderator: Moderator) -> str:
    session_id = secrets.token_urlsafe(24)
    async with ctx.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO login_sessions (id, moderator_id, created_at, last_seen_at) "
            "VALUES (:id, :moderator_id, :now, :now)",
            {"id": session_id, "moderator_id": moderator.id, "now": ctx.now()},
        )
    return session_id


@dataclass(frozen=True, slots=True)
class LoginSession:
    id: str
    moderator: Moderator
    idle_seconds: float


async def live_session(ctx: Context, session_id: str) -> LoginSession | None:
    """The session if it is neither idle too long nor past its lifetime (settings), else None."""
    row = await ctx.db.fetchone(
        "SELECT m.id, m.name, m.role, s.created_at, s.last_seen_at FROM login_sessions s "
        "JOIN moderators m ON m.id = s.moderator_id WHERE s.id = :id",
        {"id": session_id},
    )
    if row is None:
        return None
    idle = seconds_since(row["last_seen_at"])
    # The signed cookie's timestamp enforces the absolute limit too; the database decides, so a cookie kept past
    # its Max-Age (or a copied one) is refused. The row stays: /admin/users shows it as the last login.
    if idle > ctx.settings.session_idle or seconds_since(row["created_at"]) > ctx.settings.session_max_age:
        return None
    return LoginSession(session_id, Moderator.from_row(row), idle)


async def touch_session(ctx: Context, session: LoginSession) -> None:
    """Note that the session was used, when it was last noted long enough ago to matter for the idle expiry."""
    if session.idle_seconds > min(TOUCH_EVERY_SECONDS, ctx.settings.session_idle / 4):
        async with ctx.db.transaction() as tx:
            await tx.execute(
                "UPDATE login_sessions SET last_seen_at = :now WHERE id = :id", {"id": session.id, "now": ctx.now()}
            )


async def end_session(ctx: Context, session_id: str) -> None:
    # Ended on the server: the cookie is worthless from now on, even if a copy of it survives.
    async with ctx.db.transaction() as tx:
        await tx.execute("DELETE FROM login_sessions WHERE id = :id", {"id": session_id})


def make_session_signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt="smartrlp.session")


# --- bearer tokens ------------------------------------------------------------------------------------------------


async def create_token(ctx: Context, moderator_name: str, label: str = "") -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with ctx.db.transaction() as tx:
        row = await account_named(tx, moderator_name)
        if row is None:
            raise AccountError(
                problem("moderator_unknown", f"There is no moderator named {moderator_name!r}.", name=moderator_name)
            )
        await tx.execute(
            "INSERT INTO api_tokens (moderator_id, token_hash, label, created_at) "
            "VALUES (:moderator_id, :hash, :label, :now)",
            {"moderator_id": row["id"], "hash": token_hash(token), "label": label, "now": ctx.now()},
        )
    return token


async def list_tokens(ctx: Context, moderator_name: str | None = None) -> list[sqlite3.Row]:
    """Every token (never the token itself: only its hash is stored), oldest first, optionally of one moderator."""
    moderator_id = None
    if moderator_name is not None:
        row = await account_named(ctx.db, moderator_name)
        if row is None:
            return []
        moderator_id = row["id"]
    return await ctx.db.fetchall(
        "SELECT t.id, m.name AS moderator, t.label, t.created_at, t.last_used_at, t.revoked_at "
        "FROM api_tokens t JOIN moderators m ON m.id = t.moderator_id "
        "WHERE :moderator_id IS NULL OR m.id = :moderator_id ORDER BY t.id",
        {"moderator_id": moderator_id},
    )


async def revoke_token(ctx: Context, token_id: int) -> sqlite3.Row:
    async with ctx.db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT t.id, m.name AS moderator, t.label, t.revoked_at FROM api_tokens t "
            "JOIN moderators m ON m.id = t.moderator_id WHERE t.id = :id",
            {"id": token_id},
        )
        if row is None:
            raise AccountError(problem("token_unknown", f"There is no token {token_id}."))
        if row["revoked_at"] is not None:
            message = f"Token {token_id} was revoked already, at {row['revoked_at']}."
            raise AccountError(problem("token_revoked", message))
        await tx.execute("UPDATE api_tokens SET revoked_at = :now WHERE id = :id", {"id": token_id, "now": ctx.now()})
    return row


async def token_moderator(ctx: Context, token: str) -> Moderator | None:
    """The moderator a bearer token belongs to, or None if it is unknown or revoked; notes its use now and then."""
    row = await ctx.db.fetchone(
        "SELECT m.id, m.name, m.role, t.id AS token_id, t.last_used_at FROM api_tokens t "
        "JOIN moderators m ON m.id = t.moderator_id WHERE t.token_hash = :hash AND t.revoked_at IS NULL",
        {"hash": token_hash(token)},
    )
    if row is None:
        return None
    if row["last_used_at"] is None or seconds_since(row["last_used_at"]) > TOUCH_EVERY_SECONDS:
        async with ctx.db.transaction() as tx:
            await tx.execute(
                "UPDATE api_tokens SET last_used_at = :now WHERE id = :id", {"id": row["token_id"], "now": ctx.now()}
            )
    return Moderator.from_row(row)


# --- which events -------------------------------------------------------------------------------------------------


async def may_moderate(db: Database, moderator: Moderator, event_id: int) -> bool:
    if moderator.role == "admin":
        return True
    row = await db.fetchone(
        "SELECT m.all_events, EXISTS (SELECT 1 FROM event_moderators em WHERE em.moderator_id = m.id "
        "AND em.event_id = :event_id) AS assigned FROM moderators m WHERE m.id = :id",
        {"id": moderator.id, "event_id": event_id},
    )
    return row is not None and bool(row["all_events"] or row["assigned"])


# --- login throttling ---------------------------------------------------------------------------------------------

# Failures per account name are kept in the database (table login_failures): they must survive a restart, or an
# attacker who can crash or restart the server resets the lock, and with several processes they are shared. The
# name is stored only as an HMAC with the secret key (it may be a password typed into the wrong field). Failures
# per address are kept in memory (limits.AddressFailures): addresses are not written to disk. A name that does not
# exist is throttled exactly like one that does, so the answers do not tell them apart.


def login_key(signer: TimestampSigner, name: str) -> str:
    """What login_failures stores for a typed name: an HMAC of it, the same whatever its case."""
    return signer.get_signature(f"login:{name.strip().casefold()}").decode()


async def login_wait(ctx: Context, key: str) -> float:
    """Seconds until this name may try again (0: at once)."""
    row = await ctx.db.fetchone("SELECT blocked_until FROM login_failures WHERE key = :key", {"key": key})
    return max(0.0, row["blocked_until"] - time.time()) if row is not None else 0.0


async def login_failed(ctx: Context, key: str, rate: Rate) -> float:
    """Count a failure; returns the seconds until the next attempt may be made (0: at once)."""
    now = time.time()
    async with ctx.db.transaction() as tx:
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


async def login_succeeded(ctx: Context, key: str) -> None:
    async with ctx.db.transaction() as tx:
        await tx.execute("DELETE FROM login_failures WHERE key = :key", {"key": key})
