"""The agenda: its items as the event JSON gives them, and the moderator's mark of the item that is on now."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from smartrlp.models.base import Body, Id, Reply

AgendaKind = Literal["talk", "video", "discussion", "questions"]
AGENDA_KINDS: tuple[str, ...] = get_args(AgendaKind)


class AgendaItem(Reply):
    id: int
    title: str
    speakers: str
    kind: AgendaKind
    starts_at: str | None = Field(description="The planned start.")
    duration_minutes: int | None


class SetCurrentItem(Body):
    # Required, and null is a value of its own: "nothing is on now".
    item_id: Id | None = Field(description="The agenda item that is on now, or null for none.")


class CurrentItem(Reply):
    """The mark as now stored"""

    item_id: int | None
    started_at: str | None = Field(
        json_schema_extra={"format": "date-time"},
        description="When the item was first marked: marking it again does not restart its clock.",
    )
