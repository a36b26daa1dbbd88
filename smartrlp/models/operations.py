"""What the moderator page shows of the server's state: viewers connected now, and whether changes can be saved."""

from __future__ import annotations

from pydantic import Field

from smartrlp.models.base import Reply


class StorageState(Reply):
    writable: bool = Field(description="False while the database cannot be written (disk full, read-only file).")
    since: str | None = Field(description="When writing stopped working (UTC, ISO 8601), while it does not.")


class LiveStatus(Reply):
    """Live connections of the event now, and the storage state"""

    viewers: int = Field(description="Viewer pages connected to this server process now.")
    staff: int = Field(description="Moderator pages, presenter screens and overlays connected now.")
    storage: StorageState
