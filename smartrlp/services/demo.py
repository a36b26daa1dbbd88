"""The demo event, from the public announcement of "Smart RLP" (19 January 2021, Kaiserslautern)."""

from __future__ import annotations

from smartrlp.db.store import Database
from smartrlp.services.events import create_event

DEMO_SLUG = "smart-rlp"

DEMO_EVENT = {
    "slug": DEMO_SLUG,
    "title": "Smart RLP – Digitalisierung in Rheinland-Pfalz",
    "description": (
        "Eine virtuelle Veranstaltung der herzlich digitalen Stadt Kaiserslautern: live, interaktiv und "
        "mit einer Frage- und Diskussionsrunde. Oberbürgermeister Klaus Weichel im Gespräch mit "
        "Ministerpräsidentin Malu Dreyer und Staatssekretärin Nicole Steingaß. Was ist MiniMOGLI und wie "
        "unterstützt es Kaiserslauterns Schulen in der Pandemie? Was tut sich beim teilautonomen Fahren? "
        "Welche Projekte helfen Kommunen bei der Digitalisierung?"
    ),
    "hashtag": "#smartRLP",
    "starts_at": "2021-01-19T17:30:00+01:00",
    "ends_at": "2021-01-19T19:00:00+01:00",
    # Placeholders of the right form: replace them with the real stream addresses of your event.
    "youtube_url": "https://www.youtube.com/watch?v=SmartRLP-21",
    "facebook_url": "https://www.facebook.com/herzlichdigital/videos/1019012021173000/",
}

DEMO_AGENDA = [
    {
        "title": "Begrüßung",
        "speakers": "Klaus Weichel",
        "kind": "talk",
        "starts_at": "2021-01-19T17:30:00+01:00",
        "duration_minutes": 10,
    },
    {
        "title": "Film: Smart City Kaiserslautern",
        "speakers": "",
        "kind": "video",
        "starts_at": "2021-01-19T17:40:00+01:00",
        "duration_minutes": 5,
    },
    {
        "title": "Gespräch: Digitalisierung mit und für die Menschen",
        "speakers": "Malu Dreyer, Nicole Steingaß, Klaus Weichel",
        "kind": "discussion",
        "starts_at": "2021-01-19T17:45:00+01:00",
        "duration_minutes": 25,
    },
    {
        "title": "Filme: MiniMOGLI an Schulen, teilautonomes Fahren, Smart Country",
        "speakers": "",
        "kind": "video",
        "starts_at": "2021-01-19T18:10:00+01:00",
        "duration_minutes": 10,
    },
    {
        "title": "Ihre Fragen an das Podium",
        "speakers": "Malu Dreyer, Nicole Steingaß, Klaus Weichel",
        "kind": "questions",
        "starts_at": "2021-01-19T18:20:00+01:00",
        "duration_minutes": 35,
    },
    {
        "title": "Ausblick und Verabschiedung",
        "speakers": "Klaus Weichel",
        "kind": "talk",
        "starts_at": "2021-01-19T18:55:00+01:00",
        "duration_minutes": 5,
    },
]


DEMO_PANEL = [
    {"name": "Malu Dreyer", "role": "Ministerpräsidentin"},
    {"name": "Klaus Weichel", "role": "Oberbürgermeister Kaiserslautern"},
    {"name": "Nicole Steingaß", "role": "Staatssekretärin im Innenministerium"},
]


async def ensure_demo_event(db: Database) -> bool:
    """Create the demo event unless it exists; True when it was created now."""
    async with db.transaction() as tx:
        if await tx.fetchone("SELECT 1 FROM events WHERE slug = :slug", {"slug": DEMO_SLUG}):
            return False
        event_id = await create_event(tx, DEMO_EVENT, DEMO_AGENDA)
        await tx.executemany(
            "INSERT INTO panelists (event_id, position, name, role) VALUES (:event_id, :position, :name, :role)",
            [{"event_id": event_id, "position": i, **panelist} for i, panelist in enumerate(DEMO_PANEL)],
        )
    return True
