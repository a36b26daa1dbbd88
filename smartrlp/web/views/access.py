"""The pages that let every citizen in: Leichte Sprache, German Sign Language and the Impressum.

BITV 2.0 § 4 asks public bodies to explain on their site, in Leichte Sprache and in German Sign Language (DGS),
what it offers, how to find one's way and the essentials of the accessibility statement; § 5 DDG asks for an
Impressum. The Leichte-Sprache text is ours (in the catalogue, with an English easy-read version); the DGS video and
the Impressum's details are the operator's settings (README, "Before going live").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.core import streams
from smartrlp.core.settings import Settings
from smartrlp.web.http import app_state
from smartrlp.web.pages import operator_text, render

# The Impressum's fields in the order shown; those that every operator has are marked required, and show a
# placeholder until set. (setting attribute, required)
IMPRINT_FIELDS = (
    ("imprint_name", True),
    ("imprint_address", True),
    ("imprint_representative", True),
    ("imprint_contact", True),
    ("imprint_supervisory_authority", True),
    ("imprint_register", False),
    ("imprint_vat_id", False),
    ("imprint_content_responsible", True),
)


async def easy_read_page(request: Request) -> Response:
    return render(request, "easy_read.html")


def sign_language_video(url: str) -> dict[str, Any] | None:
    """How the DGS video is shown: a file of ours plays at once; one elsewhere waits for consent, as the stream."""
    url = url.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.netloc:  # /static/… or another path of ours
        return {"kind": "file", "url": url}
    on_youtube = streams.youtube(url)
    if on_youtube is not None:
        return {"kind": "consent", "stream": on_youtube.as_json()}
    return {
        "kind": "consent",
        "stream": {
            "provider": "video",
            "label": parts.hostname,
            "url": url,
            "embed_url": url,
            "recipient": parts.hostname,
        },
    }


async def sign_language_page(request: Request) -> Response:
    settings = app_state(request).settings
    return render(request, "sign_language.html", video=sign_language_video(settings.dgs_video_url))


def imprint_entries(settings: Settings) -> list[dict[str, Any]]:
    entries = []
    for name, required in IMPRINT_FIELDS:
        value = str(getattr(settings, name)).strip()
        if value or required:
            entries.append({"field": name, "value": value.replace("\\n", "\n")})
    return entries


async def imprint_page(request: Request) -> Response:
    settings = app_state(request).settings
    return render(
        request,
        "imprint.html",
        own_text=await operator_text(settings.imprint_file),
        entries=imprint_entries(settings),
    )


routes = [
    Route("/leichte-sprache", easy_read_page, methods=["GET"]),
    Route("/gebaerdensprache", sign_language_page, methods=["GET"]),
    Route("/impressum", imprint_page, methods=["GET"]),
]
