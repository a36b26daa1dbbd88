"""Field limits, stated once: the models validate with them, templates set `maxlength` from them (the Jinja global
`field_limits`) and the scripts read them from the page (`static/js/lib/limits.js`, from `#field-limits`).

Counts are characters after trimming and Unicode NFC normalisation (`smartrlp.core.text.clean_text`).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

FIELD_LIMITS: Final = MappingProxyType(
    {
        # Questions from viewers, and what moderators make of them.
        "question_text": 300,
        "question_name": 60,
        "answer": 2000,
        # Polls.
        "poll_title": 200,
        "poll_option": 100,
        "poll_options_min": 2,
        "poll_options_max": 12,
        "word_answer": 40,
        # Word filter.
        "filter_word": 60,
        "event_words_max": 500,
        # Studio links.
        "studio_label": 100,
        # Events, their agenda and panel (administration).
        "event_title": 200,
        "event_description": 4000,
        "event_hashtag": 60,
        "event_slug": 60,
        "url": 500,
        "agenda_title": 200,
        "agenda_speakers": 300,
        "agenda_duration_minutes": 600,
        "panelist_name": 100,
        "panelist_role": 200,
        # Accounts.
        "account_name": 60,
        "password_min": 12,
        # The login form reads no more than this, so a longer password could never be used.
        "password_max": 1000,
        # The join code form takes what people type around the six letters (spaces, dashes).
        "join_code_input": 20,
        # How far a viewer's video runs behind the studio, per way of watching (whole seconds, 0 to this).
        "stream_delay_seconds": 120,
    }
)
