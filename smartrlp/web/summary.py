"""The printable summary after the event, worded: dates, clock times, counts, percentages and plurals in the
language the page is rendered in, from the export (smartrlp/services/export.py) the downloads are made of too.

Presentation only (no database, no HTTP): the summary page (smartrlp/web/views/export.py) hands over the export and
renders what `summarise` returns.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from babel.numbers import get_decimal_symbol, get_group_symbol

from smartrlp.core import i18n
from smartrlp.core.i18n import N_, gettext
from smartrlp.services.results import WORDS_SHOWN

try:
    # The events are German, and the printed record should show the times the audience saw.
    LOCAL_ZONE: ZoneInfo | None = ZoneInfo("Europe/Berlin")
except ZoneInfoNotFoundError:  # a system without time zone data: times stay in UTC and say so
    LOCAL_ZONE = None


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


def summarise(export: dict[str, Any], generated_at: str) -> dict[str, Any]:
    """What the summary page shows, worded and formatted in the current language; the template only lays it out.

    `generated_at` is the moment the page is made (ISO 8601, as the database writes times).
    """
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
    now = _local(generated_at)
    assert now is not None
    return {
        "title": event["title"],
        "date": _event_date(event["starts_at"], event["ends_at"]),
        "generated": f"{_short_date(now)}, {_clock(now)}",
        "counts": [
            (gettext("Teilnehmende (Geräte)"), _number(export["participants"])),
            (gettext("Gestellt"), _number(len(questions))),
            (gettext("Freigegeben"), _number(len(by_status["approved"]) + len(by_status["answered"]))),
            (gettext("Beantwortet"), _number(len(by_status["answered"]))),
            (gettext("Freigegeben, noch offen"), _number(len(by_status["approved"]))),
            (gettext("Nicht angenommen"), _number(len(by_status["rejected"]))),
            (gettext("Nicht bearbeitet"), _number(len(by_status["pending"]))),
        ],
        "answered": [_question_view(q, day) for q in answered],
        "open": [_question_view(q, day) for q in open_questions],
        # For the record: what the moderators turned down, and what nobody looked at.
        "rejected": [_question_view(q, day) for q in by_status["rejected"]],
        "untouched": [_question_view(q, day) for q in by_status["pending"]],
        "polls": [_poll_view(p) for p in export["polls"]],
    }
