"""Pages: the Jinja environment and its filters, page configuration for the scripts, rendering in the right language."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from smartrlp.core import i18n
from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.core.i18n import Catalogues
from smartrlp.web.http import app_state, csrf_token


def page_config(data: dict[str, Any]) -> str:
    """JSON for a `<script type="application/json">` block; `<`, `>` and `&` escaped so no text can end it."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


EVENT_TIMEZONE = ZoneInfo("Europe/Berlin")


def event_time_range(starts_at: str | None, ends_at: str | None = None) -> str:
    """ "Donnerstag, 3. Dezember 2026 um 17:30 – 19:00 Uhr" (or the English form), in the events' own time zone."""
    if not starts_at:
        return ""
    language = i18n.current_language()
    # The date as people write it in each language; Babel supplies the month and day names.
    full, clock, suffix = {
        "de": ("EEEE, d. MMMM y 'um' HH:mm", "HH:mm", " Uhr"),
        "en": ("EEEE d MMMM y 'at' HH:mm", "HH:mm", ""),
    }[language]
    start = datetime.fromisoformat(starts_at.replace("Z", "+00:00"))
    text = format_datetime(start, full, tzinfo=EVENT_TIMEZONE, locale=language)
    if ends_at:
        end = datetime.fromisoformat(ends_at.replace("Z", "+00:00"))
        same_day = start.astimezone(EVENT_TIMEZONE).date() == end.astimezone(EVENT_TIMEZONE).date()
        text += " – " + format_datetime(end, clock if same_day else full, tzinfo=EVENT_TIMEZONE, locale=language)
    return text + suffix


def event_clock(iso: str | None) -> str:
    """ "17:30": the time of day in the events' time zone."""
    if not iso:
        return ""
    return format_datetime(datetime.fromisoformat(iso.replace("Z", "+00:00")), "HH:mm", tzinfo=EVENT_TIMEZONE)


def make_templates(directory: str, catalogues: Catalogues) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["event_time_range"] = event_time_range
    environment.filters["event_clock"] = event_clock
    environment.globals["Markup"] = Markup
    # Templates set `maxlength` from these, and base.html hands them to the scripts (static/js/lib/limits.js).
    environment.globals["field_limits"] = dict(FIELD_LIMITS)
    install(environment, catalogues)
    return environment


# The pages whose every text is translated. The others stay German whatever language was chosen (and offer no
# switch), so that no page says lang="en" over German text; a page joins this set with its translations.
# The presenter screen and the overlay are translated too, but stay German: they show the broadcast, whose language
# is the event's, not that of the studio browser (OBS's sends an English Accept-Language).
TRANSLATED_TEMPLATES = frozenset(
    {
        "viewer.html",
        "join.html",
        "moderate.html",
        "login.html",
        "home.html",
        "error.html",
        "summary.html",
        "privacy.html",
        "accessibility.html",
        "easy_read.html",
        "sign_language.html",
        "imprint.html",
        "admin/home.html",
        "admin/event_form.html",
        "admin/delete.html",
        "admin/users.html",
        "admin/user_form.html",
        "admin/user_delete.html",
        "admin/user_password_shown.html",
    }
)


def render(request: Request, name: str, /, status: int = 200, **context: Any) -> HTMLResponse:
    # `name` is positional-only so that templates may take a variable called `name` (the login form does).
    templates = app_state(request).templates
    context.setdefault("request", request)
    # For the scripts of logged-in pages (`<meta name="csrf-token">`, sent back by static/js/api.js).
    context.setdefault("csrf_meta", csrf_token(request))
    translated = name in TRANSLATED_TEMPLATES
    with i18n.language(i18n.current_language() if translated else i18n.DEFAULT_LANGUAGE):
        html = templates.get_template(name).render(translated=translated, **context)
    return HTMLResponse(html, status_code=status)


def install(environment: Any, catalogues: Catalogues) -> None:
    """Jinja's i18n extension, reading the language of the request being rendered."""

    # Jinja's "newstyle" wrappers do the %(name)s formatting and the escaping; these only look up.
    def gettext(message: str) -> str:
        return catalogues.translations[i18n.current_language()].gettext(message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return catalogues.translations[i18n.current_language()].ngettext(singular, plural, n)

    i18n.use(catalogues)
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(gettext, ngettext, newstyle=True)
    environment.globals["current_language"] = i18n.current_language
    environment.globals["languages"] = i18n.LANGUAGES
    environment.globals["script_messages"] = lambda: catalogues.script_messages[i18n.current_language()]


# The operator's legal texts (privacy, accessibility, Impressum) are read here for every page that has one.
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
