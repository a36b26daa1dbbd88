"""Moderation: what a moderator sends to change a question, and what undo answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from smartrlp.models.base import Body, Id, OptionalText, Reply, Text, Version
from smartrlp.models.questions import Question, Status

# A bulk action takes at most this many questions (a moderator's screenful, many times over).
BULK_MAX = 100


def _left_out_only(schema: dict[str, Any]) -> None:
    # The field may be left out (it then stays as it is) but not sent as null: no default to state.
    schema.pop("default", None)


def _unchanged_when_absent(description: str) -> Any:
    """A field that may be left out but, when sent, must have its type: null is refused, not taken as absent."""
    return Field(default=None, description=description, json_schema_extra=_left_out_only)


class ModerateQuestion(Body):
    """Any of the fields; what is left out stays as it is, and a change to nothing is answered without logging."""

    # Typed without `| None`: left out is "unchanged", null is no state (422), as before the models existed.
    status: Status = _unchanged_when_absent(
        "The new state; `pending`, `rejected` and `answered` also take the question off the air."
    )
    text: Text("question_text") = _unchanged_when_absent("The corrected text.")
    highlighted: bool = _unchanged_when_absent(
        "True puts the question on air (approving it if it waits or was rejected), false takes it off."
    )
    answer: OptionalText("answer") = Field(
        default=None, description="A written answer; null or an empty string removes it."
    )
    version: Version | None = Field(
        default=None, description="The version the moderator saw: 409 `version_conflict` unless it is current."
    )

    def sent(self, field: str) -> bool:
        """Whether the body named the field (an answer of null is sent, and removes the answer)."""
        return field in self.model_fields_set


class BulkModerate(Body):
    """Approve or reject several questions at once: one action in the activity list, one undo"""

    question_ids: list[Id] = Field(min_length=1, max_length=BULK_MAX)
    status: Literal["approved", "rejected"]


class BulkDone(Reply):
    """The questions that changed (those already in that state are left out)"""

    questions: list[Question]
    action_id: int | None = Field(description="The entry in the activity list (null: nothing changed).")


class Undone(Reply):
    """The action is undone: its questions are back in the state before it"""

    undone_action_id: int = Field(description="The entry of the activity list that was undone.")
    question: Question = Field(description="The (first) question undone.")
    questions: list[Question] = Field(description="Every question undone (several for a bulk action).")
    skipped: list[Question] = Field(
        description="Questions changed by someone since the action, so not undone (as they are now)."
    )


ActionKind = Literal[
    "on_air", "off_air", "approved", "rejected", "answered", "pending", "text", "answer", "answer_removed", "none"
]


class QuestionAfter(Reply):
    """The question as the action left it: undo reverts it only while it is still so"""

    status: Status
    text: str
    on_air: bool
    answer: str | None


class ActionQuestion(Reply):
    id: int
    text: str = Field(description="The question's text now.")
    after: QuestionAfter


class ActivityEntry(Reply):
    """One moderation action, or one bulk action"""

    id: int
    moderator_id: int | None
    moderator: str | None = Field(description="Who took it (null: the account was deleted).")
    kind: ActionKind
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    undone_at: str | None = Field(json_schema_extra={"format": "date-time"})
    undone_by: str | None
    questions: list[ActionQuestion]


class ActivityList(Reply):
    """The event's recent moderation actions, newest first"""

    actions: list[ActivityEntry]
