"""Polls: what moderators send to prepare and run them, what viewers send as a ballot, and what the API answers.

The poll enums are stated here once; services and the generated schema take them from these Literals.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.core.text import has_control, normalise
from smartrlp.core.wordfilter import tidy_word
from smartrlp.models.base import MAX_INT64, Body, Id, Reply, Text

Kind = Literal["single", "multiple", "rating", "words"]
KINDS: tuple[str, ...] = get_args(Kind)
# The kinds whose ballots name options.
CHOICE_KINDS: tuple[str, ...] = ("single", "multiple")
State = Literal["draft", "open", "closed"]
STATES: tuple[str, ...] = get_args(State)
Visibility = Literal["live", "after_close", "never"]
VISIBILITIES: tuple[str, ...] = get_args(Visibility)
Scale = Literal[5, 10]
SCALES: tuple[int, ...] = get_args(Scale)
DEFAULT_SCALE: Scale = 5

OPTIONS_MIN = FIELD_LIMITS["poll_options_min"]
OPTIONS_MAX = FIELD_LIMITS["poll_options_max"]
WORD_MAX = FIELD_LIMITS["word_answer"]
# A word is counted as normalised for display (punctuation and repeated spaces go), so the text as typed may be
# longer than the word it makes; beyond this many times the limit it could not make a word short enough.
WORD_TYPED_FACTOR = 4


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null (leave it out instead)")
    return value


def Omittable(inner: Any) -> Any:
    """A field that may be left out (in a PATCH: to keep it as it is), but is never null; the schema offers none."""
    return Annotated[inner | SkipJsonSchema[None], BeforeValidator(_refuse_null)]


def _distinct(labels: list[str]) -> list[str]:
    if len({label.casefold() for label in labels}) != len(labels):
        raise ValueError("has two options with the same label")
    return labels


Labels = Annotated[
    list[Text("poll_option")],
    Field(max_length=OPTIONS_MAX, description=f"Choice polls: {OPTIONS_MIN} to {OPTIONS_MAX} distinct labels."),
    AfterValidator(_distinct),
]
MaxChoices = Annotated[
    int, Field(ge=2, le=OPTIONS_MAX, description="Multiple choice only: at most this many (null: any number).")
]
Position = Annotated[int, Field(ge=1, le=MAX_INT64, description="1-based place in the event's list of polls.")]


ScaleMax = Annotated[Scale | None, Field(description=f"Rating only (default {DEFAULT_SCALE}).")]
# How many words one device may give to a word cloud.
MAX_WORDS = 3
MaxWords = Annotated[
    int | None,
    Field(ge=1, le=MAX_WORDS, description="Word clouds only: words per device, 1 to 3 (default 1)."),
]
Title = Text("poll_title")


class CreatePoll(Body):
    """A draft; which of `options`, `max_choices` and `scale_max` a kind takes is checked in services/polls.py."""

    title: Title
    kind: Kind
    options: Labels | None = None
    max_choices: MaxChoices | None = None
    scale_max: ScaleMax = None
    max_words: MaxWords = None
    results_visibility: Visibility = "live"


class UpdatePoll(Body):
    """Any of: a state change, the visibility, a new place, and (drafts only) the content."""

    state: Omittable(State) = Field(default=None, description="open: launch or re-open; closed; draft: reset.")
    results_visibility: Omittable(Visibility) = None
    position: Omittable(Position) = None
    title: Omittable(Title) = None
    options: Labels | None = None
    max_choices: MaxChoices | None = None
    scale_max: ScaleMax = None
    max_words: MaxWords = None


# The fields of UpdatePoll that edit a draft's content (the others work in any state).
CONTENT_FIELDS = ("title", "options", "max_choices", "scale_max", "max_words")


# --------------------------------------------------------------------------- ballots


def _normalised(value: Any) -> Any:
    return normalise(value) if isinstance(value, str) else value


def _word(text: str) -> str:
    if has_control(text):
        raise ValueError("contains control characters")
    word = tidy_word(text)
    if not word:
        raise ValueError("must contain a word")
    if len(word) > WORD_MAX:
        raise ValueError(f"may have at most {WORD_MAX} characters")
    return word


ChosenOptions = Annotated[list[Id], Field(min_length=1, description="Choice polls: the chosen option ids.")]
Rating = Annotated[int, Field(ge=1, le=max(SCALES), description="Rating polls: 1 to scale_max.")]
# The word as it is stored and shown: "  WLAN! " is "WLAN" (grouped with "wlan" in the cloud).
Word = Annotated[
    str,
    StringConstraints(min_length=1, max_length=WORD_MAX * WORD_TYPED_FACTOR),
    AfterValidator(_word),
    BeforeValidator(_normalised),
    Field(description=f"Word polls: 1 to {WORD_MAX} characters once normalised."),
]


class CastBallot(Body):
    """One of the three, as the poll's kind asks: `options` (choice), `value` (rating) or `text` (words)."""

    options: Omittable(ChosenOptions) = None
    value: Omittable(Rating) = None
    text: Omittable(Word) = None
    words: Omittable(Annotated[list[Word], Field(min_length=1, max_length=MAX_WORDS)]) = Field(
        default=None, description="Word polls with more than one word per device: up to `max_words` words."
    )


class ChoiceBallot(Reply):
    options: list[int]


class RatingBallot(Reply):
    value: int


class WordBallot(Reply):
    text: str = Field(description="The (first) word.")
    words: list[str] = Field(description="All words of the ballot (one unless the poll takes more).")


BallotJson = ChoiceBallot | RatingBallot | WordBallot


class BallotReceipt(Reply):
    """The ballot is committed"""

    poll_id: int
    ballot: BallotJson
    replaced: bool = Field(description="True when it replaced this device's earlier ballot.")


# --------------------------------------------------------------------------- polls and results


class PollOption(Reply):
    id: int
    label: str


class OptionCount(Reply):
    id: int
    count: int = Field(ge=0)
    percent: float = Field(description="Of ballots: for multiple choice they may add up to more than 100.")


class ChoiceResults(Reply):
    total: int = Field(ge=0, description="Ballots: one per device.")
    options: list[OptionCount]


class ValueCount(Reply):
    value: int
    count: int = Field(ge=0)
    percent: float


class RatingResults(Reply):
    total: int = Field(ge=0)
    values: list[ValueCount]
    mean: float | None = Field(description="Null without ballots.")


class WordCount(Reply):
    text: str
    count: int = Field(ge=0)


class WordResults(Reply):
    total: int = Field(ge=0)
    words: list[WordCount] = Field(description="The most frequent words, most frequent first.")


Results = ChoiceResults | RatingResults | WordResults


class Poll(Reply):
    """A poll"""

    id: int
    title: str
    kind: Kind
    state: State
    results_visibility: Visibility
    position: int = Field(ge=1)
    max_choices: int | None
    scale_max: Scale | None
    max_words: int | None = Field(description="Word clouds: how many words a device may give (1 to 3).")
    options: list[PollOption] = Field(description="Choice polls: the options in order; otherwise empty.")
    opened_at: str | None = Field(json_schema_extra={"format": "date-time"})
    closed_at: str | None = Field(json_schema_extra={"format": "date-time"})
    version: int = Field(ge=1)
    results: Results | None = Field(
        default=None, description="Only where the caller may see them (moderators: always)."
    )
    my_ballot: BallotJson | None = Field(default=None, description="Viewers only: this device's ballot, or null.")


class PollList(Reply):
    """The polls in their order (drafts only for moderators)"""

    polls: list[Poll]
