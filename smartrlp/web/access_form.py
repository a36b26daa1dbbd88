"""The event form's part on access (issue 18): live captions, a sign-language stream, the YouTube stream's captions
and the stream delays. Read by smartrlp/web/forms.py with the rest of the form; written by the event service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.core.i18n import gettext
from smartrlp.services.events import STREAM_DELAY_KINDS

URL_FIELDS = ("captions_url", "sign_language_url")
DELAY_FIELDS = tuple(f"stream_delay_{kind}" for kind in STREAM_DELAY_KINDS)
FIELDS = (*URL_FIELDS, *DELAY_FIELDS)
CHECKBOXES = ("stream_captions",)


def read_access(raw: Mapping[str, str], values: dict[str, Any], errors: dict[str, str]) -> None:
    for name in URL_FIELDS:
        values[name] = raw[name] or None
        if raw[name]:
            parts = urlsplit(raw[name])
            if parts.scheme not in {"http", "https"} or not parts.netloc or len(raw[name]) > FIELD_LIMITS["url"]:
                errors[name] = gettext("Bitte eine vollständige Adresse angeben, die mit https:// beginnt.")
    limit = FIELD_LIMITS["stream_delay_seconds"]
    for name in DELAY_FIELDS:
        text = raw[name] or "0"
        values[name] = int(text) if text.isascii() and text.isdigit() and int(text) <= limit else 0
        if not (text.isascii() and text.isdigit()) or int(text) > limit:
            errors[name] = gettext("Bitte ganze Sekunden von 0 bis %(max)s angeben.") % {"max": limit}
    values["stream_captions"] = int(bool(raw["stream_captions"]))


def access_raw(row: Mapping[str, Any]) -> dict[str, str]:
    return {
        **{name: row[name] or "" for name in URL_FIELDS},
        **{name: str(row[name]) for name in DELAY_FIELDS},
        "stream_captions": "on" if row["stream_captions"] else "",
    }
