"""The demo event, from the public announcement of "Smart RLP" (19 January 2021, Kaiserslautern), and the demo
administrator that `smartrlp serve --demo` makes on an empty database."""

from __future__ import annotations

from smartrlp.services import event_admin, users
from smartrlp.services.context import Context

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


DEMO_ADMIN = "demo"


async def ensure_demo_event(ctx: Context) -> bool:
    """Create the demo event unless it exists; True when it was created now."""
    try:
        await event_admin.create_event(ctx, DEMO_EVENT, DEMO_AGENDA, DEMO_PANEL)
    except event_admin.SlugTaken:
        return False
    return True


async def ensure_demo_admin(ctx: Context) -> str | None:
    """On a database without accounts, the administrator `demo` with a new password, returned to be shown once;
    None when there are accounts already (a restart neither adds one nor changes a password)."""
    if await users.any_account(ctx):
        return None
    password = users.generate_password()
    await users.create_account(ctx, DEMO_ADMIN, password, role="admin")
    return password
