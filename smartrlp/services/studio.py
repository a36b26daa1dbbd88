"""The studio side: what goes on screen, read-only links for studio machines, joining by code and QR.

The moderator decides what the presenter screen and the overlay show (`screen`); both views follow that one
choice live. Studio machines (the host's tablet, the vision mixer's browser source) get a long random link
instead of a login: it opens one view of one event, read-only, and can be revoked.
"""

from __future__ import annotations

import io
import secrets
import sqlite3
from typing import Any
from urllib.parse import quote

import segno

from smartrlp.core.errors import ApiError, invalid
from smartrlp.db.store import Database
from smartrlp.models.studio import CreateStudioLink, SetScreen
from smartrlp.realtime import protocol
from smartrlp.services import accounts, events
from smartrlp.services.context import Context

STUDIO_TOKEN_PREFIX = "srs_"  # noqa: S105 - a prefix that makes leaked links recognisable, not a secret
# Longer than any token this module hands out; a longer one is not looked up at all.
MAX_TOKEN = 200


def public_base(public_url: str, request_base: str) -> str:
    """The site's address for links people open elsewhere: the configured public address, else the one the
    request came to (`scheme://host[:port]`, with or without a trailing slash)."""
    return (public_url or request_base).rstrip("/")


def join_url(base: str, code: str) -> str:
    return f"{base}/j/{code}"


def screen_json(row: sqlite3.Row) -> dict[str, Any]:
    return {"mode": row["screen_mode"], "poll_id": row["screen_poll_id"], "pinned": bool(row["screen_pinned"])}


# --- access -------------------------------------------------------------------------------------------------


async def studio_link_for(db: Database, token: str | None, event_id: int, view: str | None = None) -> int | None:
    """The id of the valid, unrevoked link `token` for this event (and view), or None."""
    if not token or not token.startswith(STUDIO_TOKEN_PREFIX) or len(token) > MAX_TOKEN:
        return None
    row = await db.fetchone(
        "SELECT id, view FROM studio_links WHERE token_hash = :hash AND event_id = :event_id AND revoked_at IS NULL",
        {"hash": accounts.token_hash(token), "event_id": event_id},
    )
    if row is None or (view is not None and row["view"] != view):
        return None
    return int(row["id"])


async def studio_role(
    ctx: Context, event_id: int, view: str, *, moderator: accounts.Moderator | None, token: str | None
) -> str:
    """Who opens a studio view: 'moderator' (of this event) or 'studio' (a valid link); anyone else gets 403."""
    if moderator is not None and await accounts.may_moderate(ctx.db, moderator, event_id):
        return "moderator"
    if await studio_link_for(ctx.db, token, event_id, view) is not None:
        return "studio"
    raise ApiError(403, "forbidden", "Diese Ansicht braucht einen gültigen Studio-Link oder eine Anmeldung.")


# --- the screen ---------------------------------------------------------------------------------------------


async def set_screen(ctx: Context, event_id: int, body: SetScreen) -> dict[str, Any]:
    """Show a question, a launched poll, the join code or nothing; a change is broadcast as `screen`.

    Putting a question on air switches the screen to it (services/moderation.py) unless this choice is pinned."""
    poll_id = body.poll_id if body.mode == "poll" else None
    if body.mode == "poll" and poll_id is None:
        raise invalid("'poll_id' must name the poll to show.", "poll_id")
    async with ctx.db.transaction() as tx:
        if poll_id is not None:
            poll = await tx.fetchone(
                "SELECT state FROM polls WHERE id = :id AND event_id = :event_id", {"id": poll_id, "event_id": event_id}
            )
            if poll is None:
                raise ApiError(404, "poll_not_found", f"There is no poll {poll_id} in this event.")
            if poll["state"] == "draft":
                raise ApiError(409, "poll_not_launched", "Launch the poll before showing it.")
        current = await tx.fetchone(
            "SELECT screen_mode, screen_poll_id, screen_pinned FROM events WHERE id = :id", {"id": event_id}
        )
        if current is None:
            raise ApiError(404, "event_not_found", "The event no longer exists.")
        screen = {"mode": body.mode, "poll_id": poll_id, "pinned": body.pinned and body.mode != "question"}
        if screen != screen_json(current):
            await tx.execute(
                "UPDATE events SET screen_mode = :mode, screen_poll_id = :poll_id, screen_pinned = :pinned "
                "WHERE id = :id",
                {**screen, "id": event_id},
            )
            await ctx.log.record(tx, event_id, protocol.SCREEN, {"screen": screen})
    return screen


# --- studio links -------------------------------------------------------------------------------------------


async def create_link(
    ctx: Context, event: sqlite3.Row, body: CreateStudioLink, *, moderator: accounts.Moderator, base: str
) -> dict[str, Any]:
    """A new link to one view of `event`; the answer holds its address, which is never shown again."""
    token = STUDIO_TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with ctx.db.transaction() as tx:
        row = await tx.fetchone(
            "INSERT INTO studio_links (event_id, view, token_hash, label, created_by, created_at) "
            "VALUES (:event_id, :view, :hash, :label, :moderator_id, :now) RETURNING id, view, label, created_at",
            {
                "event_id": event["id"],
                "view": body.view,
                "hash": accounts.token_hash(token),
                "label": body.label or "",
                "moderator_id": moderator.id,
                "now": ctx.now(),
            },
        )
    assert row is not None
    # Only the token's hash is kept: this is the one time its address exists.
    url = f"{base}/e/{quote(event['slug'])}/{body.view}?token={token}"
    return {**dict(row), "revoked_at": None, "url": url}


async def list_links(ctx: Context, event_id: int) -> dict[str, Any]:
    rows = await ctx.db.fetchall(
        "SELECT id, view, label, created_at, revoked_at FROM studio_links WHERE event_id = :event_id ORDER BY id",
        {"event_id": event_id},
    )
    return {"links": [dict(r) for r in rows]}


async def revoke_link(ctx: Context, event_id: int, link_id: int) -> None:
    """Revoke a link of this event (again: nothing changes, the first revocation's time stays)."""
    async with ctx.db.transaction() as tx:
        row = await tx.fetchone(
            "UPDATE studio_links SET revoked_at = COALESCE(revoked_at, :now) "
            "WHERE id = :id AND event_id = :event_id RETURNING id",
            {"now": ctx.now(), "id": link_id, "event_id": event_id},
        )
        if row is None:
            raise ApiError(404, "link_not_found", f"There is no studio link {link_id} in this event.")


# --- joining ------------------------------------------------------------------------------------------------


async def slug_for_join_code(ctx: Context, typed: str) -> str | None:
    """The event whose join code this is, however it was typed (case, spaces, dashes), or None."""
    row = await ctx.db.fetchone(
        "SELECT slug FROM events WHERE join_code = :code AND published_at IS NOT NULL",
        {"code": events.normalise_join_code(typed)},
    )
    return None if row is None else str(row["slug"])


def join_qr_svg(url: str, title: str) -> bytes:
    """The QR code of a join address as an SVG image."""
    buffer = io.BytesIO()
    # Error correction "M" survives a TV picture's compression; a quiet zone of 4 modules is the standard.
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=10, border=4, dark="#000", light="#fff", title=f"QR-Code: {title}"
    )
    return buffer.getvalue()
