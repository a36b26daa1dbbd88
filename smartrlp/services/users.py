"""The account administration: create an account, change its role and events, set its password, delete it.

One set of rules for every way in: the command line (`smartrlp moderator add`, `smartrlp admin add`), /admin/users,
the demo and the tests. They are the stricter of the two the project once had: a name of 1 to
`FIELD_LIMITS["account_name"]` characters without control or invisible characters, unique ignoring case (beyond
ASCII too), and a password of `password_min` to `password_max` characters. A refused change raises
`accounts.AccountError` with every problem found, each with a code the admin pages put into German.

`actor` is the admin acting through /admin/users, checked again under the write lock (an admin demoted or deleted
a moment ago must not act any more); None is the operator at the command line, who may do anything.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import unicodedata
from collections.abc import Collection, Sequence
from typing import Any

from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.db.store import Database, Transaction
from smartrlp.models.accounts import ROLES
from smartrlp.services import accounts
from smartrlp.services.accounts import AccountError, Moderator, Problem, normalised_name, problem
from smartrlp.services.context import Context

NAME_MAX = FIELD_LIMITS["account_name"]
PASSWORD_MIN = FIELD_LIMITS["password_min"]
PASSWORD_MAX = FIELD_LIMITS["password_max"]  # the login form reads no more than this: a longer one could never work
# Lowercase letters and digits without the ones people mix up when they copy by hand (l/1, o/0, i): 20 of
# them carry 99 bits, in groups of five so they can be read out over the phone.
READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"


def generate_password() -> str:
    groups = ("".join(secrets.choice(READABLE_CHARACTERS) for _ in range(5)) for _ in range(4))
    return "-".join(groups)


# --- the rules ----------------------------------------------------------------------------------------------------


def name_problem(name: str) -> Problem | None:
    """What is wrong with a (normalised) name on its own, or None; whether it is taken needs the database."""
    if not name:
        return problem("name_missing", "The name must not be empty.", "name")
    if len(name) > NAME_MAX:
        return problem("name_too_long", f"The name must have 1 to {NAME_MAX} characters.", "name", max=NAME_MAX)
    # Control and format characters (tabs, line breaks, invisible direction marks) would make two names that
    # look the same on screen, or break the pages that show them.
    if any(unicodedata.category(c)[0] == "C" or unicodedata.category(c) in {"Zl", "Zp"} for c in name):
        message = "The name must not contain control characters such as tabs, line breaks or invisible characters."
        return problem("name_control", message, "name")
    return None


def password_problem(password: str) -> Problem | None:
    if len(password) < PASSWORD_MIN:
        message = f"The password must have at least {PASSWORD_MIN} characters."
        return problem("password_too_short", message, "password", min=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        message = f"The password must have at most {PASSWORD_MAX} characters."
        return problem("password_too_long", message, "password", max=PASSWORD_MAX)
    return None


def role_problem(role: str) -> Problem | None:
    if role not in ROLES:
        return problem("role_unknown", f"The role must be one of {', '.join(ROLES)}.", "role")
    return None


async def _name_taken(conn: Database | Transaction, name: str) -> Problem | None:
    row = await accounts.account_named(conn, name)
    if row is None:
        return None
    message = f"A moderator named {row['name']!r} exists already (names are the same whatever their case)."
    return problem("name_taken", message, "name", name=row["name"])


async def _unknown_event(conn: Database | Transaction, event_ids: Collection[int]) -> Problem | None:
    if not event_ids:
        return None
    params = {f"e{i}": event_id for i, event_id in enumerate(sorted(event_ids))}
    row = await conn.fetchone(
        f"SELECT COUNT(*) AS n FROM events WHERE id IN ({', '.join(f':{k}' for k in params)})", params
    )
    if row is not None and int(row["n"]) == len(params):
        return None
    return problem("event_unknown", "One of the chosen events does not exist (any more).", "events")


def _refuse(*found: Problem | None) -> None:
    problems = [p for p in found if p is not None]
    if problems:
        raise AccountError(*problems)


async def event_ids_by_slug(ctx: Context, slugs: Sequence[str]) -> list[int]:
    """The ids of the events with these slugs, for the command line, which names events by slug."""
    ids = []
    for slug in slugs:
        row = await ctx.db.fetchone("SELECT id FROM events WHERE slug = :slug", {"slug": slug})
        if row is None:
            raise AccountError(problem("event_unknown", f"There is no event {slug!r}.", "events", slug=slug))
        ids.append(int(row["id"]))
    return ids


async def new_account_problems(
    ctx: Context, name: str, password: str | None, role: str, event_ids: Collection[int] = ()
) -> list[Problem]:
    """Every reason `create_account` would refuse these, at once (a form shows them all in one answer); a password
    of None is not judged (the form found something wrong with it already)."""
    name = normalised_name(name)
    found = [name_problem(name), role_problem(role), password_problem(password) if password is not None else None]
    if found[0] is None:
        found.append(await _name_taken(ctx.db, name))
    found.append(await _unknown_event(ctx.db, event_ids))
    return [p for p in found if p is not None]


# --- changes ------------------------------------------------------------------------------------------------------


async def _still_admin(tx: Transaction, actor: Moderator | None) -> None:
    if actor is None:
        return
    row = await tx.fetchone("SELECT role FROM moderators WHERE id = :id", {"id": actor.id})
    if row is None or row["role"] != "admin":
        raise AccountError(problem("not_admin", "Only administrators may change accounts."))


async def _admin_count(tx: Transaction) -> int:
    row = await tx.fetchone("SELECT COUNT(*) AS n FROM moderators WHERE role = 'admin'")
    return int(row["n"]) if row is not None else 0


async def account(conn: Database | Transaction, account_id: int) -> sqlite3.Row:
    row = await conn.fetchone("SELECT id, name, role, created_at FROM moderators WHERE id = :id", {"id": account_id})
    if row is None:
        raise AccountError(problem("account_missing", f"There is no account {account_id}."))
    return row


EVENT_GONE = problem("event_gone", "One of the chosen events was deleted just now; please try again.", "events")


async def _set_events(tx: Transaction, account_id: int, role: str, event_ids: Collection[int]) -> None:
    """Replace the account's events; refused if one of them was deleted since it was checked."""
    await tx.execute("DELETE FROM event_moderators WHERE moderator_id = :id", {"id": account_id})
    everything = role == "admin" or not event_ids
    # The flag, not the absence of rows, grants every event: deleting an account's last event must not do that.
    await tx.execute(
        "UPDATE moderators SET all_events = :all_events WHERE id = :id",
        {"all_events": int(everything), "id": account_id},
    )
    # An admin moderates every event anyway (accounts.may_moderate); rows would only mislead the next reader.
    if everything:
        return
    # Without this, an account meant for one event whose event just vanished would get no rows: every event.
    if await _unknown_event(tx, event_ids) is not None:
        raise AccountError(EVENT_GONE)
    await tx.executemany(
        "INSERT INTO event_moderators (event_id, moderator_id) VALUES (:event_id, :moderator_id)",
        [{"event_id": e, "moderator_id": account_id} for e in sorted(event_ids)],
    )


async def create_account(
    ctx: Context,
    name: str,
    password: str,
    *,
    role: str = "moderator",
    event_ids: Collection[int] = (),
    actor: Moderator | None = None,
) -> Moderator:
    """A new account; without events (or as an admin) it moderates every event, later ones too."""
    name = normalised_name(name)
    _refuse(*await new_account_problems(ctx, name, password, role, event_ids))
    # Argon2 takes a moment on purpose; the writer lock is not held meanwhile.
    password_hash = await asyncio.to_thread(accounts.hash_password, password)
    async with ctx.db.transaction() as tx:
        await _still_admin(tx, actor)
        _refuse(await _name_taken(tx, name))  # again, under the write lock
        row = await tx.fetchone(
            "INSERT INTO moderators (name, password_hash, role, created_at) "
            "VALUES (:name, :hash, :role, :now) RETURNING id, name, role",
            {"name": name, "hash": password_hash, "role": role, "now": ctx.now()},
        )
        assert row is not None
        await _set_events(tx, int(row["id"]), role, event_ids)
    return Moderator.from_row(row)


async def update_account(
    ctx: Context, actor: Moderator | None, account_id: int, *, role: str, event_ids: Collection[int] = ()
) -> None:
    """Give the account this role and these events (none: every event). An admin keeps their own role, and the
    last admin stays one, so that somebody can always open the administration."""
    _refuse(role_problem(role), await _unknown_event(ctx.db, event_ids))
    async with ctx.db.transaction() as tx:
        await _still_admin(tx, actor)
        row = await account(tx, account_id)
        demoting = row["role"] == "admin" and role != "admin"
        if demoting and actor is not None and row["id"] == actor.id:
            raise AccountError(
                problem("self_demote", "Administrators cannot take the role away from themselves.", "role")
            )
        # Implied by the rule above for admins (the actor is an admin too); it also guards the command line.
        if demoting and await _admin_count(tx) <= 1:
            raise AccountError(problem("last_admin", "This is the last account with the role admin.", "role"))
        await tx.execute("UPDATE moderators SET role = :role WHERE id = :id", {"role": role, "id": account_id})
        await _set_events(tx, account_id, role, event_ids)


async def set_password(
    ctx: Context,
    actor: Moderator | None,
    account_id: int,
    password: str,
    *,
    keep_session: str | None = None,
    revoke_tokens: bool = False,
) -> None:
    """A new password; every login session of the account ends but `keep_session` (the admin's own, when they
    change their own password), because the point of a new password is usually to lock someone out."""
    _refuse(password_problem(password))
    password_hash = await asyncio.to_thread(accounts.hash_password, password)
    async with ctx.db.transaction() as tx:
        await _still_admin(tx, actor)
        await account(tx, account_id)
        await tx.execute(
            "UPDATE moderators SET password_hash = :hash WHERE id = :id", {"hash": password_hash, "id": account_id}
        )
        await tx.execute(
            "DELETE FROM login_sessions WHERE moderator_id = :id AND id IS NOT :keep",
            {"id": account_id, "keep": keep_session},
        )
        if revoke_tokens:
            await tx.execute(
                "UPDATE api_tokens SET revoked_at = :now WHERE moderator_id = :id AND revoked_at IS NULL",
                {"now": ctx.now(), "id": account_id},
            )


async def delete_account(ctx: Context, actor: Moderator | None, account_id: int) -> None:
    """Delete the account with its login sessions, tokens and event assignments (ON DELETE CASCADE); what it did
    as a moderator stays, no longer linked to it (SET NULL). Nobody deletes themselves or the last admin."""
    async with ctx.db.transaction() as tx:
        await _still_admin(tx, actor)
        row = await account(tx, account_id)
        if actor is not None and row["id"] == actor.id:
            raise AccountError(problem("self_delete", "Administrators cannot delete their own account."))
        # Implied by the self rule for admins (the actor is an admin too); kept for the command line and for the
        # day that rule is relaxed.
        if row["role"] == "admin" and await _admin_count(tx) <= 1:
            raise AccountError(problem("last_admin", "This is the last account with the role admin."))
        await tx.execute("DELETE FROM moderators WHERE id = :id", {"id": account_id})


# --- what the admin pages show ------------------------------------------------------------------------------------


async def any_account(ctx: Context) -> bool:
    return await ctx.db.fetchone("SELECT 1 FROM moderators") is not None


async def overview(ctx: Context) -> list[dict[str, Any]]:
    """Every account with its last login, its valid tokens and the titles of its events (admins: none, they
    moderate every event); admins first, then by name."""
    rows = await ctx.db.fetchall(
        "SELECT m.id, m.name, m.role, m.all_events, m.created_at, "
        "(SELECT MAX(s.created_at) FROM login_sessions s WHERE s.moderator_id = m.id) AS last_login, "
        "(SELECT COUNT(*) FROM api_tokens t WHERE t.moderator_id = m.id AND t.revoked_at IS NULL) AS tokens "
        "FROM moderators m ORDER BY m.role = 'moderator', m.name COLLATE NOCASE, m.id"
    )
    titles: dict[int, list[str]] = {}
    for row in await ctx.db.fetchall(
        "SELECT em.moderator_id, e.title FROM event_moderators em JOIN events e ON e.id = em.event_id "
        "ORDER BY e.starts_at DESC, e.id DESC"
    ):
        titles.setdefault(int(row["moderator_id"]), []).append(str(row["title"]))
    return [{**dict(r), "events": [] if r["role"] == "admin" else titles.get(int(r["id"]), [])} for r in rows]


async def event_choices(ctx: Context) -> list[dict[str, Any]]:
    """The events an account can be given, the active ones first, newest first."""
    rows = await ctx.db.fetchall(
        "SELECT id, slug, title, starts_at, archived_at FROM events "
        "ORDER BY archived_at IS NOT NULL, starts_at DESC, id DESC"
    )
    return [dict(r) for r in rows]


async def assigned_event_ids(ctx: Context, account_id: int) -> set[int]:
    rows = await ctx.db.fetchall("SELECT event_id FROM event_moderators WHERE moderator_id = :id", {"id": account_id})
    return {int(r["event_id"]) for r in rows}


async def logins_of(ctx: Context, account_id: int) -> dict[str, int]:
    """How many login sessions and valid tokens the account has: what deleting it or a new password ends."""
    row = await ctx.db.fetchone(
        "SELECT (SELECT COUNT(*) FROM login_sessions WHERE moderator_id = :id) AS sessions, "
        "(SELECT COUNT(*) FROM api_tokens WHERE moderator_id = :id AND revoked_at IS NULL) AS tokens",
        {"id": account_id},
    )
    return (
        {"sessions": int(row["sessions"]), "tokens": int(row["tokens"])}
        if row is not None
        else {"sessions": 0, "tokens": 0}
    )
