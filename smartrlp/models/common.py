"""Shapes that every feature shares: the error body, and the health check's answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from smartrlp.models.base import Reply


class ErrorDetail(Reply):
    code: str
    message: str
    # For `invalid`: {"field": name, "index": n?}; for conflicts: the current state of the object, where useful.
    details: Any = None


class ErrorBody(Reply):
    """An error: a stable machine-readable `code`, an English `message` for developers, optional `details`."""

    error: ErrorDetail


class Health(Reply):
    """The database is open"""

    status: Literal["ok"]
    worker: int = Field(description="The process id of the worker that answered (`serve --workers N`).")
