"""The administration's HTML forms: what an admin typed, checked and explained in the language of the page.

A reader takes the posted form and returns what was typed (to show it again) with what it means and what is wrong
with it, field by field. Rules that the command line shares (account names, passwords) come from the services,
which name each broken rule with a code; the German words for those codes are here. Limits come from FIELD_LIMITS.
Dates are entered and shown in Europe/Berlin, the events' own time zone, and stored in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData

from smartrlp.core import streams
from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.core.i18n import N_, gettext
from smartrlp.core.text import normalise
from smartrlp.models.agenda import AGENDA_KINDS
from smartrlp.models.events import MODERATION_MODES
from smartrlp.services import event_admin, users
from smartrlp.services.accounts import Problem, normalised_name
from smartrlp.web import access_form
from smartrlp.web.pages import EVENT_TIMEZONE


@dataclass
class FormInput:
    """What the admin typed into a form, as typed (to show it again), and what it means once checked."""

    raw: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def _typed(form: FormData, names: Iterable[str]) -> dict[str, str]:
    return {name: normalise(str(form.get(name, ""))) for name in names}


def _too_long(message: str, limit: str) -> str:
    return gettext(message) % {"max": FIELD_LIMITS[limit]}


def berlin_input(iso: str | None) -> str:
    """A stored UTC time as the value of a `datetime-local` field in Berlin time."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return moment.astimezone(EVENT_TIMEZONE).strftime("%Y-%m-%dT%H:%M")


def utc_from_berlin(raw: str) -> str:
    local = datetime.fromisoformat(raw)
    if local.tzinfo is not None:
        raise ValueError("no offset expected")
    return local.replace(tzinfo=EVENT_TIMEZONE).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- the event form -------------------------------------------------------------------------------------------

EVENT_FIELDS = (
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
    *access_form.FIELDS,
)
CHECKBOXES = ("names_allowed", "questions_open", *access_form.CHECKBOXES)
assert set(EVENT_FIELDS + CHECKBOXES) == set(event_admin.ADMIN_COLUMNS), "the form reads what the service writes"
NEW_EVENT_DEFAULTS = {"moderation_mode": "approve", "names_allowed": "on", "questions_open": "on"}
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
SLUG_TAKEN = N_("Diese Kurzadresse ist schon vergeben. Bitte wählen Sie eine andere.")


def read_event_form(form: FormData) -> FormInput:
    raw = _typed(form, EVENT_FIELDS)
    raw.update({name: "on" if form.get(name) else "" for name in CHECKBOXES})
    result = FormInput(raw=raw)
    errors, values = result.errors, result.values

    values["title"] = raw["title"]
    if not raw["title"]:
        errors["title"] = gettext("Bitte geben Sie einen Titel ein.")
    elif len(raw["title"]) > FIELD_LIMITS["event_title"]:
        errors["title"] = _too_long("Der Titel darf höchstens %(max)s Zeichen lang sein.", "event_title")

    slug = raw["slug"] or event_admin.slugify(raw["title"])
    values["slug"] = slug
    if not event_admin.SLUG_PATTERN.match(slug) or len(slug) > event_admin.SLUG_MAX:
        errors["slug"] = _too_long(
            "Die Kurzadresse darf nur Kleinbuchstaben, Ziffern und Bindestriche enthalten (höchstens %(max)s).",
            "event_slug",
        )
    elif slug in event_admin.RESERVED_SLUGS:
        errors["slug"] = gettext("Diese Kurzadresse ist reserviert. Bitte wählen Sie eine andere.")

    values["description"] = raw["description"]
    if len(raw["description"]) > FIELD_LIMITS["event_description"]:
        errors["description"] = _too_long(
            "Die Beschreibung darf höchstens %(max)s Zeichen lang sein.", "event_description"
        )
    values["hashtag"] = raw["hashtag"]
    if len(raw["hashtag"]) > FIELD_LIMITS["event_hashtag"]:
        errors["hashtag"] = _too_long("Der Hashtag darf höchstens %(max)s Zeichen lang sein.", "event_hashtag")

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
        too_long = len(raw["recording_url"]) > FIELD_LIMITS["url"]
        if parts.scheme not in {"http", "https"} or not parts.netloc or too_long:
            errors["recording_url"] = gettext("Bitte eine vollständige Adresse angeben, die mit https:// beginnt.")

    values["moderation_mode"] = raw["moderation_mode"] or "approve"
    if values["moderation_mode"] not in MODERATION_MODES:
        errors["moderation_mode"] = gettext("Bitte wählen Sie, wie Fragen moderiert werden.")
    values["names_allowed"] = int(bool(raw["names_allowed"]))
    values["questions_open"] = int(bool(raw["questions_open"]))
    access_form.read_access(raw, values, errors)
    return result


def form_from_event(row: Mapping[str, Any]) -> FormInput:
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
            **access_form.access_raw(row),
        }
    )


# --- agenda items and panelists ------------------------------------------------------------------------------

AGENDA_KIND_LABELS = {
    "talk": N_("Vortrag"),
    "video": N_("Film"),
    "discussion": N_("Gespräch"),
    "questions": N_("Fragerunde"),
}
assert tuple(AGENDA_KIND_LABELS) == AGENDA_KINDS, "every kind of agenda item needs its label"


def read_agenda_item(form: FormData) -> FormInput:
    raw = _typed(form, ("title", "speakers", "kind", "starts_at", "duration_minutes"))
    result = FormInput(raw=raw)
    errors, values = result.errors, result.values
    values["title"] = raw["title"]
    if not raw["title"] or len(raw["title"]) > FIELD_LIMITS["agenda_title"]:
        errors["title"] = _too_long("Bitte geben Sie einen Titel mit höchstens %(max)s Zeichen ein.", "agenda_title")
    values["speakers"] = raw["speakers"]
    if len(raw["speakers"]) > FIELD_LIMITS["agenda_speakers"]:
        errors["speakers"] = _too_long(
            "Die Mitwirkenden dürfen höchstens %(max)s Zeichen lang sein.", "agenda_speakers"
        )
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
    minutes = raw["duration_minutes"]
    if minutes:
        # isdigit() alone also takes digits int() refuses, such as "²".
        if minutes.isascii() and minutes.isdigit() and 1 <= int(minutes) <= FIELD_LIMITS["agenda_duration_minutes"]:
            values["duration_minutes"] = int(minutes)
        else:
            errors["duration_minutes"] = _too_long(
                "Die Dauer ist eine Zahl von Minuten zwischen 1 und %(max)s.", "agenda_duration_minutes"
            )
    return result


def agenda_item_form(entry: Mapping[str, Any]) -> FormInput:
    return FormInput(
        raw={
            "title": entry["title"],
            "speakers": entry["speakers"],
            "kind": entry["kind"],
            "starts_at": berlin_input(entry["starts_at"]),
            "duration_minutes": str(entry["duration_minutes"] or ""),
        }
    )


def read_panelist(form: FormData) -> FormInput:
    raw = _typed(form, ("name", "role"))
    result = FormInput(raw=raw, values=dict(raw))
    if not raw["name"] or len(raw["name"]) > FIELD_LIMITS["panelist_name"]:
        result.errors["name"] = _too_long(
            "Bitte geben Sie einen Namen mit höchstens %(max)s Zeichen ein.", "panelist_name"
        )
    if len(raw["role"]) > FIELD_LIMITS["panelist_role"]:
        result.errors["role"] = _too_long("Die Funktion darf höchstens %(max)s Zeichen lang sein.", "panelist_role")
    return result


def panelist_form(entry: Mapping[str, Any]) -> FormInput:
    return FormInput(raw={"name": entry["name"], "role": entry["role"]})


# --- accounts ------------------------------------------------------------------------------------------------

# The rules of services.users, by code, in the words of the page.
ACCOUNT_MESSAGES = {
    "name_missing": N_("Bitte geben Sie einen Namen ein."),
    "name_too_long": N_("Der Name darf höchstens %(max)s Zeichen lang sein."),
    "name_control": N_(
        "Der Name darf keine Steuerzeichen wie Tabulatoren, Zeilenumbrüche oder unsichtbare Zeichen enthalten."
    ),
    "name_taken": N_(
        "Den Namen „%(name)s“ gibt es schon (Groß- und Kleinschreibung zählen dabei nicht). "
        "Bitte wählen Sie einen anderen."
    ),
    "password_too_short": N_("Das Passwort muss mindestens %(min)s Zeichen lang sein."),
    "password_too_long": N_("Das Passwort darf höchstens %(max)s Zeichen lang sein."),
    "role_unknown": N_("Bitte wählen Sie eine Rolle."),
    "event_unknown": N_("Eine der gewählten Veranstaltungen gibt es nicht (mehr). Bitte prüfen Sie die Auswahl."),
    "event_gone": N_("Eine der gewählten Veranstaltungen wurde eben gelöscht. Bitte noch einmal."),
    "self_demote": N_(
        "Sie können sich nicht selbst die Rolle Administration nehmen. Bitten Sie eine andere "
        "Administratorin oder einen anderen Administrator darum."
    ),
    "last_admin": N_(
        "Das ist das letzte Konto mit der Rolle Administration. Geben Sie zuerst einem anderen Konto diese Rolle."
    ),
    "account_missing": N_("Dieses Konto gibt es nicht (mehr)."),
}


def account_message(found: Problem) -> str:
    return gettext(ACCOUNT_MESSAGES[found.code]) % dict(found.params)


@dataclass
class UserForm:
    """What the admin sent, as sent (passwords excepted: they are never shown again), and what it means."""

    raw: dict[str, str]
    event_ids: set[int] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)
    password: str | None = None
    generated: bool = False

    def add_problems(self, problems: Iterable[Problem]) -> None:
        """The service's verdict, for the fields the form itself found nothing wrong with."""
        for found in problems:
            if found.field is not None and found.field not in self.errors:
                self.errors[found.field] = account_message(found)


def read_password(form: FormData, result: UserForm) -> None:
    """The password typed twice, or a generated one (the box wins over anything typed)."""
    if form.get("generate"):
        result.raw["generate"] = "on"
        result.password, result.generated = users.generate_password(), True
        return
    password = str(form.get("password", ""))
    weak = users.password_problem(password)
    if not password:
        result.errors["password"] = gettext("Bitte geben Sie ein Passwort ein oder wählen Sie „Passwort erzeugen“.")
    elif weak is not None:
        result.errors["password"] = account_message(weak)
    elif password != str(form.get("password_repeat", "")):
        message = gettext("Die beiden Passwörter stimmen nicht überein. Bitte tippen Sie beide neu.")
        result.errors["password_repeat"] = message
    else:
        result.password = password


def read_role_and_events(form: FormData, result: UserForm) -> None:
    result.raw["role"] = str(form.get("role", ""))
    for value in form.getlist("events"):
        text = str(value)
        if not (text.isascii() and text.isdigit() and len(text) <= 18):
            result.errors["events"] = account_message(Problem("event_unknown", "", "events"))
            continue
        result.event_ids.add(int(text))


def read_new_user(form: FormData) -> UserForm:
    result = UserForm(raw={"name": normalised_name(str(form.get("name", "")))})
    read_role_and_events(form, result)
    read_password(form, result)
    return result
