"""Moderation: what a moderator sends to change a question, and what undo answers."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from smartrlp.models.base import Body, OptionalText, Reply, Text, Version
from smartrlp.models.questions import Question, Status


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


class Undone(Reply):
    """The action is undone: the question is back in the state before it"""

    undone_action_id: int
    question: Question
