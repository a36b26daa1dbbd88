"""The export over HTTP: the JSON and CSV downloads and the printable summary page. The export is built in
smartrlp/services/export.py and worded for the page in smartrlp/web/summary.py."""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.core import i18n
from smartrlp.models.export import CsvQuery, Export
from smartrlp.services import export
from smartrlp.web.auth import moderator_page_access
from smartrlp.web.endpoint import Endpoints, event_from_path
from smartrlp.web.http import app_state
from smartrlp.web.pages import TRANSLATED_TEMPLATES, render
from smartrlp.web.summary import summarise

api = Endpoints("export")


def _download(file: export.ExportFile) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{file.filename}"',
        # Pending and rejected questions are in it: no shared cache may keep a copy.
        "Cache-Control": "no-store",
    }
    return Response(file.body, media_type=file.media_type, headers=headers)


@api.get("/api/events/{slug}/export.json", response=Export, moderator=True)
async def export_json(request: Request, event: sqlite3.Row) -> Response:
    """Download the event's questions and poll results as JSON"""
    data = await export.export_of_event(app_state(request).db, event)
    return _download(export.render_export(data, "json"))


@api.get("/api/events/{slug}/export.csv", query=CsvQuery, moderator=True, media_type="text/csv")
async def export_csv(request: Request, event: sqlite3.Row, query: CsvQuery) -> Response:
    """Download the questions or the poll results as CSV

    UTF-8 with a byte order mark, RFC 4180, as an attachment (`text/csv`).
    """
    data = await export.export_of_event(app_state(request).db, event)
    return _download(export.render_export(data, "csv", query.what))


async def summary_page(request: Request) -> Response:
    state = app_state(request)
    event = await event_from_path(request)
    moderator = await moderator_page_access(request, event["id"])
    if isinstance(moderator, Response):
        return moderator
    # Worded in the language the page is rendered in (German until summary.html is among the translated pages).
    translated = "summary.html" in TRANSLATED_TEMPLATES
    with i18n.language(i18n.current_language() if translated else i18n.DEFAULT_LANGUAGE):
        summary = summarise(await export.export_of_event(state.db, event), state.ctx.now())
    response = render(request, "summary.html", slug=event["slug"], summary=summary, moderator=moderator)
    response.headers["Cache-Control"] = "no-store"
    return response


routes = [*api.routes, Route("/e/{slug}/summary", summary_page, methods=["GET"])]
