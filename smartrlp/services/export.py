"""The record after the event: questions and poll results as JSON or CSV, and a printable summary page.

`build_export` reads everything from the database once; the download endpoints, `smartrlp export` and the
summary page all start from its result, so the three can never disagree. The export leaves the building (a
city's documentation, a council's minutes), so it carries no device id and nothing else that identifies a device.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from babel.numbers import get_decimal_symbol, get_group_symbol
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp.core import i18n
from smartrlp.core.errors import invalid
from smartrlp.core.i18n import N_, gettext
from smartrlp.db.store import Database, utcnow
from smartrlp.services.ballots import WORDS_SHOWN
from smartrlp.services.events import event_by_slug
from smartrlp.services.polls import POLL_COLUMNS, poll_json
from smartrlp.web.auth import moderator_page_access, require_moderator
from smartrlp.web.http import app_state
from smartrlp.web.pages import TRANSLATED_TEMPLATES, render

FORMATS = ("csv", "json")
CSV_PARTS = ("questions", "polls")
QUESTION_FIELDS = ("id", "text", "name", "status", "votes", "created_at", "answered_at", "answer", "addressed_to")
# The panelist a question was addressed to, by name: the export must make sense without the database.
_QUESTION_SELECT = ", ".join(QUESTION_FIELDS[:-1]) + (
    ", (SELECT p.name FROM panelists p WHERE p.id = questions.panelist_id) AS addressed_to"
)
POLL_FIELDS = ("poll_id", "poll_title", "kind", "state", "answer", "count", "total")
# A spreadsheet runs a cell that starts with one of these as a formula; questions are typed by the public.
# Tab and carriage return are on OWASP's list too, although clean_text never lets them lead.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"

try:
    # The events are German, and the printed record should show the times the audience saw.
    LOCAL_ZONE: ZoneInfo | None = ZoneInfo("Europe/Berlin")
except ZoneInfoNotFoundError:  # a system without time zone data: times stay in UTC and say so
    LOCAL_ZONE = None


# --- building the export ------------------------------------------------------------------------------------


async def export_of_event(db: Database, event: sqlite3.Row) -> dict[str, Any]:
    # device_id is deliberately not selected: it must not reach the file.
    questions = await db.fetchall(
        f"SELECT {_QUESTION_SELECT} FROM questions WHERE event_id = :event_id ORDER BY id",
        {"event_id": event["id"]},
    )
    # Drafts were never shown to anyone; a poll that was reset is a draft again, without ballots.
    polls = await db.fetchall(
        f"SELECT {POLL_COLUMNS} FROM polls WHERE event_id = :event_id AND state != 'draft' ORDER BY position, id",
        {"event_id": event["id"]},
    )
    return {
        "event": {
            "slug": event["slug"],
            "title": event["title"],
            "starts_at": event["starts_at"],
            "ends_at": event["ends_at"],
        },
        "questions": [{name: row[name] for name in QUESTION_FIELDS} for row in questions],
        "polls": [await _poll(db, row) for row in polls],
    }


async def build_export(db: Database, slug: str) -> dict[str, Any]:
    """Everything worth keeping about the event; `404 event_not_found` (an ApiError) for an unknown slug."""
    return await export_of_event(db, await event_by_slug(db, slug))


async def _poll(db: Database, row: sqlite3.Row) -> dict[str, Any]:
    poll = await poll_json(db, row, with_results=True)
    results = poll["results"]
    if poll["kind"] == "words" and len(results["words"]) >= WORDS_SHOWN:
        # The live cloud shows only the most frequent words so that it stays readable; the record keeps them all.
        rows = await db.fetchall(
            "SELECT word, COUNT(*) AS n FROM poll_ballots WHERE poll_id = :poll_id AND counted = 1 GROUP BY word "
            "ORDER BY n DESC, word ASC",
            {"poll_id": row["id"]},
        )
        results["words"] = [{"text": r["word"], "count": int(r["n"])} for r in rows]
    return poll


# --- files --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportFile:
    body: bytes
    media_type: str
    filename: str


def _file_stem(slug: str) -> str:
    # Only characters that need no quoting in a Content-Disposition header or a file system.
    return re.sub(r"[^A-Za-z0-9._-]+", "-", slug).strip("-.") or "veranstaltung"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        # The apostrophe makes Excel and LibreOffice show the text as typed instead of evaluating it.
        return "'" + value
    return value


def _csv(header: tuple[str, ...], rows: list[list[Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)  # comma, double quotes where needed, CRLF: RFC 4180
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    # Excel reads a CSV without a byte order mark in the system's legacy code page, which mangles umlauts.
    return (BOM + out.getvalue()).encode("utf-8")


def _poll_rows(poll: dict[str, Any]) -> list[list[Any]]:
    head = [poll["id"], poll["title"], poll["kind"], poll["state"]]
    results = poll["results"]
    total = results["total"]
    if poll["kind"] in ("single", "multiple"):
        counts = {o["id"]: o["count"] for o in results["options"]}
        answers = [(o["label"], counts.get(o["id"], 0)) for o in poll["options"]]
    elif poll["kind"] == "rating":
        answers = [(v["value"], v["count"]) for v in results["values"]]
    else:
        answers = [(w["text"], w["count"]) for w in results["words"]]
    if not answers:
        # A word cloud nobody answered still belongs in the record.
        return [[*head, "", 0, total]]
    return [[*head, answer, count, total] for answer, count in answers]


def render_export(export: dict[str, Any], fmt: str, what: str = "questions") -> ExportFile:
    """The export as the bytes of a file: JSON (everything), or CSV of the questions or of the poll results."""
    stem = _file_stem(export["event"]["slug"])
    if fmt == "json":
        body = (json.dumps(export, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        return ExportFile(body, "application/json", f"{stem}-export.json")
    if what == "polls":
        rows = [row for poll in export["polls"] for row in _poll_rows(poll)]
        return ExportFile(_csv(POLL_FIELDS, rows), "text/csv; charset=utf-8", f"{stem}-umfragen.csv")
    rows = [[q[name] for name in QUESTION_FIELDS] for q in export["questions"]]
    return ExportFile(_csv(QUESTION_FIELDS, rows), "text/csv; charset=utf-8", f"{stem}-fragen.csv")


def _download(file: ExportFile) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{file.filename}"',
        # Pending and rejected questions are in it: no shared cache may keep a copy.
        "Cache-Control": "no-store",
    }
    return Response(file.body, media_type=file.media_type, headers=headers)


async def export_json(request: Request) -> Response:
    db = app_state(request).db
    event = await event_by_slug(db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    return _download(render_export(await export_of_event(db, event), "json"))


async def export_csv(request: Request) -> Response:
    db = app_state(request).db
    event = await event_by_slug(db, request.path_params["slug"])
    await require_moderator(request, event["id"])
    what = request.query_params.get("what", "questions")
    if what not in CSV_PARTS:
        raise invalid(f"'what' must be one of {', '.join(CSV_PARTS)}.", "what")
    return _download(render_export(await export_of_event(db, event), "csv", what))


# --- the printable summary ----------------------------------------------------------------------------------

# German, like every text in the code: marked for the catalogue here, translated where the page is built.
KIND_LABELS = {
    "single": N_("Einfachauswahl"),
    "multiple": N_("Mehrfachauswahl"),
    "rating": N_("Bewertung"),
    "words": N_("Wortwolke"),
}
STATE_LABELS = {"open": N_("Läuft noch"), "closed": N_("Beendet")}
# The long and the short date as each language writes them (Babel supplies the names of days and months).
DATE_PATTERNS = {"de": ("EEEE, d. MMMM y", "dd.MM.y"), "en": ("EEEE d MMMM y", "dd/MM/y")}


def _local(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.tzinfo is None or LOCAL_ZONE is None:
        return moment
    return moment.astimezone(LOCAL_ZONE)


def _clock(moment: datetime) -> str:
    clock = gettext("%(time)s Uhr") % {"time": f"{moment:%H:%M}"}
    return clock + (" UTC" if LOCAL_ZONE is None and moment.tzinfo is not None else "")


def _date_pattern(index: int) -> str:
    return DATE_PATTERNS.get(i18n.current_language(), DATE_PATTERNS[i18n.DEFAULT_LANGUAGE])[index]


def _long_date(moment: datetime) -> str:
    return format_date(moment.date(), _date_pattern(0), locale=i18n.current_language())


def _short_date(moment: datetime) -> str:
    return format_date(moment.date(), _date_pattern(1), locale=i18n.current_language())


def _event_date(starts_at: str | None, ends_at: str | None) -> str | None:
    start, end = _local(starts_at), _local(ends_at)
    if start is None:
        return starts_at or None
    if end is None:
        return f"{_long_date(start)}, {_clock(start)}"
    if end.date() == start.date():
        return f"{_long_date(start)}, {start:%H:%M}–{_clock(end)}"
    return gettext("%(start)s bis %(end)s") % {
        "start": f"{_long_date(start)}, {_clock(start)}",
        "end": f"{_long_date(end)}, {_clock(end)}",
    }


def _moment(iso: str | None, day: date | None) -> tuple[str, str]:
    """A time of the event: ("time", the clock) on the event's day, ("date", date and clock) on any other; the
    template words it ("beantwortet um …" or "beantwortet am …")."""
    moment = _local(iso)
    if moment is None:
        return "date", iso or ""
    if day is not None and moment.date() == day:
        return "time", _clock(moment)
    return "date", f"{_short_date(moment)}, {_clock(moment)}"


def _number(value: int) -> str:
    return f"{value:,}".replace(",", get_group_symbol(i18n.current_language()))


def _decimal(value: float, digits: int) -> str:
    # Rounded as Python rounds, whatever the language; only the decimal sign is the language's.
    return f"{value:.{digits}f}".replace(".", get_decimal_symbol(i18n.current_language()))


def _percent(value: float) -> str:
    # As on the live pages: "50 %", "33,3 %".
    return (_number(int(value)) if value == int(value) else _decimal(value, 1)) + "\u00a0%"


def _plural(count: int, one: str, many: str) -> str:
    """ "1 Stimme", "3 Stimmen": `one` and `many` are the German words (N_), translated here."""
    return f"{_number(count)} {gettext(one) if count == 1 else gettext(many)}"


VOTES = (N_("Stimme"), N_("Stimmen"))
ANSWERS = (N_("Antwort"), N_("Antworten"))
MENTIONS = (N_("Nennung"), N_("Nennungen"))


def _question_view(question: dict[str, Any], day: date | None) -> dict[str, Any]:
    return {
        "text": question["text"],
        "name": question["name"],
        "votes": _plural(question["votes"], *VOTES),
        "answered_at": question["answered_at"],
        "answered": _moment(question["answered_at"], day),
    }


def _result_row(label: str, count: int, total: int, unit: tuple[str, str]) -> dict[str, Any]:
    percent = round(100 * count / total, 1) if total else 0.0
    return {"label": label, "value": f"{_plural(count, *unit)} · {_percent(percent)}", "percent": percent}


def _poll_view(poll: dict[str, Any]) -> dict[str, Any]:
    results = poll["results"]
    total = results["total"]
    kind, state = poll["kind"], poll["state"]
    view: dict[str, Any] = {
        "title": poll["title"],
        "meta": " · ".join(
            [
                gettext(KIND_LABELS[kind]),
                gettext(STATE_LABELS[state]) if state in STATE_LABELS else state,
                _plural(total, *ANSWERS),
            ]
        ),
        "rows": [],
        "mean": None,
        "note": None,
        "more_words": 0,
    }
    if poll["kind"] in ("single", "multiple"):
        counts = {o["id"]: o["count"] for o in results["options"]}
        view["rows"] = [_result_row(o["label"], counts.get(o["id"], 0), total, VOTES) for o in poll["options"]]
        if poll["kind"] == "multiple" and total:
            view["note"] = gettext(
                "Mehrfachauswahl: Die Prozente beziehen sich auf alle Antworten und können zusammen über 100 % ergeben."
            )
    elif poll["kind"] == "rating":
        scale = poll["scale_max"]
        not_at_all, very = gettext("gar nicht"), gettext("sehr")
        labels = {1: f"1 = {not_at_all}", scale: f"{scale} = {very}"}
        view["rows"] = [
            _result_row(labels.get(v["value"], str(v["value"])), v["count"], total, VOTES) for v in results["values"]
        ]
        if results["mean"] is not None:
            view["mean"] = gettext("Durchschnitt %(mean)s (Skala 1 bis %(max)s)") % {
                "mean": _decimal(results["mean"], 1),
                "max": scale,
            }
    else:
        words = results["words"]
        view["rows"] = [_result_row(w["text"], w["count"], total, MENTIONS) for w in words[:WORDS_SHOWN]]
        view["more_words"] = max(0, len(words) - WORDS_SHOWN)
    return view


def summarise(export: dict[str, Any]) -> dict[str, Any]:
    """What the summary page shows, worded and formatted; the template only lays it out."""
    event = export["event"]
    start = _local(event["starts_at"])
    day = start.date() if start is not None else None
    questions = export["questions"]
    by_status = {
        status: [q for q in questions if q["status"] == status]
        for status in ("pending", "approved", "answered", "rejected")
    }
    answered = sorted(by_status["answered"], key=lambda q: (q["answered_at"] or "", q["id"]))
    open_questions = sorted(by_status["approved"], key=lambda q: (-q["votes"], q["id"]))
    now = _local(utcnow())
    assert now is not None
    return {
        "title": event["title"],
        "date": _event_date(event["starts_at"], event["ends_at"]),
        "generated": f"{_short_date(now)}, {_clock(now)}",
        "counts": [
            (gettext("Gestellt"), _number(len(questions))),
            (gettext("Beantwortet"), _number(len(by_status["answered"]))),
            (gettext("Freigegeben, noch offen"), _number(len(by_status["approved"]))),
            (gettext("Nicht angenommen"), _number(len(by_status["rejected"]))),
            (gettext("Nicht bearbeitet"), _number(len(by_status["pending"]))),
        ],
        "answered": [_question_view(q, day) for q in answered],
        "open": [_question_view(q, day) for q in open_questions],
        "polls": [_poll_view(p) for p in export["polls"]],
    }


async def summary_page(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    moderator = await moderator_page_access(request, event["id"])
    if isinstance(moderator, Response):
        return moderator
    # Worded in the language the page is rendered in (German until summary.html is among the translated pages).
    translated = "summary.html" in TRANSLATED_TEMPLATES
    with i18n.language(i18n.current_language() if translated else i18n.DEFAULT_LANGUAGE):
        summary = summarise(await export_of_event(state.db, event))
    response = render(request, "summary.html", slug=event["slug"], summary=summary, moderator=moderator)
    response.headers["Cache-Control"] = "no-store"
    return response


routes = [
    Route("/api/events/{slug}/export.json", export_json, methods=["GET"]),
    Route("/api/events/{slug}/export.csv", export_csv, methods=["GET"]),
    Route("/e/{slug}/summary", summary_page, methods=["GET"]),
]
