"""Questions: what a viewer sends to ask, and what the API answers about questions and votes."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field

from smartrlp.models.base import Body, Id, OptionalText, Reply, Text

Status = Literal["pending", "approved", "rejected", "answered"]
STATUSES: tuple[str, ...] = get_args(Status)
# What viewers see of other devices' questions.
PUBLIC_STATUSES = ("approved", "answered")
Sort = Literal["popular", "newest"]


class AskQuestion(Body):
    text: Text("question_text")
    name: OptionalText("question_name") = None
    panelist_id: Id | None = Field(default=None, description="Addressed to this panelist of the event (null: all).")


def _statuses(value: str | None) -> str | None:
    if value is None:
        return None
    unknown = [s for s in (part.strip() for part in value.split(",")) if s and s not in STATUSES]
    if unknown:
        raise ValueError(f"names unknown status {unknown[0]!r}; use {', '.join(STATUSES)}")
    return value


class QuestionQuery(Body):
    sort: Sort = "popular"
    status: Annotated[str | None, AfterValidator(_statuses)] = Field(
        default=None, description="Moderators only: a comma-separated list of states (default: all)."
    )

    def statuses(self) -> tuple[str, ...] | None:
        if not self.status:
            return None
        return tuple(s.strip() for s in self.status.split(",") if s.strip()) or None


class Question(Reply):
    """A question"""

    id: int
    text: str
    name: str | None
    status: Status
    votes: int = Field(ge=0)
    version: int = Field(ge=1)
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    answered_at: str | None = Field(json_schema_extra={"format": "date-time"})
    highlighted: bool = Field(description="The question is on air.")
    panelist_id: int | None = Field(description="Addressed to this panelist (null: all).")
    answer: str | None = Field(description="A moderator's written answer.")
    mine: bool = Field(default=False, description="Asked from the caller's device (viewers only).")


class QuestionList(Reply):
    """Approved and answered questions, and the caller's own; moderators may ask for every state"""

    questions: list[Question]
    seq: int = Field(description="The event's latest change sequence number: resume the websocket from here.")


class Vote(Reply):
    """The vote is recorded (once per device)"""

    question_id: int
    votes: int
    counted: bool = Field(description="False when this device had voted already.")
    voted: bool
