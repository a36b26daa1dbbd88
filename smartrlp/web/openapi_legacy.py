"""The OpenAPI description of the JSON API, served at /openapi.json (prose in docs/api.md)."""

from __future__ import annotations

from typing import Any

from smartrlp import __version__
from smartrlp.core.fields import FIELD_LIMITS
from smartrlp.models.questions import STATUSES
from smartrlp.services.abuse import REPORT_REASONS
from smartrlp.services.export import CSV_PARTS
from smartrlp.services.studio import MAX_LABEL, SCREEN_MODES, VIEWS

MAX_TEXT, MAX_NAME, MAX_ANSWER = (FIELD_LIMITS[n] for n in ("question_text", "question_name", "answer"))


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "Malformed JSON or missing device cookie",
        401: "Missing or invalid moderator credentials",
        403: "Authenticated, but not a moderator of this event",
        404: "Unknown event, question or poll",
        409: "The request conflicts with the current state",
        413: "Request body too large",
        415: "Body is not JSON",
        422: "A field is invalid",
    }
    return {str(s): _json(_ref("Error"), texts[s]) for s in statuses}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
QUESTION_ID = {"name": "question_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
MODERATOR = [{"bearer": []}, {"session": []}]


# Rate-limited per device and address (smartrlp/limits.py); every change may also meet the cross-site checks.
RATE_LIMITED = (
    "/api/events/{slug}/questions",
    "/api/events/{slug}/questions/{question_id}/votes",
)


def build_schema() -> dict[str, Any]:
    schema = _build_schema()
    for path in RATE_LIMITED:
        responses = schema["paths"][path]["post"]["responses"]
        responses["429"] = _json(_ref("Error"), "Too many requests (rate_limited); wait as long as Retry-After says")
        responses["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            if method in {"post", "put", "patch", "delete"}:
                operation["responses"].setdefault(
                    "403",
                    _json(_ref("Error"), "From a page of another site (cross_site), or without the CSRF token (csrf)"),
                )
    return schema


def _build_schema() -> dict[str, Any]:
    question = {
        "type": "object",
        "required": ["id", "text", "name", "status", "votes", "version", "created_at", "answered_at", "highlighted"],
        "properties": {
            "id": {"type": "integer"},
            "text": {"type": "string", "maxLength": MAX_TEXT},
            "name": {"type": ["string", "null"], "maxLength": MAX_NAME},
            "status": {"type": "string", "enum": list(STATUSES)},
            "votes": {"type": "integer", "minimum": 0},
            "version": {"type": "integer", "minimum": 1},
            "created_at": {"type": "string", "format": "date-time"},
            "answered_at": {"type": ["string", "null"], "format": "date-time"},
            "highlighted": {"type": "boolean", "description": "The question is on air."},
            "mine": {"type": "boolean", "description": "Asked from the caller's device (viewers only)."},
            "panelist_id": {"type": ["integer", "null"], "description": "Addressed to this panelist (null: all)."},
            "answer": {"type": ["string", "null"], "description": "A moderator's written answer."},
        },
    }
    stream = {
        "type": "object",
        "properties": {
            "provider": {"type": "string", "enum": ["youtube", "facebook"]},
            "label": {"type": "string"},
            "url": {"type": "string"},
            "embed_url": {"type": "string"},
            "recipient": {"type": "string"},
        },
    }
    event = {
        "type": "object",
        "required": ["slug", "title", "streams", "questions_open", "agenda", "seq"],
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "hashtag": {"type": "string"},
            "starts_at": {"type": ["string", "null"]},
            "ends_at": {"type": ["string", "null"]},
            "streams": {"type": "array", "items": _ref("Stream")},
            "questions_open": {"type": "boolean"},
            "on_air_question_id": {"type": ["integer", "null"]},
            "agenda": {"type": "array", "items": {"type": "object"}},
            "seq": {"type": "integer", "description": "The event's latest change sequence number."},
        },
    }
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Smart RLP Live",
            "version": __version__,
            "description": "Live Q&A for virtual public events. Prose and the websocket protocol: docs/api.md.",
        },
        "components": {
            "schemas": {"Question": question, "Event": event, "Stream": stream, "Error": error},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "from `smartrlp token create`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "srl_session"},
                "device": {"type": "apiKey", "in": "cookie", "name": "srl_device"},
            },
        },
        "paths": {
            "/healthz": {
                "get": {
                    "summary": "Liveness and readiness",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "status": {"const": "ok"},
                                    "worker": {"type": "integer", "description": "process id of the worker"},
                                },
                            },
                            "Database open",
                        ),
                        "503": _json({"type": "object"}, "Starting"),
                    },
                }
            },
            "/api/events/{slug}": {
                "get": {
                    "summary": "An event",
                    "parameters": [SLUG],
                    "responses": {"200": _json(_ref("Event"), "The event"), **_errors(404)},
                }
            },
            "/api/events/{slug}/questions": {
                "get": {
                    "summary": "Questions: approved, answered and your own; moderators see all",
                    "parameters": [
                        SLUG,
                        {
                            "name": "status",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "Moderators only: comma-separated states.",
                        },
                        {
                            "name": "sort",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["popular", "newest"]},
                        },
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "questions": {"type": "array", "items": _ref("Question")},
                                    "seq": {"type": "integer"},
                                },
                            },
                            "The questions",
                        ),
                        **_errors(401, 404, 422),
                    },
                },
                "post": {
                    "summary": "Ask a question",
                    "parameters": [SLUG],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["text"],
                                    "properties": {
                                        "text": {"type": "string", "maxLength": MAX_TEXT},
                                        "name": {"type": ["string", "null"], "maxLength": MAX_NAME},
                                        "panelist_id": {"type": ["integer", "null"]},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json(_ref("Question"), "Stored, waiting for moderation"),
                        **_errors(400, 404, 409, 413, 415, 422),
                    },
                },
            },
            "/api/events/{slug}/questions/{question_id}/votes": {
                "post": {
                    "summary": "Upvote a question, once per device",
                    "parameters": [SLUG, QUESTION_ID],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "question_id": {"type": "integer"},
                                    "votes": {"type": "integer"},
                                    "counted": {"type": "boolean"},
                                    "voted": {"type": "boolean"},
                                },
                            },
                            "The new count",
                        ),
                        **_errors(400, 404, 409),
                    },
                }
            },
            "/api/events/{slug}/questions/{question_id}": {
                "patch": {
                    "summary": "Moderate a question",
                    "security": MODERATOR,
                    "parameters": [SLUG, QUESTION_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "status": {"type": "string", "enum": list(STATUSES)},
                                        "text": {"type": "string", "maxLength": MAX_TEXT},
                                        "highlighted": {"type": "boolean"},
                                        "answer": {"type": ["string", "null"], "maxLength": MAX_ANSWER},
                                        "version": {
                                            "type": "integer",
                                            "description": "Refuse with 409 unless this is current",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(_ref("Question"), "The question as now stored"),
                        **_errors(400, 401, 403, 404, 409, 413, 415, 422),
                    },
                }
            },
            **_studio_paths(),
            "/api/events/{slug}/agenda/current": {
                "put": {
                    "summary": "Mark the agenda item that is on now (or none)",
                    "security": MODERATOR,
                    "parameters": [SLUG],
                    "requestBody": _body({"item_id": {"type": ["integer", "null"]}}, ["item_id"]),
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "item_id": {"type": ["integer", "null"]},
                                    "started_at": {"type": ["string", "null"]},
                                },
                            },
                            "The mark as now stored",
                        ),
                        **_errors(401, 403, 404, 413, 415, 422),
                    },
                }
            },
            **_export_paths(),
            **_abuse_paths(),
            "/api/events/{slug}/moderation/undo": {
                "post": {
                    "summary": "Undo your last moderation action in this event",
                    "security": MODERATOR,
                    "parameters": [SLUG],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"undone_action_id": {"type": "integer"}, "question": _ref("Question")},
                            },
                            "Undone",
                        ),
                        **_errors(401, 403, 404, 409),
                    },
                }
            },
        },
    }


def _body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _studio_paths() -> dict[str, Any]:
    screen = {
        "type": "object",
        "properties": {
            "mode": {"type": "string", "enum": list(SCREEN_MODES)},
            "poll_id": {"type": ["integer", "null"]},
        },
    }
    link = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "view": {"type": "string", "enum": list(VIEWS)},
            "label": {"type": "string"},
            "created_at": {"type": "string"},
            "revoked_at": {"type": ["string", "null"]},
            "url": {"type": "string", "description": "Only in the answer that creates the link."},
        },
    }
    link_id = {"name": "link_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    return {
        "/api/events/{slug}/screen": {
            "put": {
                "summary": "Choose what the presenter screen and the overlay show",
                "security": MODERATOR,
                "parameters": [SLUG],
                "requestBody": _body(screen["properties"], ["mode"]),
                "responses": {
                    "200": _json(screen, "What is on screen now"),
                    **_errors(401, 403, 404, 409, 413, 415, 422),
                },
            }
        },
        "/api/events/{slug}/studio-links": {
            "get": {
                "summary": "The studio links of an event (without their tokens)",
                "security": MODERATOR,
                "parameters": [SLUG],
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"links": {"type": "array", "items": link}}}, "Links"
                    ),
                    **_errors(401, 403, 404),
                },
            },
            "post": {
                "summary": "Make a read-only link for the presenter screen or the overlay; its address is shown once",
                "security": MODERATOR,
                "parameters": [SLUG],
                "requestBody": _body(
                    {
                        "view": {"type": "string", "enum": list(VIEWS)},
                        "label": {"type": "string", "maxLength": MAX_LABEL},
                    },
                    ["view"],
                ),
                "responses": {"201": _json(link, "The new link"), **_errors(401, 403, 404, 413, 415, 422)},
            },
        },
        "/api/events/{slug}/studio-links/{link_id}": {
            "delete": {
                "summary": "Revoke a studio link",
                "security": MODERATOR,
                "parameters": [SLUG, link_id],
                "responses": {"204": {"description": "Revoked"}, **_errors(401, 403, 404)},
            }
        },
    }


def _export_paths() -> dict[str, Any]:
    question = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "text": {"type": "string"},
            "name": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": list(STATUSES)},
            "votes": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "answered_at": {"type": ["string", "null"], "format": "date-time"},
        },
    }
    export = {
        "type": "object",
        "description": "Every question, every launched poll with its exact results; never a device id.",
        "properties": {
            "event": {
                "type": "object",
                "properties": {
                    "slug": {"type": "string"},
                    "title": {"type": "string"},
                    "starts_at": {"type": ["string", "null"]},
                    "ends_at": {"type": ["string", "null"]},
                },
            },
            "questions": {"type": "array", "items": question},
            "polls": {"type": "array", "items": {"type": "object", "description": "As GET …/polls/{poll_id}"}},
        },
    }
    what = {
        "name": "what",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": list(CSV_PARTS), "default": "questions"},
    }
    csv_body = {"text/csv": {"schema": {"type": "string", "description": "UTF-8 with byte order mark, RFC 4180"}}}
    return {
        "/api/events/{slug}/export.json": {
            "get": {
                "summary": "Download the event's questions and poll results as JSON",
                "security": MODERATOR,
                "parameters": [SLUG],
                "responses": {"200": _json(export, "The export (as an attachment)"), **_errors(401, 403, 404)},
            }
        },
        "/api/events/{slug}/export.csv": {
            "get": {
                "summary": "Download the questions or the poll results as CSV",
                "security": MODERATOR,
                "parameters": [SLUG, what],
                "responses": {
                    "200": {"description": "The CSV file (as an attachment)", "content": csv_body},
                    **_errors(401, 403, 404, 422),
                },
            }
        },
    }


def _abuse_paths() -> dict[str, Any]:
    note = {
        "type": "object",
        "properties": {
            "question_id": {"type": "integer"},
            "held_words": {"type": "array", "items": {"type": "string"}},
            "held_device": {"type": "boolean"},
            "device_blocked": {"type": "boolean"},
            "reports": {"type": "integer", "minimum": 0},
            "report_reasons": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    }
    block = {
        "type": "object",
        "properties": {
            "question_id": {"type": ["integer", "null"], "description": "The device's first question in the event."},
            "text": {"type": ["string", "null"]},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            "blocked_at": {"type": "string", "format": "date-time"},
            "questions": {"type": "integer"},
        },
    }
    words = {"type": "object", "properties": {"words": {"type": "array", "items": {"type": "string"}}}}
    blocked = {
        "type": "object",
        "properties": {
            "blocked": {"type": "boolean"},
            "question_ids": {"type": "array", "items": {"type": "integer"}},
            "blocks": {"type": "array", "items": block},
        },
    }
    counts = {"type": "object", "properties": {"cast": {"type": "integer"}, "not_counted": {"type": "integer"}}}
    word_param = {"name": "word", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/api/events/{slug}/moderation/notes": {
            "get": {
                "summary": "Why questions were held, their reports, blocked devices and the event's filter words",
                "security": MODERATOR,
                "parameters": [SLUG],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "seq": {"type": "integer"},
                                "notes": {"type": "array", "items": note},
                                "words": words["properties"]["words"],
                                "blocks": {"type": "array", "items": block},
                            },
                        },
                        "Notes",
                    ),
                    **_errors(401, 403, 404),
                },
            }
        },
        "/api/events/{slug}/words": {
            "get": {
                "summary": "The event's own filter words (in addition to the shipped lists)",
                "security": MODERATOR,
                "parameters": [SLUG],
                "responses": {"200": _json(words, "Words"), **_errors(401, 403, 404)},
            },
            "post": {
                "summary": "Add a word or phrase to the event's filter (trailing * matches word beginnings)",
                "security": MODERATOR,
                "parameters": [SLUG],
                "requestBody": _body({"word": {"type": "string", "maxLength": 60}}, ["word"]),
                "responses": {
                    "201": _json(words, "Added"),
                    "200": _json(words, "Already there"),
                    **_errors(401, 403, 404, 409, 415, 422),
                },
            },
        },
        "/api/events/{slug}/words/{word}": {
            "delete": {
                "summary": "Remove one of the event's filter words",
                "security": MODERATOR,
                "parameters": [SLUG, word_param],
                "responses": {"200": _json(words, "Removed"), **_errors(401, 403, 404)},
            }
        },
        "/api/events/{slug}/device-blocks": {
            "get": {
                "summary": "Blocked devices, each named by its first question",
                "security": MODERATOR,
                "parameters": [SLUG],
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"blocks": {"type": "array", "items": block}}}, "Blocks"
                    ),
                    **_errors(401, 403, 404),
                },
            }
        },
        "/api/events/{slug}/questions/{question_id}/device-block": {
            "post": {
                "summary": "Block the device that asked this question (new questions held, votes not counted)",
                "security": MODERATOR,
                "parameters": [SLUG, QUESTION_ID],
                "responses": {"200": _json(blocked, "Blocked"), **_errors(401, 403, 404, 409)},
            },
            "delete": {
                "summary": "Lift the block of the device that asked this question",
                "security": MODERATOR,
                "parameters": [SLUG, QUESTION_ID],
                "responses": {"200": _json(blocked, "Unblocked"), **_errors(401, 403, 404, 409)},
            },
        },
        "/api/events/{slug}/questions/{question_id}/device": {
            "get": {
                "summary": "What the device that asked this question sent in this event",
                "security": MODERATOR,
                "parameters": [SLUG, QUESTION_ID],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "blocked": {"type": "boolean"},
                                "blocked_at": {"type": ["string", "null"], "format": "date-time"},
                                "questions": {"type": "array", "items": {"type": "object"}},
                                "votes": counts,
                                "ballots": counts,
                                "reports_sent": {"type": "integer"},
                            },
                        },
                        "History",
                    ),
                    **_errors(401, 403, 404, 409),
                },
            }
        },
        "/api/events/{slug}/questions/{question_id}/reports": {
            "post": {
                "summary": "Report a public question to the moderators (once per device)",
                "parameters": [SLUG, QUESTION_ID],
                "requestBody": _body({"reason": {"type": "string", "enum": list(REPORT_REASONS)}}),
                "responses": {
                    "201": _json({"type": "object", "properties": {"reported": {"type": "boolean"}}}, "Reported"),
                    "200": _json({"type": "object", "properties": {"reported": {"type": "boolean"}}}, "Already"),
                    **_errors(400, 404, 415, 422),
                },
            },
            "delete": {
                "summary": "Dismiss the question's open reports",
                "security": MODERATOR,
                "parameters": [SLUG, QUESTION_ID],
                "responses": {
                    "200": _json({"type": "object", "properties": {"dismissed": {"type": "integer"}}}, "Dismissed"),
                    **_errors(401, 403, 404),
                },
            },
        },
        "/api/events/{slug}/reports/mine": {
            "get": {
                "summary": "The questions this device reported",
                "parameters": [SLUG],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"question_ids": {"type": "array", "items": {"type": "integer"}}},
                        },
                        "Reported questions",
                    ),
                    **_errors(404),
                },
            }
        },
    }

