"""Shapes that every feature shares: the error body."""

from __future__ import annotations

from typing import Any

from smartrlp.models.base import Reply


class ErrorDetail(Reply):
    code: str
    message: str
    # For `invalid`: {"field": name, "index": n?}; for conflicts: the current state of the object, where useful.
    details: Any = None


class ErrorBody(Reply):
    """An error: a stable machine-readable `code`, an English `message` for developers, optional `details`."""

    error: ErrorDetail
