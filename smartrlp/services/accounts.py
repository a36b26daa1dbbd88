"""Moderators and how they prove who they are: passwords, login sessions and bearer tokens."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import TimestampSigner

from smartrlp.db.store import Database, utcnow
from smartrlp.web.http import SESSION_COOKIE

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


def token_hash(token: str) -> str:
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
            {"moderator_id": row["id"], "hash": token_hash(token), "label": label, "now": utcnow()},
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


def seconds_since(iso: str) -> float:
    return time.time() - datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()






async def may_moderate(db: Database, moderator: Moderator, event_id: int) -> bool:
    if moderator.role == "admin":
        return True
    row = await db.fetchone(
        "SELECT m.all_events, EXISTS (SELECT 1 FROM event_moderators em WHERE em.moderator_id = m.id "
        "AND em.event_id = :event_id) AS assigned FROM moderators m WHERE m.id = :id",
        {"id": moderator.id, "event_id": event_id},
    )
    return row is not None and bool(row["all_events"] or row["assigned"])














# Login throttling. Failures per account name are kept in the database (table login_failures): they must survive
# a restart, or an attacker who can crash or restart the server resets the lock, and with several processes they
# are shared. The name is stored only as an HMAC with the secret key (it may be a password typed into the wrong
# field). Failures per address are kept in memory (limits.AddressFailures): addresses are not written to disk.
# A name that does not exist is throttled exactly like one that does, so the answers do not tell them apart.














def make_session_signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt="smartrlp.session")


