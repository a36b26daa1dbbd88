"""The studio side: what goes on screen, read-only links for studio machines, joining by code and QR.

The moderator decides what the presenter screen and the overlay show (`screen`); both views follow that one
choice live. Studio machines (the host's tablet, the vision mixer's browser source) get a long random link
instead of a login: it opens one view of one event, read-only, and can be revoked.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import sqlite3
from typing import Any
from urllib.parse import quote

import segno
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smartrlp.core.errors import ApiError, invalid
from smartrlp.core.i18n import gettext
from smartrlp.core.text import clean_text
from smartrlp.db.store import Database, utcnow
from smartrlp.realtime import changes, protocol
from smartrlp.services.accounts import may_moderate
from smartrlp.services.events import event_by_slug, event_details, normalise_join_code
from smartrlp.web.auth import authenticate, require_moderator
from smartrlp.web.http import app_state, json_response, path_id, read_json
from smartrlp.web.pages import page_config, render

SCREEN_MODES = ("none", "question", "poll", "join")
VIEWS = ("present", "overlay")
STUDIO_TOKEN_PREFIX = "srs_"  # noqa: S105 - a prefix that makes leaked links recognisable, not a secret
MAX_LABEL = 100


def public_base(conn: HTTPConnection) -> str:
    configured = app_state(conn).settings.public_url
    if configured:
        return configured.rstrip("/")
    return f"{conn.url.scheme}://{conn.url.netloc}"


def join_url(conn: HTTPConnection, code: str) -> str:
    return f"{public_base(conn)}/j/{code}"


def screen_json(row: sqlite3.Row) -> dict[str, Any]:
    return {"mode": row["screen_mode"], "poll_id": row["screen_poll_id"]}


# --- access -------------------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def studio_link_for(db: Database, token: str | None, event_id: int, view: str | None = None) -> int | None:
    """The id of the valid, unrevoked link `token` for this event (and view), or None."""
    if not token or not token.startswith(STUDIO_TOKEN_PREFIX) or len(token) > 200:
        return None
    row = await db.fetchone(
        "SELECT id, view FROM studio_links WHERE token_hash = :hash AND event_id = :event_id AND revoked_at IS NULL",
        {"hash": _token_hash(token), "event_id": event_id},
    )
    if row is None or (view is not None and row["view"] != view):
        return None
    return int(row["id"])


async def studio_access(request: Request, event_id: int, view: str) -> str:
    """'moderator' or 'studio'; anyone else is refused with 403."""
    state = app_state(request)
    try:
        moderator = await authenticate(request)
    except ApiError:
        moderator = None
    if moderator is not None and await may_moderate(state.db, moderator, event_id):
        return "moderator"
    if await studio_link_for(state.db, request.query_params.get("token"), event_id, view) is not None:
        return "studio"
    raise ApiError(403, "forbidden", "Diese Ansicht braucht einen gültigen Studio-Link oder eine Anmeldung.")


# --- routes -------------------------------------------------------------------------------------------------


async def set_screen(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    body = await read_json(request)
    unknown = sorted(set(body) - {"mode", "poll_id"})
    if unknown:
        raise invalid(f"Unknown field {unknown[0]!r}.", unknown[0])
    mode = body.get("mode")
    if mode not in SCREEN_MODES:
        raise invalid(f"'mode' must be one of {', '.join(SCREEN_MODES)}.", "mode")
    poll_id = body.get("poll_id")
    if mode != "poll":
        poll_id = None
    elif not isinstance(poll_id, int) or isinstance(poll_id, bool):
        raise invalid("'poll_id' must name the poll to show.", "poll_id")
    async with state.db.transaction() as tx:
        if poll_id is not None:
            poll = await tx.fetchone(
                "SELECT state FROM polls WHERE id = :id AND event_id = :event_id",
                {"id": poll_id, "event_id": event["id"]},
            )
            if poll is None:
                raise ApiError(404, "poll_not_found", f"There is no poll {poll_id} in this event.")
            if poll["state"] == "draft":
                raise ApiError(409, "poll_not_launched", "Launch the poll before showing it.")
        current = await tx.fetchone(
            "SELECT screen_mode, screen_poll_id FROM events WHERE id = :id", {"id": event["id"]}
        )
        assert current is not None
        screen = {"mode": mode, "poll_id": poll_id}
        if screen != screen_json(current):
            await tx.execute(
                "UPDATE events SET screen_mode = :mode, screen_poll_id = :poll_id WHERE id = :id",
                {**screen, "id": event["id"]},
            )
            await changes.record(tx, state.hub, event["id"], protocol.SCREEN, {"screen": screen})
    return json_response(screen)


async def create_studio_link(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    moderator = await require_moderator(request, event["id"])
    body = await read_json(request)
    view = body.get("view")
    if view not in VIEWS:
        raise invalid(f"'view' must be one of {', '.join(VIEWS)}.", "view")
    label = clean_text(body.get("label"), field="label", max_length=MAX_LABEL, required=False) or ""
    token = STUDIO_TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with state.db.transaction() as tx:
        row = await tx.fetchone(
            "INSERT INTO studio_links (event_id, view, token_hash, label, created_by, created_at) "
            "VALUES (:event_id, :view, :hash, :label, :moderator_id, :now) RETURNING id, view, label, created_at",
            {
                "event_id": event["id"],
                "view": view,
                "hash": _token_hash(token),
                "label": label,
                "moderator_id": moderator.id,
                "now": utcnow(),
            },
        )
    assert row is not None
    # The token is shown this once; only its hash is kept.
    url = f"{public_base(request)}/e/{quote(event['slug'])}/{view}?token={token}"
    return json_response({**dict(row), "revoked_at": None, "url": url}, status=201)


async def list_studio_links(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    rows = await state.db.fetchall(
        "SELECT id, view, label, created_at, revoked_at FROM studio_links WHERE event_id = :event_id ORDER BY id",
        {"event_id": event["id"]},
    )
    return json_response({"links": [dict(r) for r in rows]})


async def revoke_studio_link(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    link_id = path_id(request, "link_id", "link")
    async with state.db.transaction() as tx:
        row = await tx.fetchone(
            "UPDATE studio_links SET revoked_at = COALESCE(revoked_at, :now) "
            "WHERE id = :id AND event_id = :event_id RETURNING id",
            {"now": utcnow(), "id": link_id, "event_id": event["id"]},
        )
        if row is None:
            raise ApiError(404, "link_not_found", f"There is no studio link {link_id} in this event.")
    return Response(status_code=204)


async def _studio_page(request: Request, view: str, template: str) -> Response:
    state = app_state(request)
    row = await event_by_slug(state.db, request.path_params["slug"])
    role = await studio_access(request, row["id"], view)
    event = await event_details(state.db, row)
    config = page_config(
        {
            "slug": row["slug"],
            "role": role,
            "token": request.query_params.get("token") if role == "studio" else None,
            "join_url": join_url(request, row["join_code"]),
            "join_code": row["join_code"],
        }
    )
    return render(
        request, template, event=event, role=role, config=config, join_url=join_url(request, row["join_code"])
    )


async def presenter_page(request: Request) -> Response:
    return await _studio_page(request, "present", "present.html")


async def overlay_page(request: Request) -> Response:
    return await _studio_page(request, "overlay", "overlay.html")


async def _join(request: Request, raw: str) -> Response:
    code = normalise_join_code(raw)
    row = await app_state(request).db.fetchone("SELECT slug FROM events WHERE join_code = :code", {"code": code})
    if row is None:
        error = gettext("Zu diesem Code gibt es keine Veranstaltung. Bitte prüfen Sie den Code.")
        return render(request, "join.html", code=raw[:20], error=error, status=404)
    return RedirectResponse(f"/e/{quote(row['slug'])}/mitmachen", status_code=303)


async def join_page(request: Request) -> Response:
    raw = request.query_params.get("code")
    if raw is None:
        return render(request, "join.html", code="", error=None)
    return await _join(request, raw)


async def join_by_code(request: Request) -> Response:
    return await _join(request, request.path_params["code"])


async def qr_code(request: Request) -> Response:
    row = await event_by_slug(app_state(request).db, request.path_params["slug"])
    buffer = io.BytesIO()
    # Error correction "M" survives a TV picture's compression; a quiet zone of 4 modules is the standard.
    segno.make(join_url(request, row["join_code"]), error="m").save(
        buffer, kind="svg", scale=10, border=4, dark="#000", light="#fff", title=f"QR-Code: {row['title']}"
    )
    return Response(buffer.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-cache"})


routes = [
    Route("/api/events/{slug}/screen", set_screen, methods=["PUT"]),
    Route("/api/events/{slug}/studio-links", list_studio_links, methods=["GET"]),
    Route("/api/events/{slug}/studio-links", create_studio_link, methods=["POST"]),
    Route("/api/events/{slug}/studio-links/{link_id}", revoke_studio_link, methods=["DELETE"]),
    Route("/e/{slug}/present", presenter_page, methods=["GET"]),
    Route("/e/{slug}/overlay", overlay_page, methods=["GET"]),
    Route("/e/{slug}/qr.svg", qr_code, methods=["GET"]),
    Route("/join", join_page, methods=["GET"]),
    Route("/j/{code}", join_by_code, methods=["GET"]),
]
