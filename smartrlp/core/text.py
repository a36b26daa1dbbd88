"""Text as people type it: NFC-normalised, trimmed, never with control codes.

One definition serves the typed request models (`smartrlp.models.base.Text`) and the administration's HTML forms.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from smartrlp.core.errors import invalid

# Tab, line feed and carriage return are text; every other C0 control and DEL is not.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise(value: str) -> str:
    """NFC and trimmed, so that a limit counts what a person sees and `é` is one character however it was typed."""
    return unicodedata.normalize("NFC", value).strip()


def has_control(value: str) -> bool:
    return _CONTROL.search(value) is not None


def clean_text(value: Any, *, field: str, max_length: int, required: bool) -> str | None:
    """Text as typed, trimmed; refused when empty (if required), too long, or full of control codes."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise invalid(f"'{field}' must be a string.", field)
    value = normalise(value)
    if has_control(value):
        raise invalid(f"'{field}' contains control characters.", field)
    if not value:
        if required:
            raise invalid(f"'{field}' must not be empty.", field)
        return None
    if len(value) > max_length:
        raise invalid(f"'{field}' may have at most {max_length} characters, not {len(value)}.", field)
    return value
