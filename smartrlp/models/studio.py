"""The studio side: what the presenter screen and the overlay show, and the read-only links for studio machines."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from smartrlp.models.base import Body, Id, OptionalText, Reply

ScreenMode = Literal["none", "question", "poll", "join"]
SCREEN_MODES: tuple[str, ...] = get_args(ScreenMode)
StudioView = Literal["present", "overlay"]
VIEWS: tuple[str, ...] = get_args(StudioView)


class SetScreen(Body):
    mode: ScreenMode
    poll_id: Id | None = Field(
        default=None, description="The poll whose results to show; required for `poll`, ignored otherwise."
    )
    pinned: bool = Field(
        default=False,
        description="Keep this on screen when a question goes on air (otherwise the screen switches to it); "
        "ignored for `question`.",
    )


class Screen(Reply):
    """What the presenter screen and the overlay show now"""

    mode: ScreenMode
    poll_id: int | None = Field(description="The poll shown (mode `poll` only).")
    pinned: bool = Field(description="Stays when a question goes on air; else the screen switches to the question.")


class CreateStudioLink(Body):
    view: StudioView
    label: OptionalText("studio_label") = Field(default=None, description="Which machine it is for (optional).")


class StudioLink(Reply):
    """A studio link, without its token"""

    id: int
    view: StudioView
    label: str
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    revoked_at: str | None = Field(json_schema_extra={"format": "date-time"})


class CreatedStudioLink(StudioLink):
    """The new link; its address (with the token) is shown only this once"""

    url: str = Field(description="Opens the view read-only, without a login; only its token's hash is kept.")


class StudioLinkList(Reply):
    """The event's studio links, revoked ones included"""

    links: list[StudioLink]
