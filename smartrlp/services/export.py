"""The record after the event: questions and poll results, as JSON or as CSV files.

`export_of_event` reads everything from the database once; the download endpoints, `smartrlp export` and the
summary page (worded by smartrlp/web/summary.py) all start from its result, so the three can never disagree. The
export leaves the building (a city's documentation, a council's minutes), so it carries no device id and nothing
else that identifies a device.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from smartrlp.db.store import Database
from smartrlp.models.polls import MAX_WORDS
from smartrlp.services.events import event_by_slug
from smartrlp.services.polls import POLL_COLUMNS, poll_json
from smartrlp.services.results import WORDS_SHOWN, word_cloud

FORMATS = ("csv", "json")
QUESTION_FIELDS = ("id", "text", "name", "status", "votes", "created_at", "answered_at", "answer", "addressed_to")
# The panelist a question was addressed to, by name: the export must make sense without the database.
_QUESTION_SELECT = ", ".join(QUESTION_FIELDS[:-1]) + (
    ", (SELECT p.name FROM panelists p WHERE p.id = questions.panelist_id) AS addressed_to"
)
POLL_FIELDS = ("poll_id", "poll_title", "kind", "state", "answer", "count", "total")
# Beside each UTC time its local time in Berlin, written the way German spreadsheet software reads a date and time.
LOCAL_TIMES = {"created_at": "created_at_berlin", "answered_at": "answered_at_berlin"}
CSV_QUESTION_FIELDS = tuple(
    column for name in QUESTION_FIELDS for column in ((name, LOCAL_TIMES[name]) if name in LOCAL_TIMES else (name,))
)
BERLIN = ZoneInfo("Europe/Berlin")
# German spreadsheet software (Excel, LibreOffice with a German locale) splits a CSV on semicolons: the comma is
# the decimal separator there. A file with commas opens as one column.
DELIMITER = ";"
# A spreadsheet runs a cell that starts with one of these as a formula; questions are typed by the public.
# Tab and carriage return are on OWASP's list too, although clean_text never lets them lead.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"

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
        "participants": await participants(db, event["id"]),
        "questions": [{name: row[name] for name in QUESTION_FIELDS} for row in questions],
        "polls": [await _poll(db, row) for row in polls],
    }


async def participants(db: Database, event_id: int) -> int:
    """How many devices took part: asked, voted for a question or answered a poll (counted, never named)."""
    row = await db.fetchone(
        "SELECT COUNT(*) AS n FROM ("
        "SELECT device_id FROM questions WHERE event_id = :id "
        "UNION SELECT v.device_id FROM question_votes v JOIN questions q ON q.id = v.question_id "
        "WHERE q.event_id = :id "
        "UNION SELECT b.device_id FROM poll_ballots b JOIN polls p ON p.id = b.poll_id WHERE p.event_id = :id"
        ") AS taking_part WHERE device_id IS NOT NULL",  # PostgreSQL wants the subquery named
        {"id": event_id},
    )
    return int(row["n"]) if row is not None else 0


async def build_export(db: Database, slug: str) -> dict[str, Any]:
    """Everything worth keeping about the event; `404 event_not_found` (an ApiError) for an unknown slug."""
    return await export_of_event(db, await event_by_slug(db, slug))


async def _poll(db: Database, row: sqlite3.Row) -> dict[str, Any]:
    poll = await poll_json(db, row, with_results=True)
    results = poll["results"]
    if poll["kind"] == "words" and len(results["words"]) >= WORDS_SHOWN:
        # The live cloud shows only the most frequent words so that it stays readable; the record keeps them all.
        rows = await db.fetchall(
            "SELECT word FROM poll_ballots WHERE poll_id = :poll_id AND counted = 1 ORDER BY created_at, device_id",
            {"poll_id": row["id"]},
        )
        # Grouped and spelt as in the live cloud (services/results.word_cloud), only not cut off.
        results["words"] = word_cloud((r["word"] for r in rows), shown=len(rows) * MAX_WORDS)
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


def berlin_time(iso: str | None) -> str:
    """ "2026-12-04T20:24:52.733Z" as "04.12.2026 21:24:52", the local time a German spreadsheet reads as one."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(BERLIN).strftime("%d.%m.%Y %H:%M:%S")


def _question_row(question: dict[str, Any]) -> list[Any]:
    row: list[Any] = []
    for name in QUESTION_FIELDS:
        row.append(question[name])
        if name in LOCAL_TIMES:
            row.append(berlin_time(question[name]))
    return row


def _csv(header: tuple[str, ...], rows: list[list[Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=DELIMITER)  # RFC 4180 quoting and CRLF, with the separator German software reads
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
    rows = [_question_row(q) for q in export["questions"]]
    return ExportFile(_csv(CSV_QUESTION_FIELDS, rows), "text/csv; charset=utf-8", f"{stem}-fragen.csv")
