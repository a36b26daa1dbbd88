"""Languages: German (the source language of every text) and English, chosen per request.

Texts are written in German in the templates and scripts and marked for translation (`_("…")` in templates,
`t("…")` in scripts); `pybabel extract` collects them into `smartrlp/locale/messages.pot` and the English
translations live in `smartrlp/locale/en.po`. The catalogues are read with Babel when the app starts, so no
compiled file is kept in the repository.

The language comes from `?lang=` (remembered in a cookie), else the cookie, else the browser's Accept-Language,
else German.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DEFAULT_LANGUAGE = "de"
LANGUAGES = {"de": "Deutsch", "en": "English"}
LANGUAGE_COOKIE = "srl_lang"
# Locales for dates and numbers on the page.
LOCALES = {"de": "de-DE", "en": "en-GB"}

_current: ContextVar[str] = ContextVar("smartrlp_language", default=DEFAULT_LANGUAGE)


@dataclass(frozen=True)
class Catalogues:
    translations: Mapping[str, NullTranslations]
    # What the scripts need, per language: msgid -> text (only the ones marked in static/js/).
    script_messages: Mapping[str, dict[str, str]]

    @classmethod
    def load(cls) -> Catalogues:
        translations: dict[str, NullTranslations] = {DEFAULT_LANGUAGE: NullTranslations()}
        scripts: dict[str, dict[str, str]] = {DEFAULT_LANGUAGE: {}}
        folder = resources.files("smartrlp") / "locale"
        for language in LANGUAGES:
            if language == DEFAULT_LANGUAGE:
                continue
            with (folder / f"{language}.po").open("rb") as po:
                catalogue = read_po(po, locale=language)
            buffer = io.BytesIO()
            write_mo(buffer, catalogue)
            buffer.seek(0)
            translations[language] = Translations(buffer)
            scripts[language] = {
                str(m.id): str(m.string)
                for m in catalogue
                if m.id and m.string and not m.fuzzy and any(path.endswith(".js") for path, _ in m.locations)
            }
        return cls(translations, scripts)


def N_(message: str) -> str:  # the name `pybabel extract` knows for "mark only"
    """Marks a German text for the catalogue without translating it: `gettext` translates it where it is shown."""
    return message


def current_language() -> str:
    return _current.get()


_loaded: dict[str, Catalogues] = {}


def use(catalogues: Catalogues) -> None:
    """Make these the catalogues `gettext` reads (the app's, once its templates are set up)."""
    _loaded["app"] = catalogues


def set_language(code: str) -> None:
    """The language for the rest of the current task (a websocket's task ends with its connection)."""
    _current.set(code)


def gettext(message: str) -> str:
    """A text from Python code (an error shown on a page) in the current language."""
    catalogues = _loaded.get("app")
    if catalogues is None:
        return message
    return catalogues.translations[current_language()].gettext(message)


@contextmanager
def language(code: str) -> Iterator[None]:
    token = _current.set(code)
    try:
        yield
    finally:
        _current.reset(token)


def negotiate(accept_language: str) -> str | None:
    wanted = []
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if tag and tag != "*":
            wanted.append(tag)
    try:
        found = Locale.negotiate(wanted, list(LANGUAGES), sep="_")
    except (UnknownLocaleError, ValueError):
        return None
    return found.language if found is not None else None


def choose_language(query: str | None, cookie: str | None, accept_language: str) -> str:
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    return negotiate(accept_language) or DEFAULT_LANGUAGE


def language_of(scope: Mapping[str, Any]) -> tuple[str, bool]:
    """The language a request asks for, and whether to remember it in the cookie (a new `?lang=`).

    A function of its own so the decoded headers are not kept alive, with the middleware's frame, for as long as a
    websocket stays open (thousands of them).
    """
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    query = _query_value(scope.get("query_string", b"").decode("latin-1"), "lang")
    cookie = _cookie_value(headers.get("cookie", ""), LANGUAGE_COOKIE)
    code = choose_language(query, cookie, headers.get("accept-language", ""))
    return code, query in LANGUAGES and query != cookie


def _query_value(query: str, name: str) -> str | None:
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == name:
            return value
    return None


def _cookie_value(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None
