"""The building blocks of every request body and response: closed shapes, text as people type it, ids that fit
the database, and the one translation of a validation failure into the API's error body.

Bodies refuse unknown fields and coerce nothing (`"3"` is no number and `true` no integer), the same way on every
endpoint; responses declare exactly the keys the server sends, so `/openapi.json` can say `additionalProperties:
false`. Limits come from `smartrlp.core.fields.FIELD_LIMITS`, the table the templates and scripts read too.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from smartrlp.core.errors import ApiError
from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.core.text import has_control, normalise

# SQLite keeps integers in 64 bits; a larger id would fail deep in a query instead of as a clear 422.
MAX_INT64 = 2**63 - 1


class Body(BaseModel):
    """A request body: unknown fields are refused with 422, and no value is coerced into another type."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Reply(BaseModel):
    """A response shape. Only documented (the handlers return plain dicts); a test holds real answers against it."""

    model_config = ConfigDict(extra="forbid")


class OpenReply(BaseModel):
    """A response shape whose keys are data, not fields (counts per option, per reaction kind)."""

    model_config = ConfigDict(extra="allow")


def _normalised(value: Any) -> Any:
    return normalise(value) if isinstance(value, str) else value


def _blank_is_none(value: Any) -> Any:
    value = _normalised(value)
    return None if value == "" else value


def _no_control(value: str) -> str:
    if has_control(value):
        raise ValueError("contains control characters")
    return value


def Text(limit: str) -> Any:
    """Required text: normalised and trimmed, not empty, at most `FIELD_LIMITS[limit]` characters."""
    return Annotated[
        str,
        StringConstraints(min_length=1, max_length=FIELD_LIMITS[limit]),
        AfterValidator(_no_control),
        BeforeValidator(_normalised),
    ]


def OptionalText(limit: str) -> Any:
    """Text that may be left out, null or blank (all the same: None); otherwise as `Text`."""
    inner = Annotated[str, StringConstraints(max_length=FIELD_LIMITS[limit]), AfterValidator(_no_control)]
    return Annotated[inner | None, BeforeValidator(_blank_is_none)]


Id = Annotated[int, Field(ge=1, le=MAX_INT64)]
Version = Annotated[int, Field(ge=0, le=MAX_INT64)]


# --------------------------------------------------------------------------- validation failures as API errors


def _describe(error: Any, field: str) -> str:
    kind, ctx, given = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return f"'{field}' is required."
    if kind == "extra_forbidden":
        return f"Unknown field '{field}'."
    if kind == "string_type":
        return f"'{field}' must be a string."
    if kind == "string_too_short":
        return f"'{field}' must not be empty." if ctx.get("min_length") == 1 else error["msg"] + "."
    if kind == "string_too_long":
        length = f", not {len(given)}" if isinstance(given, str) else ""
        return f"'{field}' may have at most {ctx.get('max_length')} characters{length}."
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"'{field}' must be a whole number."
    if kind == "bool_type":
        return f"'{field}' must be true or false."
    if kind in {"list_type", "tuple_type"}:
        return f"'{field}' must be a list."
    if kind == "too_short":
        return f"'{field}' needs at least {ctx.get('min_length')} entries."
    if kind == "too_long":
        return f"'{field}' may have at most {ctx.get('max_length')} entries."
    if kind == "literal_error":
        return f"'{field}' must be one of {ctx.get('expected')}."
    if kind in {"greater_than_equal", "greater_than"}:
        return f"'{field}' must be at least {ctx.get('ge', ctx.get('gt'))}."
    if kind in {"less_than_equal", "less_than"}:
        return f"'{field}' must be at most {ctx.get('le', ctx.get('lt'))}."
    if kind == "value_error":
        return f"'{field}' {ctx.get('error', error['msg'])}."
    return f"'{field}': {error['msg']}."


def invalid_body(exc: ValidationError) -> ApiError:
    """The first problem as the API's 422 `invalid` error; `details.field` names the top-level field."""
    error = exc.errors(include_url=False)[0]
    location = [str(part) for part in error["loc"]]
    # A union's member name ("str", "function-after[...]") is not a field; the field is the first part.
    field = location[0] if location else "body"
    details: dict[str, Any] = {"field": field}
    if len(location) > 1 and location[1].isdigit():
        details["index"] = int(location[1])
    return ApiError(422, "invalid", _describe(error, field), details=details)


def parse(model: type[Body], data: Any) -> Any:
    """`data` (parsed JSON or query parameters) as `model`, or the API's 422."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_body(exc) from None
