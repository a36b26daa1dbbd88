"""The studio side over HTTP: the screen and studio-link API, the presenter and overlay pages, joining by code and
the QR code. The rules are in smartrlp/services/studio.py."""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import quote

from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smartrlp.core.errors import ApiError
from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.core.i18n import gettext
from smartrlp.models.events import WATCH_CHOICES
from smartrlp.models.studio import CreatedStudioLink, CreateStudioLink, Screen, SetScreen, StudioLinkList
from smartrlp.services import events, studio
from smartrlp.services.accounts import Moderator
from smartrlp.web.auth import authenticate
from smartrlp.web.endpoint import Endpoints, event_from_path
from smartrlp.web.http import app_state, path_id
from smartrlp.web.pages import page_config, render

api = Endpoints("studio")


def site_base(conn: HTTPConnection) -> str:
    """The address studio links and join codes point to (`SMARTRLP_PUBLIC_URL`, else the one asked for)."""
    return studio.public_base(app_state(conn).settings.public_url, str(conn.base_url))


@api.put("/api/events/{slug}/screen", body=SetScreen, response=Screen, errors=(409,), moderator=True)
async def set_screen(request: Request, event: sqlite3.Row, body: SetScreen) -> dict[str, Any]:
    """Choose what the presenter screen and the overlay show

    `poll` needs `poll_id` of an open or closed poll: 409 `poll_not_launched` for a draft. A change is broadcast as
    `screen`.
    """
    return await studio.set_screen(app_state(request).ctx, event["id"], body)


@api.get("/api/events/{slug}/studio-links", response=StudioLinkList, moderator=True)
async def list_studio_links(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """The studio links of an event (without their tokens)"""
    return await studio.list_links(app_state(request).ctx, event["id"])


@api.post(
    "/api/events/{slug}/studio-links", body=CreateStudioLink, response=CreatedStudioLink, status=201, moderator=True
)
async def create_studio_link(
    request: Request, event: sqlite3.Row, moderator: Moderator, body: CreateStudioLink
) -> dict[str, Any]:
    """Make a read-only link for the presenter screen or the overlay; its address is shown once"""
    return await studio.create_link(app_state(request).ctx, event, body, moderator=moderator, base=site_base(request))


@api.delete("/api/events/{slug}/studio-links/{link_id}", status=204, moderator=True)
async def revoke_studio_link(request: Request, event: sqlite3.Row) -> None:
    """Revoke a studio link: its view answers 403 from then on"""
    await studio.revoke_link(app_state(request).ctx, event["id"], path_id(request, "link_id", "link"))


# --- pages --------------------------------------------------------------------------------------------------


async def _studio_page(request: Request, view: str, template: str) -> Response:
    row = await event_from_path(request)
    try:
        moderator = await authenticate(request)
    except ApiError:
        # A stale bearer token or session must not hide the page from a machine that also has a valid link.
        moderator = None
    token = request.query_params.get("token")
    role = await studio.studio_role(app_state(request).ctx, row["id"], view, moderator=moderator, token=token)
    event = await events.event_details(app_state(request).db, row)
    join_url = studio.join_url(site_base(request), row["join_code"])
    config = page_config(
        {
            "slug": row["slug"],
            "role": role,
            "token": token if role == "studio" else None,
            "join_url": join_url,
            "join_code": row["join_code"],
        }
    )
    return render(request, template, event=event, role=role, config=config, join_url=join_url)


async def presenter_page(request: Request) -> Response:
    return await _studio_page(request, "present", "present.html")


async def overlay_page(request: Request) -> Response:
    return await _studio_page(request, "overlay", "overlay.html")


async def _join(request: Request, typed: str) -> Response:
    slug = await studio.slug_for_join_code(app_state(request).ctx, typed)
    if slug is None:
        error = gettext("Zu diesem Code gibt es keine Veranstaltung. Bitte prüfen Sie den Code.")
        # The form shows what was typed again, cut to what its field takes.
        shown = typed[: FIELD_LIMITS["join_code_input"]]
        return render(request, "join.html", code=shown, error=error, status=404)
    # `?watch=tv` (the QR code in a TV broadcast) goes along: the page then waits for the viewer's TV picture.
    watch = request.query_params.get("watch")
    suffix = f"?watch={watch}" if watch in WATCH_CHOICES else ""
    return RedirectResponse(f"/e/{quote(slug)}/mitmachen{suffix}", status_code=303)


async def join_page(request: Request) -> Response:
    typed = request.query_params.get("code")
    if typed is None:
        return render(request, "join.html", code="", error=None)
    return await _join(request, typed)


async def join_by_code(request: Request) -> Response:
    return await _join(request, request.path_params["code"])


async def qr_code(request: Request) -> Response:
    row = await event_from_path(request)
    svg = studio.join_qr_svg(studio.join_url(site_base(request), row["join_code"]), row["title"])
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-cache"})


routes = [
    *api.routes,
    Route("/e/{slug}/present", presenter_page, methods=["GET"]),
    Route("/e/{slug}/overlay", overlay_page, methods=["GET"]),
    Route("/e/{slug}/qr.svg", qr_code, methods=["GET"]),
    Route("/join", join_page, methods=["GET"]),
    Route("/j/{code}", join_by_code, methods=["GET"]),
]
