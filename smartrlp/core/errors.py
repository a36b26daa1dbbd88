"""Errors that become clear JSON answers: `{"error": {"code": ..., "message": ...}}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def not_found(what: str = "Not found") -> ApiError:
    return ApiError(404, "not_found", what)


def invalid(message: str, field: str | None = None) -> ApiError:
    return ApiError(422, "invalid", message, details={"field": field} if field else None)


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "body_too_large", f"The request body is larger than {limit} bytes.")


class StorageUnavailable(ApiError):
    """The database cannot be written (disk full, file or folder read-only, quota, I/O error): a change is refused
    before anything was acknowledged, and can be sent again once the operator has freed space."""

    RETRY_AFTER_SECONDS = 30

    def __init__(self, cause: str) -> None:
        super().__init__(
            503,
            "storage_unavailable",
            "Changes cannot be saved right now because the server's storage is not writable. Reading still works; "
            "please try again in a minute.",
            headers={"Retry-After": str(self.RETRY_AFTER_SECONDS)},
            details={"retry_after": self.RETRY_AFTER_SECONDS},
        )
        self.cause = cause
