"""Abuse: the event's own filter words, reports of questions, and what moderators learn about devices.

No shape here ever holds a device id: moderators refer to a device through one of its questions.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field

from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.core.wordfilter import WordFilter, normalise_for_display
from smartrlp.models.base import Body, Reply
from smartrlp.models.questions import Status

ReportReason = Literal["offensive", "spam", "misleading", "other"]
REPORT_REASONS: tuple[str, ...] = get_args(ReportReason)

# Letters, digits, spaces, hyphens and apostrophes only: a word is also its own address (`…/words/{word}`).
_WORD_CHARS = re.compile(r"[\w\s'’-]+")


def filter_word(value: str) -> str:
    """A filter entry as stored: normalised, lower case, with a trailing `*` kept (it catches every word that
    begins so, as in the shipped lists: "idiot*" catches "idioten")."""
    word = normalise_for_display(value)
    star = word.endswith("*")
    word = word.rstrip("*").strip()
    parsed = WordFilter.from_entries([word])
    if _WORD_CHARS.fullmatch(word) is None or not (parsed.exact or parsed.phrases):
        raise ValueError("must contain at least one word of letters")
    # Counted as stored, so that spaces typed around or between the words do not count.
    limit = FIELD_LIMITS["filter_word"]
    if len(word) > limit:
        raise ValueError(f"may have at most {limit} characters")
    return word + "*" if star else word


class AddWord(Body):
    word: Annotated[str, AfterValidator(filter_word)] = Field(
        description=f"A word or a phrase of several words, at most {FIELD_LIMITS['filter_word']} characters once "
        "normalised (a trailing `*`, which catches every word that begins so, not counted)."
    )


class ReportQuestion(Body):
    reason: ReportReason | None = Field(default=None, description="Left out or null: counted as `other`.")


# --------------------------------------------------------------------------- answers


class ModerationNote(Reply):
    """What moderators know about one question: why it was held, its device's block, its open reports"""

    question_id: int
    held_words: list[str] = Field(description="The filter words (as compared) that held it when it was asked.")
    held_device: bool = Field(description="Held because its device was blocked when it was asked.")
    device_blocked: bool = Field(description="Its device is blocked now.")
    reports: int = Field(ge=0, description="Reports not dismissed.")
    report_reasons: dict[ReportReason, int] = Field(
        description="Reports not dismissed, per reason (a report without one counts as `other`)."
    )


class DeviceBlock(Reply):
    """A blocked device, named by its first question in the event (the id to unblock it with)"""

    question_id: int | None = Field(description="The device's first question in the event.")
    text: str | None
    created_at: str | None = Field(json_schema_extra={"format": "date-time"})
    blocked_at: str = Field(json_schema_extra={"format": "date-time"})
    questions: int = Field(ge=0, description="How many questions the device asked in the event.")


class ModerationNotes(Reply):
    """The notes of every question that has anything to note, the event's own words and the blocked devices"""

    seq: int = Field(description="At least this new: apply `moderation_notes` messages with a higher seq.")
    notes: list[ModerationNote]
    words: list[str]
    blocks: list[DeviceBlock]


class EventWords(Reply):
    """The event's own filter words, in addition to the shipped lists"""

    words: list[str]


class AddedWord(Reply):
    """The word as stored (201 when new, 200 when it was there already), and the event's words"""

    word: str
    words: list[str]


class BlockChange(Reply):
    """The device's block as now stored"""

    blocked: bool
    question_ids: list[int] = Field(description="Every question of that device in this event.")
    blocks: list[DeviceBlock]


class BlockList(Reply):
    """Blocked devices, newest block first"""

    blocks: list[DeviceBlock]


class SentQuestion(Reply):
    id: int
    text: str
    status: Status
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    held_words: list[str]
    held_device: bool


class Counted(Reply):
    cast: int = Field(ge=0)
    not_counted: int = Field(ge=0, description="Cast while the device was blocked.")


class DeviceHistory(Reply):
    """What the device behind the question sent in this event (ballot contents are not shown)"""

    blocked: bool
    blocked_at: str | None = Field(json_schema_extra={"format": "date-time"})
    questions: list[SentQuestion]
    votes: Counted
    ballots: Counted
    reports_sent: int = Field(ge=0)


class Reported(Reply):
    """Reported (201 the first time, 200 after: counted once per device)"""

    question_id: int
    reported: bool


class DismissedReports(Reply):
    """The question's open reports no longer count"""

    question_id: int
    dismissed: int = Field(ge=0, description="How many reports were dismissed.")


class MyReports(Reply):
    """The questions this device reported"""

    question_ids: list[int]
