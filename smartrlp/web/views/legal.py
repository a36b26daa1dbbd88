"""The legal pages every public body's site needs: the privacy notice and the accessibility statement.

Both come with a default text written for this product, with the operator's details marked for replacement. An
operator who has their own text names an HTML fragment file in the settings; it replaces the default body.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.web.http import app_state
from smartrlp.web.pages import operator_text, render


async def privacy_page(request: Request) -> Response:
    settings = app_state(request).settings
    return render(
        request,
        "privacy.html",
        operator=settings.operator,
        own_text=await operator_text(settings.privacy_file),
        retention_days=settings.retention_days,
    )


async def accessibility_page(request: Request) -> Response:
    settings = app_state(request).settings
    return render(
        request,
        "accessibility.html",
        operator=settings.operator,
        own_text=await operator_text(settings.accessibility_file),
    )


routes = [
    Route("/datenschutz", privacy_page, methods=["GET"]),
    Route("/barrierefreiheit", accessibility_page, methods=["GET"]),
]
