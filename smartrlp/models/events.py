"""An event as the API, the pages and the `event` websocket message give it."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.models.agenda import AgendaItem
from smartrlp.models.base import Body, Reply
from smartrlp.models.studio import Screen

ModerationMode = Literal["approve", "post"]
MODERATION_MODES: tuple[str, ...] = get_args(ModerationMode)
StreamProvider = Literal["youtube", "facebook"]
# Where a viewer watches ("Ich schaue: …", `?watch=`): the page waits that long for the video (stream-delay.js).
WatchChoice = Literal["here", "tv", "youtube", "facebook", "none"]
WATCH_CHOICES: tuple[str, ...] = get_args(WatchChoice)


class Stream(Reply):
    provider: StreamProvider
    label: str
    url: str
    embed_url: str = Field(description="The privacy-friendly embed address (YouTube: youtube-nocookie.com).")
    recipient: str = Field(description="Who receives the viewer's data once the embed loads.")


DelaySeconds = Annotated[int, Field(ge=0, le=FIELD_LIMITS["stream_delay_seconds"])]


class StreamDelays(Body):
    """How far behind the studio a viewer's video runs, in whole seconds, per way of watching"""

    youtube: DelaySeconds = Field(description="On YouTube, here or there; used while the player reports no delay.")
    facebook: DelaySeconds = Field(description="On Facebook, here or there.")
    tv: DelaySeconds = Field(description="On the TV channels that rebroadcast the event.")


class StreamDelaysReply(Reply):
    """The delays as now stored"""

    youtube: int
    facebook: int
    tv: int


class ServerTime(Reply):
    """The server's clock"""

    now: int = Field(description="Milliseconds since the epoch, as `at` in live messages.")


class Panelist(Reply):
    id: int
    name: str
    role: str


class CurrentAgenda(Reply):
    item_id: int
    started_at: str = Field(json_schema_extra={"format": "date-time"})


class Event(Reply):
    """The event"""

    slug: str
    title: str
    description: str
    hashtag: str
    starts_at: str | None
    ends_at: str | None
    streams: list[Stream] = Field(description="Only the providers the event has.")
    questions_open: bool
    on_air_question_id: int | None
    agenda: list[AgendaItem]
    panelists: list[Panelist]
    seq: int = Field(description="The event's latest change sequence number: resume the websocket from here.")
    join_code: str = Field(description="Six characters; typed at /join or in the address /j/{code}.")
    screen: Screen
    moderation_mode: ModerationMode = Field(description="`approve`: questions wait; `post`: shown at once.")
    names_allowed: bool
    archived: bool
    recording_url: str | None
    current_agenda: CurrentAgenda | None = Field(description="The item a moderator marked as on now (null: none).")
    stream_delays: StreamDelaysReply = Field(
        description="Seconds the viewer page waits before it shows what the video shows, per way of watching."
    )
    captions_url: str | None = Field(description="A page with live captions of the event (null: none).")
    sign_language_url: str | None = Field(description="A stream with a sign-language interpreter (null: none).")
    stream_captions: bool = Field(description="The YouTube stream has captions: its embed turns them on, in German.")
