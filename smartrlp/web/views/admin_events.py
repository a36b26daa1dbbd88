"""Event administration at /admin: create, edit, duplicate, archive and delete events (role `admin`).

Plain HTML forms that work without JavaScript; every form carries a CSRF token bound to the login session. Each
handler reads the form (smartrlp.web.forms), calls the service (smartrlp.services.event_admin) and answers with
the page again (422, what was typed kept and every problem explained) or a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smartrlp.core.errors import ApiError
from smartrlp.core.i18n import N_, gettext
from smartrlp.services import event_admin
from smartrlp.services.accounts import Moderator
from smartrlp.web import forms
from smartrlp.web.auth import admin_page, admins_only, checked_form
from smartrlp.web.endpoint import event_from_path
from smartrlp.web.forms import FormInput
from smartrlp.web.http import app_state

NOTICES = {
    "created": N_("Die Veranstaltung wurde angelegt."),
    "saved": N_("Die Änderungen wurden gespeichert."),
    "archived": N_("Die Veranstaltung wurde archiviert."),
    "restored": N_("Die Veranstaltung ist wieder aktiv."),
    "deleted": N_("Die Veranstaltung und alles darin wurden gelöscht."),
    "duplicated": N_("Die Kopie wurde angelegt. Bitte prüfen Sie Titel, Kurzadresse und Termin."),
}


@admins_only
async def admin_home(request: Request, actor: Moderator) -> Response:
    events = await event_admin.overview(app_state(request).ctx)
    notice = request.query_params.get("done")
    return admin_page(
        request,
        "admin/home.html",
        actor,
        active=[e for e in events if not e["archived_at"]],
        archived=[e for e in events if e["archived_at"]],
        notice=gettext(NOTICES[notice]) if notice in NOTICES else None,
    )


@admins_only
async def new_event_page(request: Request, actor: Moderator) -> Response:
    form = FormInput(raw=dict(forms.NEW_EVENT_DEFAULTS))
    return admin_page(request, "admin/event_form.html", actor, form=form, event=None)


@admins_only
async def create_event_submit(request: Request, actor: Moderator) -> Response:
    data = await checked_form(request)
    form = forms.read_event_form(data)
    # The page's form makes a draft unless "Sofort veröffentlichen" is chosen; a script that posts the form without
    # the field (as before drafts existed) gets a published event.
    publication = str(data.get("publication") or "published")
    form.raw["publication"] = publication
    if not form.errors:
        fields = {**form.values, **({"published_at": None} if publication == "draft" else {})}
        try:
            await event_admin.create_event(app_state(request).ctx, fields)
        except event_admin.SlugTaken:
            form.errors["slug"] = gettext(forms.SLUG_TAKEN)
    if form.errors:
        return admin_page(request, "admin/event_form.html", actor, status=422, form=form, event=None)
    # On to the new event's own page: its agenda and panel are what an admin adds next.
    return RedirectResponse(f"/admin/events/{quote(form.values['slug'])}?done=created", status_code=303)


@admins_only
async def edit_event_page(request: Request, actor: Moderator) -> Response:
    event = await event_from_path(request)
    return await _event_form_page(request, actor, event, forms.form_from_event(event))


# --- the event's parts: agenda items and panelists, edited one entry at a time ------------------------------


@dataclass(frozen=True)
class PartForms:
    """How the edit page shows and reads one kind of part of an event."""

    part: event_admin.Part
    read: Callable[[FormData], FormInput]
    form_of: Callable[[dict[str, Any]], FormInput]
    new_defaults: dict[str, str]
    anchor: str
    missing: str  # German, marked with N_: translated when it is shown


AGENDA = PartForms(
    part=event_admin.AGENDA,
    read=forms.read_agenda_item,
    form_of=forms.agenda_item_form,
    new_defaults={"kind": "talk"},
    anchor="ablauf",
    missing=N_("Diesen Programmpunkt gibt es nicht (mehr)."),
)
PANELISTS = PartForms(
    part=event_admin.PANELISTS,
    read=forms.read_panelist,
    form_of=forms.panelist_form,
    new_defaults={},
    anchor="podium",
    missing=N_("Diese Person gibt es auf dem Podium nicht (mehr)."),
)
PART_FORMS = (AGENDA, PANELISTS)


async def _event_form_page(
    request: Request,
    actor: Moderator,
    event: Any,
    form: FormInput,
    *,
    status: int = 200,
    failed: tuple[PartForms, str, FormInput] | None = None,
) -> Response:
    """The edit page: the event's form and, below it, its agenda and its panel, each entry a form of its own."""
    ctx = app_state(request).ctx
    sections = {}
    for kind in PART_FORMS:
        entries = await event_admin.entries(ctx, kind.part, event["id"])
        entry_forms = {str(entry["id"]): kind.form_of(entry) for entry in entries}
        entry_forms["new"] = FormInput(raw=dict(kind.new_defaults))
        if failed is not None and failed[0] is kind:
            entry_forms[failed[1]] = failed[2]
        sections[kind.part.name] = {
            "entries": [(e, entry_forms[str(e["id"])]) for e in entries],
            "new": entry_forms["new"],
        }
    return admin_page(
        request,
        "admin/event_form.html",
        actor,
        status=status,
        form=form,
        event=dict(event),
        sections=sections,
        agenda_kinds={kind: gettext(label) for kind, label in forms.AGENDA_KIND_LABELS.items()},
    )


def _part_routes(kind: PartForms) -> list[Route]:
    def entry_id(request: Request) -> int | None:
        key = request.path_params.get("part_id", "new")
        if key == "new":
            return None
        if not (key.isascii() and key.isdigit() and len(key) <= 18):
            raise ApiError(404, "not_found", gettext(kind.missing))
        return int(key)

    def back_to(event: Any, done: str) -> Response:
        path = f"/admin/events/{quote(event['slug'])}?done={kind.part.name}-{done}#{kind.anchor}"
        return RedirectResponse(path, status_code=303)

    @admins_only
    async def save(request: Request, actor: Moderator) -> Response:
        """Add or save one agenda item or panelist, then back to the event's page at that section."""
        key = entry_id(request)
        entry = kind.read(await checked_form(request))
        event = await event_from_path(request)
        if entry.errors:
            failed = (kind, "new" if key is None else str(key), entry)
            form = forms.form_from_event(event)
            return await _event_form_page(request, actor, event, form, status=422, failed=failed)
        if not await event_admin.save_entry(app_state(request).ctx, kind.part, event["id"], key, entry.values):
            raise ApiError(404, "not_found", gettext(kind.missing))
        return back_to(event, "saved")

    @admins_only
    async def delete(request: Request, actor: Moderator) -> Response:
        key = entry_id(request)
        await checked_form(request)
        event = await event_from_path(request)
        if key is None or not await event_admin.delete_entry(app_state(request).ctx, kind.part, event["id"], key):
            raise ApiError(404, "not_found", gettext(kind.missing))
        return back_to(event, "deleted")

    base = f"/admin/events/{{slug}}/{kind.part.name}"
    return [
        Route(base, save, methods=["POST"]),
        Route(f"{base}/{{part_id}}", save, methods=["POST"]),
        Route(f"{base}/{{part_id}}/delete", delete, methods=["POST"]),
    ]


# --- edit, duplicate, archive, delete -------------------------------------------------------------------------


@admins_only
async def edit_event_submit(request: Request, actor: Moderator) -> Response:
    event = await event_from_path(request)
    form = forms.read_event_form(await checked_form(request))
    if not form.errors:
        try:
            await event_admin.update_event(app_state(request).ctx, event["id"], form.values)
        except event_admin.SlugTaken:
            form.errors["slug"] = gettext(forms.SLUG_TAKEN)
    if form.errors:
        return await _event_form_page(request, actor, event, form, status=422)
    return RedirectResponse("/admin?done=saved", status_code=303)


@admins_only
async def duplicate_event(request: Request, actor: Moderator) -> Response:
    """A draft with the same settings, agenda and panel, and none of the questions, polls or votes; with a new start
    (field `starts_at`, Berlin time) every time moves with it."""
    form = await checked_form(request)
    source = await event_from_path(request)
    # In the admin's language: the title says "rename me" to whoever made the copy.
    title = gettext("Kopie von %(title)s") % {"title": source["title"]}
    raw_start = str(form.get("starts_at") or "").strip()
    try:
        starts_at = forms.utc_from_berlin(raw_start) if raw_start else None
    except ValueError:
        starts_at = None  # an unreadable date keeps the source's times; the copy's form shows them to correct
    slug = await event_admin.duplicate_event(app_state(request).ctx, source["id"], title, starts_at)
    return RedirectResponse(f"/admin/events/{quote(slug)}?done=duplicated", status_code=303)


@admins_only
async def publish_event(request: Request, actor: Moderator) -> Response:
    """Publish a draft (listed on the home page, joinable) or take an event back to a draft."""
    form = await checked_form(request)
    event = await event_from_path(request)
    publish = form.get("publish") != "0"
    await event_admin.set_published(app_state(request).ctx, event["id"], publish)
    done = "published" if publish else "unpublished"
    return RedirectResponse(f"/admin/events/{quote(event['slug'])}?done={done}", status_code=303)


@admins_only
async def archive_event(request: Request, actor: Moderator) -> Response:
    form = await checked_form(request)
    event = await event_from_path(request)
    archive = form.get("archive") != "0"
    await event_admin.set_archived(app_state(request).ctx, event["id"], archive)
    return RedirectResponse(f"/admin?done={'archived' if archive else 'restored'}", status_code=303)


async def _delete_confirmation(request: Request, actor: Moderator, event: Any, error: str | None = None) -> Response:
    """The page that asks before deleting, with what would be lost (again, with the error, after a wrong slug)."""
    counts = await event_admin.deletion_counts(app_state(request).ctx, event["id"])
    status = 200 if error is None else 422
    return admin_page(request, "admin/delete.html", actor, status=status, event=dict(event), counts=counts, error=error)


@admins_only
async def delete_event_page(request: Request, actor: Moderator) -> Response:
    return await _delete_confirmation(request, actor, await event_from_path(request))


@admins_only
async def delete_event_submit(request: Request, actor: Moderator) -> Response:
    form = await checked_form(request)
    event = await event_from_path(request)
    if str(form.get("confirm_slug", "")).strip() != event["slug"]:
        error = gettext("Zur Bestätigung bitte genau die Kurzadresse der Veranstaltung eintippen.")
        return await _delete_confirmation(request, actor, event, error)
    await event_admin.delete_event(app_state(request).ctx, event["id"])
    return RedirectResponse("/admin?done=deleted", status_code=303)


routes = [
    Route("/admin", admin_home, methods=["GET"]),
    Route("/admin/events/new", new_event_page, methods=["GET"]),
    Route("/admin/events/new", create_event_submit, methods=["POST"]),
    Route("/admin/events/{slug}", edit_event_page, methods=["GET"]),
    Route("/admin/events/{slug}", edit_event_submit, methods=["POST"]),
    Route("/admin/events/{slug}/duplicate", duplicate_event, methods=["POST"]),
    Route("/admin/events/{slug}/archive", archive_event, methods=["POST"]),
    Route("/admin/events/{slug}/publish", publish_event, methods=["POST"]),
    Route("/admin/events/{slug}/delete", delete_event_page, methods=["GET"]),
    Route("/admin/events/{slug}/delete", delete_event_submit, methods=["POST"]),
    *_part_routes(AGENDA),
    *_part_routes(PANELISTS),
]
