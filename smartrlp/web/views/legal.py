"""The legal pages every public body's site needs: the privacy notice and the accessibility statement.

Both come with a default text written for this product, with the operator's details marked for replacement. An
operator who has their own text names an HTML fragment file in the settings; it replaces the default body.
"""

from __future__ import annotations

import logging

import anyio
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.web.http import app_state
from smartrlp.web.pages import render

log = logging.getLogger("smartrlp.legal")


async def operator_text(path: str) -> Markup | None:
    """The operator's fragment, read on every request so a corrected text shows without a restart."""
    if not path:
        return None
    try:
        text = await anyio.Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        # The default text, with its marked placeholders, is better than no legal page at all.
        log.error("cannot read %s (%s); showing the default text instead", path, exc)
        return None
    # Trusted markup: the file comes from the operator's configuration, never from visitors.
    return Markup(text)  # noqa: S704


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
