"""Errors as answers: JSON for the API, a page in the visitor's language for browsers, never a traceback."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from smartrlp.core import i18n, metrics
from smartrlp.core.errors import ApiError
from smartrlp.core.i18n import N_, language_of
from smartrlp.web.http import app_state, wants_json

log = logging.getLogger("smartrlp")



# A page says in its own language what the API says in English for programs (the API's messages stay English).
_PAGE_DETAILS = {
    "event_not_found": N_("Diese Veranstaltung gibt es nicht (mehr). Bitte prüfen Sie die Adresse."),
    "storage_unavailable": N_("Gerade kann nichts gespeichert werden. Bitte versuchen Sie es in einer Minute noch einmal."),  # noqa: E501
}


# Refusals an operator watches on /metrics: limits and a server that cannot take the work right now.
_REFUSALS = frozenset({"rate_limited", "busy", "overloaded", "storage_unavailable", "try_again"})

_NOT_FOUND = N_("Diese Adresse gibt es nicht. Bitte prüfen Sie, ob sie richtig geschrieben ist.")


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if exc.code in _REFUSALS:
        metrics.REFUSED.labels(exc.code).inc()
    if wants_json(request):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
    detail = i18n.gettext(_PAGE_DETAILS[exc.code]) if exc.code in _PAGE_DETAILS else exc.message
    return render_error(request, exc.status, detail)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=headers)
    if wants_json(request):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse({"error": {"code": code, "message": exc.detail}}, exc.status_code, headers)
    # Starlette's details are English reason phrases ("Not Found"); a page says it in the page's language.
    detail = i18n.gettext(_NOT_FOUND) if exc.status_code == 404 else exc.detail
    return render_error(request, exc.status_code, detail)


_UNEXPECTED = N_("Der Fehler liegt bei uns, nicht bei Ihnen. Bitte versuchen Sie es gleich noch einmal.")


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    # The last line of defence: log it with the traceback, answer in the client's format, keep serving.
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    if wants_json(request):
        body = {"error": {"code": "internal", "message": "Something went wrong on our side."}}
        return JSONResponse(body, status_code=500)
    # Starlette calls this handler from its outermost layer, outside every middleware: the language chosen for
    # the request has been reset by the time the exception gets here, so it is chosen again.
    code, _remember = language_of(request.scope)
    with i18n.language(code):
        return render_error(request, 500, i18n.gettext(_UNEXPECTED))


# German; render_error translates them into the request's language.
_ERROR_TITLES = {
    401: N_("Anmeldung erforderlich"),
    403: N_("Kein Zugriff"),
    404: N_("Seite nicht gefunden"),
    429: N_("Bitte einen Moment warten"),
    500: N_("Ein Fehler ist aufgetreten"),
}


def render_error(request: Request, status: int, detail: str) -> Response:
    try:
        templates = app_state(request).templates
    except AttributeError:
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status)
    # In the request's language; `detail` comes from the code as it is.
    title = i18n.gettext(_ERROR_TITLES[status]) if status in _ERROR_TITLES else i18n.gettext("Anfrage nicht möglich")
    html = templates.get_template("error.html").render(status=status, title=title, detail=detail, translated=True)
    return HTMLResponse(html, status_code=status)

