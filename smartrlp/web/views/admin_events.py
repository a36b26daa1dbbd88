"""Event administration at /admin: create, edit, duplicate, archive and delete events (role `admin`).

Plain HTML forms that work without JavaScript; every form carries a CSRF token bound to the login session.
Dates are entered and shown in Europe/Berlin, the events' own time zone, and stored in UTC.
"""

from __future__ import annotations

import hmac
import re
import sqlite3
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smartrlp.core import streams
from smartrlp.core.errors import ApiError
from smartrlp.core.i18n import N_, gettext
from smartrlp.db.store import Transaction, utcnow
from smartrlp.services.accounts import Moderator
from smartrlp.services.events import agenda_of, assign_join_code, event_by_slug, record_event_change
from smartrlp.web.auth import authenticate, login_url
from smartrlp.web.http import app_state, csrf_token
from smartrlp.web.pages import render

BERLIN = ZoneInfo("Europe/Berlin")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_TITLE = 200
MAX_DESCRIPTION = 4000
MAX_HASHTAG = 60
MAX_SLUG = 60
MAX_URL = 500
MODERATION_MODES = ("approve", "post")
# Paths under /admin that an event's slug must not shadow, and words that would confuse people in a URL.
RESERVED_SLUGS = {"new", "neu", "admin", "api", "static"}


# --- who may -------------------------------------------------------------------------------------------------


ADMINS_ONLY = N_("Die Verwaltung ist Administratorinnen und Administratoren vorbehalten.")


async def admin_or_redirect(request: Request) -> Moderator | Response:
    try:
        moderator = await authenticate(request)
    except ApiError:
        moderator = None
    if moderator is None:
        return RedirectResponse(login_url(request.url.path), status_code=303)
    if moderator.role != "admin":
        raise ApiError(403, "forbidden", gettext(ADMINS_ONLY))
    return moderator


async def checked_form(request: Request) -> FormData:
    form = await request.form()
    sent = str(form.get("csrf", ""))
    if not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise ApiError(
            403,
            "csrf",
            gettext("Das Formular ist abgelaufen oder kam nicht von dieser Seite. Bitte laden Sie die Seite neu."),
        )
    return form


# --- the event form ------------------------------------------------------------------------------------------


@dataclass
class FormInput:
    """What the admin typed into a form, as typed (to show it again), and what it means once checked."""

    raw: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def slugify(title: str) -> str:
    text = title.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:MAX_SLUG].strip("-") or "veranstaltung"


def berlin_input(iso: str | None) -> str:
    """A stored UTC time as the value of a `datetime-local` field in Berlin time."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


def utc_from_berlin(raw: str) -> str:
    local = datetime.fromisoformat(raw)
    if local.tzinfo is not None:
        raise ValueError("no offset expected")
    return local.replace(tzinfo=BERLIN).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


FIELDS = (
    "title",
    "slug",
    "description",
    "hashtag",
    "starts_at",
    "ends_at",
    "youtube_url",
    "facebook_url",
    "recording_url",
    "moderation_mode",
)
CHECKBOXES = ("names_allowed", "questions_open")
# German, marked for the catalogue: translated when the form is checked, in the language of that request.
STREAM_FIELDS = (
    (
        "youtube_url",
        streams.youtube,
        N_(
            "Das ist keine YouTube-Videoadresse. Erkannt werden zum Beispiel youtube.com/watch?v=…, youtu.be/…, "
            "youtube.com/live/… und youtube.com/embed/…."
        ),
    ),
    (
        "facebook_url",
        streams.facebook,
        N_(
            "Das ist keine Facebook-Videoadresse. Erkannt werden facebook.com/…/videos/…, facebook.com/watch/?v=… "
            "und fb.watch/…."
        ),
    ),
)


START_FORMAT = N_("Beginn: bitte Datum und Uhrzeit angeben, z. B. 19.01.2021 17:30.")
END_FORMAT = N_("Ende: bitte Datum und Uhrzeit angeben, z. B. 19.01.2021 17:30.")


def read_event_form(form: FormData) -> FormInput:
    raw = {name: str(form.get(name, "")).strip() for name in FIELDS}
    raw.update({name: "on" if form.get(name) else "" for name in CHECKBOXES})
    result = FormInput(raw=raw)
    errors, values = result.errors, result.values

    values["title"] = raw["title"]
    if not raw["title"]:
        errors["title"] = gettext("Bitte geben Sie einen Titel ein.")
    elif len(raw["title"]) > MAX_TITLE:
        errors["title"] = gettext("Der Titel darf höchstens %(max)s Zeichen lang sein.") % {"max": MAX_TITLE}

    slug = raw["slug"] or slugify(raw["title"])
    values["slug"] = slug
    if not SLUG_PATTERN.match(slug) or len(slug) > MAX_SLUG:
        errors["slug"] = gettext(
            "Die Kurzadresse darf nur Kleinbuchstaben, Ziffern und Bindestriche enthalten (höchstens %(max)s)."
        ) % {"max": MAX_SLUG}
    elif slug in RESERVED_SLUGS:
        errors["slug"] = gettext("Diese Kurzadresse ist reserviert. Bitte wählen Sie eine andere.")

    values["description"] = raw["description"]
    if len(raw["description"]) > MAX_DESCRIPTION:
        errors["description"] = gettext("Die Beschreibung darf höchstens %(max)s Zeichen lang sein.") % {
            "max": MAX_DESCRIPTION
        }
    values["hashtag"] = raw["hashtag"]
    if len(raw["hashtag"]) > MAX_HASHTAG:
        errors["hashtag"] = gettext("Der Hashtag darf höchstens %(max)s Zeichen lang sein.") % {"max": MAX_HASHTAG}

    for name, message in (("starts_at", START_FORMAT), ("ends_at", END_FORMAT)):
        values[name] = None
        if raw[name]:
            try:
                values[name] = utc_from_berlin(raw[name])
            except ValueError:
                errors[name] = gettext(message)
    if values["starts_at"] and values["ends_at"] and values["ends_at"] <= values["starts_at"]:
        errors["ends_at"] = gettext("Das Ende muss nach dem Beginn liegen.")

    for name, parse, message in STREAM_FIELDS:
        values[name] = None
        if raw[name]:
            stream = parse(raw[name])
            if stream is None:
                errors[name] = gettext(message)
            else:
                values[name] = stream.url

    values["recording_url"] = raw["recording_url"] or None
    if raw["recording_url"]:
        parts = urlsplit(raw["recording_url"])
        if parts.scheme not in {"http", "https"} or not parts.netloc or len(raw["recording_url"]) > MAX_URL:
            errors["recording_url"] = gettext("Bitte eine vollständige Adresse angeben, die mit https:// beginnt.")

    values["moderation_mode"] = raw["moderation_mode"] or "approve"
    if values["moderation_mode"] not in MODERATION_MODES:
        errors["moderation_mode"] = gettext("Bitte wählen Sie, wie Fragen moderiert werden.")
    values["names_allowed"] = int(bool(raw["names_allowed"]))
    values["questions_open"] = int(bool(raw["questions_open"]))
    return result


def form_from_event(row: sqlite3.Row) -> FormInput:
    return FormInput(
        raw={
            "title": row["title"],
            "slug": row["slug"],
            "description": row["description"],
            "hashtag": row["hashtag"],
            "starts_at": berlin_input(row["starts_at"]),
            "ends_at": berlin_input(row["ends_at"]),
            "youtube_url": row["youtube_url"] or "",
            "facebook_url": row["facebook_url"] or "",
            "recording_url": row["recording_url"] or "",
            "moderation_mode": row["moderation_mode"],
            "names_allowed": "on" if row["names_allowed"] else "",
            "questions_open": "on" if row["questions_open"] else "",
        }
    )


SLUG_TAKEN = N_("Diese Kurzadresse ist schon vergeben. Bitte wählen Sie eine andere.")
NEW_EVENT_DEFAULTS = {"moderation_mode": "approve", "names_allowed": "on", "questions_open": "on"}


async def _slug_taken(tx: Transaction, slug: str, except_id: int | None = None) -> bool:
    row = await tx.fetchone(
        "SELECT id FROM events WHERE slug = :slug AND id IS NOT :except_id", {"slug": slug, "except_id": except_id}
    )
    return row is not None


# --- pages ---------------------------------------------------------------------------------------------------


def admin_page(request: Request, template: str, moderator: Moderator, status: int = 200, **context: Any) -> Response:
    return render(request, template, status=status, moderator=moderator, csrf=csrf_token(request), **context)


async def admin_home(request: Request) -> Response:
    moderator = await admin_or_redirect(request)
    if isinstance(moderator, Response):
        return moderator
    rows = await app_state(request).db.fetchall(
        "SELECT e.slug, e.title, e.starts_at, e.ends_at, e.archived_at, e.join_code, "
        "(SELECT COUNT(*) FROM questions q WHERE q.event_id = e.id) AS question_count "
        "FROM events e ORDER BY e.archived_at IS NOT NULL, e.starts_at DESC, e.id DESC"
    )
    events = [dict(r) for r in rows]
    notice = request.query_params.get("done")
    return admin_page(
        request,
        "admin/home.html",
        moderator,
        active=[e for e in events if not e["archived_at"]],
        archived=[e for e in events if e["archived_at"]],
        notice=gettext(NOTICES[notice]) if notice in NOTICES else None,
    )


NOTICES = {
    "created": N_("Die Veranstaltung wurde angelegt."),
    "saved": N_("Die Änderungen wurden gespeichert."),
    "archived": N_("Die Veranstaltung wurde archiviert."),
    "restored": N_("Die Veranstaltung ist wieder aktiv."),
    "deleted": N_("Die Veranstaltung und alles darin wurden gelöscht."),
    "duplicated": N_("Die Kopie wurde angelegt. Bitte prüfen Sie Titel, Kurzadresse und Termin."),
}


async def new_event_page(request: Request) -> Response:
    moderator = await admin_or_redirect(request)
    if isinstance(moderator, Response):
        return moderator
    return admin_page(
        request, "admin/event_form.html", moderator, form=FormInput(raw=dict(NEW_EVENT_DEFAULTS)), event=None
    )


async def create_event_submit(request: Request) -> Response:
    moderator = await admin_or_redirect(request)
    if isinstance(moderator, Response):
        return moderator
    form = read_event_form(await checked_form(request))
    state = app_state(request)
    if not form.errors:
        async with state.db.transaction() as tx:
            if await _slug_taken(tx, form.values["slug"]):
                form.errors["slug"] = gettext(SLUG_TAKEN)
            else:
                row = await tx.fetchone(
                    "INSERT INTO events (slug, title, description, hashtag, starts_at, ends_at, youtube_url, "
                    "facebook_url, recording_url, moderation_mode, names_allowed, questions_open, created_at) VALUES "
                    "(:slug, :title, :description, :hashtag, :starts_at, :ends_at, :youtube_url, :facebook_url, "
                    ":recording_url, :moderation_mode, :names_allowed, :questions_open, :now) RETURNING id",
                    {**form.values, "now": utcnow()},
                )
                assert row is not None
                await assign_join_code(tx, int(row["id"]))
    if form.errors:
        return admin_page(request, "admin/event_form.html", moderator, status=422, form=form, event=None)
    return RedirectResponse(f"/admin?done=created#event-{quote(form.values['slug'])}", status_code=303)


async def edit_event_page(request: Request) -> Response:
    moderator = await admin_or_redirect(request)
    if isinstance(moderator, Response):
        return moderator
    row = await event_by_slug(app_state(request).db, request.path_params["slug"])
    return await event_form_page(request, moderator, row, form_from_event(row))


async def event_form_page(
    request: Request,
    moderator: Moderator,
    row: sqlite3.Row,
    form: FormInput,
    *,
    status: int = 200,
    failed: tuple[PartKind, str, FormInput] | None = None,
) -> Response:
    """The edit page: the event's form and, below it, its agenda and its panel, each entry a form of its own."""
    db = app_state(request).db
    sections = {}
    for kind in PART_KINDS:
        entries = [dict(r) for r in await db.fetchall(kind.select_sql, {"event_id": row["id"]})]
        forms = {str(entry["id"]): kind.form_of(entry) for entry in entries}
        forms["new"] = FormInput(raw=dict(kind.new_defaults))
        if failed is not None and failed[0] is kind:
            forms[failed[1]] = failed[2]
        sections[kind.name] = {"entries": [(e, forms[str(e["id"])]) for e in entries], "new": forms["new"]}
    return admin_page(
        request,
        "admin/event_form.html",
        moderator,
        status=status,
        form=form,
        event=dict(row),
        sections=sections,
        agenda_kinds={kind: gettext(label) for kind, label in AGENDA_KINDS.items()},
    )


# --- the event's parts: agenda items and panelists, edited one entry at a time ------------------------------

AGENDA_KINDS = {"talk": N_("Vortrag"), "video": N_("Film"), "discussion": N_("Gespräch"), "questions": N_("Fragerunde")}
MAX_SPEAKERS = 300
MAX_DURATION = 600
MAX_PANELIST_NAME = 100
MAX_PANELIST_ROLE = 200


def _read_agenda_item(form: FormData) -> FormInput:
    names = ("title", "speakers", "kind", "starts_at", "duration_minutes")
    raw = {name: str(form.get(name, "")).strip() for name in names}
    result = FormInput(raw=raw)
    errors, values = result.errors, result.values
    values["title"] = raw["title"]
    if not raw["title"] or len(raw["title"]) > MAX_TITLE:
        errors["title"] = gettext("Bitte geben Sie einen Titel mit höchstens %(max)s Zeichen ein.") % {"max": MAX_TITLE}
    values["speakers"] = raw["speakers"]
    if len(raw["speakers"]) > MAX_SPEAKERS:
        errors["speakers"] = gettext("Die Mitwirkenden dürfen höchstens %(max)s Zeichen lang sein.") % {
            "max": MAX_SPEAKERS
        }
    values["kind"] = raw["kind"]
    if raw["kind"] not in AGENDA_KINDS:
        errors["kind"] = gettext("Bitte wählen Sie die Art des Programmpunkts.")
    values["starts_at"] = None
    if raw["starts_at"]:
        try:
            values["starts_at"] = utc_from_berlin(raw["starts_at"])
        except ValueError:
            errors["starts_at"] = gettext(START_FORMAT)
    values["duration_minutes"] = None
    if raw["duration_minutes"]:
        if raw["duration_minutes"].isdigit() and 1 <= int(raw["duration_minutes"]) <= MAX_DURATION:
            values["duration_minutes"] = int(raw["duration_minutes"])
        else:
            errors["duration_minutes"] = gettext("Die Dauer ist eine Zahl von Minuten zwischen 1 und %(max)s.") % {
                "max": MAX_DURATION
            }
    return result


def _agenda_item_form(entry: dict[str, Any]) -> FormInput:
    return FormInput(
        raw={
            "title": entry["title"],
            "speakers": entry["speakers"],
            "kind": entry["kind"],
            "starts_at": berlin_input(entry["starts_at"]),
            "duration_minutes": str(entry["duration_minutes"] or ""),
        }
    )


def _read_panelist(form: FormData) -> FormInput:
    raw = {name: str(form.get(name, "")).strip() for name in ("name", "role")}
    result = FormInput(raw=raw, values=dict(raw))
    if not raw["name"] or len(raw["name"]) > MAX_PANELIST_NAME:
        result.errors["name"] = gettext("Bitte geben Sie einen Namen mit höchstens %(max)s Zeichen ein.") % {
            "max": MAX_PANELIST_NAME
        }
    if len(raw["role"]) > MAX_PANELIST_ROLE:
        result.errors["role"] = gettext("Die Funktion darf höchstens %(max)s Zeichen lang sein.") % {
            "max": MAX_PANELIST_ROLE
        }
    return result


@dataclass(frozen=True)
class PartKind:
    name: str  # in the paths: /admin/events/{slug}/{name}/...
    table: str
    columns: tuple[str, ...]
    order: str  # how entries are numbered after every change
    read: Callable[[FormData], FormInput]
    form_of: Callable[[dict[str, Any]], FormInput]
    new_defaults: dict[str, str]
    anchor: str
    missing: str  # German, marked with N_: translated when it is shown

    @property
    def select_sql(self) -> str:
        columns = ", ".join(self.columns)
        return f"SELECT id, {columns} FROM {self.table} WHERE event_id = :event_id ORDER BY position, id"


AGENDA = PartKind(
    name="agenda",
    table="agenda_items",
    columns=("title", "speakers", "kind", "starts_at", "duration_minutes"),
    # In time order; entries without a time keep their place after the timed ones.
    order="starts_at IS NULL, starts_at, position, id",
    read=_read_agenda_item,
    form_of=_agenda_item_form,
    new_defaults={"kind": "talk"},
    anchor="ablauf",
    missing=N_("Diesen Programmpunkt gibt es nicht (mehr)."),
)
PANELISTS = PartKind(
    name="panelists",
    table="panelists",
    columns=("name", "role"),
    order="position, id",
    read=_read_panelist,
    form_of=lambda entry: FormInput(raw={"name": entry["name"], "role": entry["role"]}),
    new_defaults={},
    anchor="podium",
    missing=N_("Diese Person gibt es auf dem Podium nicht (mehr)."),
)
PART_KINDS = (AGENDA, PANELISTS)


async def _change_part(request: Request, kind: PartKind, *, deleting: bool = False) -> Response:
    """Add, save or delete one agenda item or panelist, then back to the event's page at that section."""
    moderator = await admin_or_redirect(request)
    if isinstance(moderator, Response):
        return moderator
    key = request.path_params.get("part_id", "new")
    if key != "new" and not (key.isascii() and key.isdigit() and len(key) <= 18):
        raise ApiError(404, "not_found", gettext(kind.missing))
    form_data = await checked_form(request)
    state = app_state(request)
    row = await event_by_slug(state.db, request.path_params["slug"])
    entry = None if deleting else kind.read(form_data)
    if entry is not None and entry.errors:
        failed = (kind, key, entry)
        return await event_form_page(request, moderator, row, form_from_event(row), status=422, failed=failed)
    params: dict[str, Any] = {"event_id": row["id"], "id": None if key == "new" else int(key)}
    async with state.db.transaction() as tx:
        if key != "new":
            found = await tx.fetchone(f"SELECT id FROM {kind.table} WHERE id = :id AND event_id = :event_id", params)
            if found is None:
                raise ApiError(404, "not_found", gettext(kind.missing))
        if deleting:
            await tx.execute(f"DELETE FROM {kind.table} WHERE id = :id", params)
        elif key == "new":
            assert entry is not None
            names = ", ".join(kind.columns)
            placeholders = ", ".join(f":{c}" for c in kind.columns)
            await tx.execute(
                f"INSERT INTO {kind.table} (event_id, position, {names}) VALUES (:event_id, 1000000, {placeholders})",
                {**params, **entry.values},
            )
        else:
            assert entry is not None
            assignments = ", ".join(f"{c} = :{c}" for c in kind.columns)
            await tx.execute(f"UPDATE {kind.table} SET {assignments} WHERE id = :id", {**params, **entry.values})
        ordered = await tx.fetchall(
            f"SELECT id FROM {kind.table} WHERE event_id = :event_id ORDER BY {kind.order}", params
        )
        await tx.executemany(
            f"UPDATE {kind.table} SET position = :position WHERE id = :id",
            [{"position": i, "id": r["id"]} for i, r in enumerate(ordered)],
        )
        await record_event_change(tx, state.hub, row["id"])
    done = f"{kind.name}-{'deleted' if deleting else 'saved'}"
    return RedirectResponse(f"/admin/events/{quote(row['slug'])}?done={done}#{kind.anchor}", status_code=303)


def _part_routes(kind: PartKind) -> list[Route]:
    async def add(request: Request) -> Response:
        return await _change_part(request, kind)

    async def delete(request: Request) -> Response:
        return await _change_part(request, kind, deleting=True)

    base = f"/admin/events/{{slug}}/{kind.name}"
    return [
        Route(base, add, methods=["POST"]),
        Route(f"{base}/{{part_id}}", add, methods=["POST"]),
        Route(f"{base}/{{part_id}}/delete", delete, methods=["POST"]),
    ]


async def edit_event_submit(request: Request) -> Response:
    moderator = await admin_or_redirect(request)
    if isinstance(moderator, Response):
        return moderator
    state = app_state(request)
    row = await event_by_slug(state.db, request.path_params["slug"])
    form = read_event_form(await checked_form(request))
    if not form.errors:
        async with state.db.transaction() as tx:
            if await _slug_taken(tx, form.values["slug"], except_id=row["id"]):
                form.errors["slug"] = gettext(SLUG_TAKEN)
            else:
                await tx.execute(
                    "UPDATE events SET slug = :slug, title = :title, description = :description, hashtag = :hashtag, "
                    "starts_at = :starts_at, ends_at = :ends_at, youtube_url = :youtube_url, "
                    "facebook_url = :facebook_url, recording_url = :recording_url, moderation_mode = :moderation_mode, "
                    "names_allowed = :names_allowed, questions_open = :questions_open WHERE id = :id",
                    {**form.values, "id": row["id"]},
                )
                await record_event_change(tx, app_state(request).hub, row["id"])
    if form.errors:
        return await event_form_page(request, moderator, row, form, status=422)
    return RedirectResponse("/admin?done=saved", status_code=303)


async def duplicate_event(request: Request) -> Response:
    """A new event with the same settings and agenda, and none of the questions, polls or votes."""
    moderator = await admin_or_redirect(request)
    if isinstance(moderator, Response):
        return moderator
    await checked_form(request)
    state = app_state(request)
    source = await event_by_slug(state.db, request.path_params["slug"])
    agenda = await agenda_of(state.db, source["id"])
    title = gettext("Kopie von %(title)s") % {"title": source["title"]}
    async with state.db.transaction() as tx:
        base = f"{source['slug'][: MAX_SLUG - 8]}-kopie"
        slug, number = base, 1
        while await _slug_taken(tx, slug):
            number += 1
            slug = f"{base}-{number}"
        row = await tx.fetchone(
            "INSERT INTO events (slug, title, description, hashtag, starts_at, ends_at, youtube_url, facebook_url, "
            "moderation_mode, names_allowed, questions_open, created_at) SELECT :slug, :title, "
            "description, hashtag, starts_at, ends_at, youtube_url, facebook_url, moderation_mode, names_allowed, "
            "questions_open, :now FROM events WHERE id = :id RETURNING id",
            # In the admin's language: the title says "rename me" to whoever made the copy.
            {"slug": slug, "title": title, "now": utcnow(), "id": source["id"]},
        )
        assert row is not None
        new_id = int(row["id"])
        await tx.executemany(
            "INSERT INTO agenda_items (event_id, position, title, speakers, kind, starts_at, duration_minutes) "
            "VALUES (:event_id, :position, :title, :speakers, :kind, :starts_at, :duration_minutes)",
            [
                {"event_id": new_id, "position": i, **{k: v for k, v in item.items() if k != "id"}}
                for i, item in enumerate(agenda)
            ],
        )
        await assign_join_code(tx, new_id)
    return RedirectResponse(f"/admin/events/{quote(slug)}?done=duplicated", status_code=303)


async def archive_event(request: Request) -> Response:
    moderator = await admin_or_redirect(request)
    if isinstance(moderator, Response):
        return moderator
    form = await checked_form(request)
    state = app_state(request)
    row = await event_by_slug(state.db, request.path_params["slug"])
    archive = form.get("archive") != "0"
    async with state.db.transaction() as tx:
        # An archived event takes no questions: the page stays readable for the documentation.
        await tx.execute(
            "UPDATE events SET archived_at = :archived_at WHERE id = :id",
            {"archived_at": utcnow() if archive else None, "id": row["id"]},
        )
        await record_event_change(tx, app_state(request).hub, row["id"])
    return RedirectResponse(f"/admin?done={'archived' if archive else 'restored'}", status_code=303)


async def delete_event_page(request: Request) -> Response:
    moderator = await admin_or_redirect(request)
    if isinstance(moderator, Response):
        return moderator
    row = await event_by_slug(app_state(request).db, request.path_params["slug"])
    return await _delete_confirmation(request, moderator, row)


async def _delete_confirmation(
    request: Request, moderator: Moderator, row: sqlite3.Row, error: str | None = None
) -> Response:
    """The page that asks before deleting, with what would be lost (again, with the error, after a wrong slug)."""
    counts = await app_state(request).db.fetchone(
        "SELECT (SELECT COUNT(*) FROM questions WHERE event_id = :id) AS questions, "
        "(SELECT COUNT(*) FROM polls WHERE event_id = :id) AS polls",
        {"id": row["id"]},
    )
    status = 200 if error is None else 422
    return admin_page(
        request, "admin/delete.html", moderator, status=status, event=dict(row), counts=dict(counts or {}), error=error
    )


async def delete_event_submit(request: Request) -> Response:
    moderator = await admin_or_redirect(request)
    if isinstance(moderator, Response):
        return moderator
    form = await checked_form(request)
    state = app_state(request)
    row = await event_by_slug(state.db, request.path_params["slug"])
    if str(form.get("confirm_slug", "")).strip() != row["slug"]:
        error = gettext("Zur Bestätigung bitte genau die Kurzadresse der Veranstaltung eintippen.")
        return await _delete_confirmation(request, moderator, row, error)
    async with state.db.transaction() as tx:
        # Everything in the event goes with it (ON DELETE CASCADE): questions, votes, polls, ballots, the log.
        await tx.execute("DELETE FROM events WHERE id = :id", {"id": row["id"]})
    return RedirectResponse("/admin?done=deleted", status_code=303)


routes = [
    Route("/admin", admin_home, methods=["GET"]),
    Route("/admin/events/new", new_event_page, methods=["GET"]),
    Route("/admin/events/new", create_event_submit, methods=["POST"]),
    Route("/admin/events/{slug}", edit_event_page, methods=["GET"]),
    Route("/admin/events/{slug}", edit_event_submit, methods=["POST"]),
    Route("/admin/events/{slug}/duplicate", duplicate_event, methods=["POST"]),
    Route("/admin/events/{slug}/archive", archive_event, methods=["POST"]),
    Route("/admin/events/{slug}/delete", delete_event_page, methods=["GET"]),
    Route("/admin/events/{slug}/delete", delete_event_submit, methods=["POST"]),
    *_part_routes(AGENDA),
    *_part_routes(PANELISTS),
]
