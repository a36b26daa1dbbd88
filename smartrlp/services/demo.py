"""The demo event, from the public announcement of "Smart RLP" (19 January 2021, Kaiserslautern), placed so that
it is live when `smartrlp serve --demo` starts, and the demo administrator made on an empty database.

The event starts 10 minutes before the start of the server and ends 80 minutes after it, its agenda at the same
offsets as the original programme's, the item on now marked, with sample questions on the topics citizens asked
about and a prepared poll. A restart finds it; once an untouched demo has ended it is made anew, live again. One
that an admin edited (title, texts, streams, times, agenda, panel) is the organisers' now and left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from smartrlp.models.polls import CreatePoll
from smartrlp.services import agenda as agenda_service
from smartrlp.services import event_admin, events, phases, polls, users
from smartrlp.services.context import Context
from smartrlp.services.results import ResultsPublisher

DEMO_SLUG = "smart-rlp"
# The original ran from 17:30 to 19:00; the demo starts this long before the server does.
STARTED_BEFORE = timedelta(minutes=10)
DURATION = timedelta(minutes=90)

DEMO_EVENT = {
    "slug": DEMO_SLUG,
    "title": "Smart RLP – Digitalisierung in Rheinland-Pfalz",
    "description": (
        "Eine virtuelle Veranstaltung der herzlich digitalen Stadt Kaiserslautern: live, interaktiv und "
        "mit einer Frage- und Diskussionsrunde. Oberbürgermeister Klaus Weichel im Gespräch mit "
        "Ministerpräsidentin Malu Dreyer und Staatssekretärin Nicole Steingaß. Was ist MiniMOGLI und wie "
        "unterstützt es Kaiserslauterns Schulen in der Pandemie? Was tut sich beim teilautonomen Fahren? "
        "Welche Projekte helfen Kommunen bei der Digitalisierung? "
        "(Demo nach dem Vorbild der Veranstaltung vom Dienstag, 19. Januar 2021, 17:30 bis 19:00 Uhr.)"
    ),
    "hashtag": "#smartRLP",
    # Placeholders of the right form: replace them with the real stream addresses of your event.
    "youtube_url": "https://www.youtube.com/watch?v=SmartRLP-21",
    "facebook_url": "https://www.facebook.com/herzlichdigital/videos/1019012021173000/",
}

# (minutes after the start, the item); the discussion is on when the demo starts.
DEMO_AGENDA: list[tuple[int, dict[str, Any]]] = [
    (0, {"title": "Begrüßung", "speakers": "Klaus Weichel", "kind": "talk", "duration_minutes": 5}),
    (5, {"title": "Film: Smart City Kaiserslautern", "speakers": "", "kind": "video", "duration_minutes": 5}),
    (
        10,
        {
            "title": "Gespräch: Digitalisierung mit und für die Menschen",
            "speakers": "Malu Dreyer, Nicole Steingaß, Klaus Weichel",
            "kind": "discussion",
            "duration_minutes": 25,
        },
    ),
    (
        35,
        {
            "title": "Filme: MiniMOGLI an Schulen, teilautonomes Fahren, Smart Country",
            "speakers": "",
            "kind": "video",
            "duration_minutes": 10,
        },
    ),
    (
        45,
        {
            "title": "Ihre Fragen an das Podium",
            "speakers": "Malu Dreyer, Nicole Steingaß, Klaus Weichel",
            "kind": "questions",
            "duration_minutes": 40,
        },
    ),
    (85, {"title": "Ausblick und Verabschiedung", "speakers": "Klaus Weichel", "kind": "talk", "duration_minutes": 5}),
]


DEMO_PANEL = [
    {"name": "Malu Dreyer", "role": "Ministerpräsidentin"},
    {"name": "Klaus Weichel", "role": "Oberbürgermeister Kaiserslautern"},
    {"name": "Nicole Steingaß", "role": "Staatssekretärin im Innenministerium"},
]

# (text, name, votes); the first is on air. The device ids are no visitor's.
APPROVED_QUESTIONS = [
    ("Wie hilft MiniMOGLI den Schulen in Kaiserslautern beim Distanzunterricht?", "Jana", 14),
    ("Wo soll der teilautonome Bus fahren, und ab wann kann man mitfahren?", None, 11),
    (
        "Welche Projekte aus Kaiserslautern können kleine Gemeinden ohne eigene IT-Abteilung übernehmen?",
        "Thomas aus Eisenberg",
        9,
    ),
    ("Was passiert mit den Daten der Sensoren in den smarten Straßenlaternen, und wer darf sie sehen?", "Petra", 6),
    ("Wann bekommen die Dörfer im Kreis schnelles Internet und guten Mobilfunk?", None, 4),
]
PENDING_QUESTION = ("Kann man Termine im Bürgerbüro bald online buchen, auch in kleineren Gemeinden?", "Mehmet")
SAMPLE_DEVICE = "demo-sample"

DEMO_POLL = CreatePoll(
    title="Welches Projekt wünschen Sie sich zuerst in Ihrer Gemeinde?",
    kind="single",
    options=["Online-Termine im Bürgerbüro", "Kitaportal", "Digitale Dörfer", "Smarte Straßenlaternen"],
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def demo_fields(start: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The demo's event fields and agenda for a start at `start`."""
    fields = {**DEMO_EVENT, "starts_at": _iso(start), "ends_at": _iso(start + DURATION)}
    agenda = [{**item, "starts_at": _iso(start + timedelta(minutes=offset))} for offset, item in DEMO_AGENDA]
    return fields, agenda


def _shape(fields: dict[str, Any], agenda: list[dict[str, Any]], panel: list[dict[str, Any]]) -> Any:
    """What an admin can edit, with times relative to the start: equal to the demo's when nobody edited it."""
    start = phases.parse_time(fields["starts_at"]) if fields["starts_at"] else None

    def offset(iso: str | None) -> float | None:
        return (phases.parse_time(iso) - start).total_seconds() if iso and start else None

    return (
        {k: fields[k] for k in ("title", "description", "hashtag", "youtube_url", "facebook_url")},
        offset(fields["ends_at"]),
        [(i["title"], i["speakers"], i["kind"], i["duration_minutes"], offset(i["starts_at"])) for i in agenda],
        [(p["name"], p["role"]) for p in panel],
    )


async def ensure_demo_event(ctx: Context, *, samples: bool = True) -> str:
    """Make the demo event live unless there is one: 'created', 'renewed' (an untouched demo had ended and is
    made anew), 'kept' (still to come or live) or 'edited' (changed by an admin: left alone)."""
    now = phases.now_of(ctx)
    existing = await ctx.db.fetchone(
        f"SELECT {events.EVENT_COLUMNS} FROM events WHERE slug = :slug", {"slug": DEMO_SLUG}
    )
    outcome = "created"
    if existing is not None:
        agenda = await events.agenda_of(ctx.db, existing["id"])
        panel = await events.panelists_of(ctx.db, existing["id"])
        original_fields, original_agenda = demo_fields(now)
        if _shape(dict(existing), agenda, panel) != _shape(original_fields, original_agenda, DEMO_PANEL):
            return "edited"
        if phases.phase(existing["starts_at"], existing["ends_at"], now) != "after":
            return "kept"
        await event_admin.delete_event(ctx, existing["id"])
        outcome = "renewed"
    fields, agenda = demo_fields(now - STARTED_BEFORE)
    try:
        event_id = await event_admin.create_event(ctx, fields, agenda, DEMO_PANEL)
    except event_admin.SlugTaken:  # another process made it meanwhile
        return "kept"
    items = await events.agenda_of(ctx.db, event_id)
    on_now = next(i for i in items if phases.parse_time(i["starts_at"]) <= now < _item_end(i))
    await agenda_service.set_current_item(ctx, event_id, on_now["id"])
    if samples:
        await _add_samples(ctx, event_id)
    return outcome


def _item_end(item: dict[str, Any]) -> datetime:
    return phases.parse_time(item["starts_at"]) + timedelta(minutes=item["duration_minutes"])


async def _add_samples(ctx: Context, event_id: int) -> None:
    now = ctx.now()
    async with ctx.db.transaction() as tx:
        ids = []
        for number, (text, name, votes) in enumerate(APPROVED_QUESTIONS):
            row = await tx.fetchone(
                "INSERT INTO questions (event_id, text, name, device_id, status, votes, created_at, updated_at) "
                "VALUES (:event_id, :text, :name, :device, 'approved', :votes, :now, :now) RETURNING id",
                {
                    "event_id": event_id,
                    "text": text,
                    "name": name,
                    "device": f"{SAMPLE_DEVICE}-{number}",
                    "votes": votes,
                    "now": now,
                },
            )
            assert row is not None
            ids.append(row["id"])
        text, name = PENDING_QUESTION
        await tx.execute(
            "INSERT INTO questions (event_id, text, name, device_id, status, created_at, updated_at) "
            "VALUES (:event_id, :text, :name, :device, 'pending', :now, :now)",
            {"event_id": event_id, "text": text, "name": name, "device": f"{SAMPLE_DEVICE}-pending", "now": now},
        )
        await tx.execute(
            "UPDATE events SET on_air_question_id = :id WHERE id = :event_id", {"id": ids[0], "event_id": event_id}
        )
        await events.log_event_change(ctx.log, tx, event_id)
    # Nobody listens yet when the demo is made: the publisher only needs somewhere to note the poll.
    await polls.create_poll(ctx, ResultsPublisher(ctx.db, ctx.hub), event_id, DEMO_POLL)


DEMO_ADMIN = "demo"


async def ensure_demo_admin(ctx: Context) -> str | None:
    """On a database without accounts, the administrator `demo` with a new password, returned to be shown once;
    None when there are accounts already (a restart neither adds one nor changes a password)."""
    if await users.any_account(ctx):
        return None
    password = users.generate_password()
    await users.create_account(ctx, DEMO_ADMIN, password, role="admin")
    return password
