"""The export after the event: what the JSON file holds, and which CSV file to download."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from smartrlp.models.base import Body, Reply
from smartrlp.models.polls import Poll
from smartrlp.models.questions import Status

CsvPart = Literal["questions", "polls"]
CSV_PARTS: tuple[str, ...] = get_args(CsvPart)


class CsvQuery(Body):
    what: CsvPart = Field(default="questions", description="The questions, or the results of the polls.")


class ExportedEvent(Reply):
    slug: str
    title: str
    starts_at: str | None
    ends_at: str | None


class ExportedQuestion(Reply):
    id: int
    text: str
    name: str | None
    status: Status
    votes: int = Field(ge=0)
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    answered_at: str | None = Field(json_schema_extra={"format": "date-time"})
    answer: str | None = Field(description="A moderator's written answer.")
    addressed_to: str | None = Field(description="The panelist's name (null: the whole panel).")


class Export(Reply):
    """Every question, every launched poll with its exact results; never a device id (as an attachment)"""

    event: ExportedEvent
    participants: int = Field(ge=0, description="Devices that asked, upvoted or answered a poll (counted, not named).")
    questions: list[ExportedQuestion] = Field(description="In every state, oldest first.")
    polls: list[Poll] = Field(
        description="Open and closed polls in their order, each as GET …/polls/{poll_id} gives it to a moderator, "
        "with exact results and every word of a word cloud."
    )
