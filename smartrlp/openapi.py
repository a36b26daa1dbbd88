"""The OpenAPI description of the JSON API, served at /openapi.json (prose in docs/api.md)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from smartrlp import __version__
from smartrlp.questions import MAX_NAME, MAX_TEXT, STATUSES
from smartrlp.web import json_response


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "Malformed JSON or missing device cookie",
        401: "Missing or invalid moderator credentials",
        403: "Authenticated, but not a moderator of this event",
        404: "Unknown event or question",
        409: "The request conflicts with the current state",
        413: "Request body too large",
        415: "Body is not JSON",
        422: "A field is invalid",
    }
    return {str(s): _json(_ref("Error"), texts[s]) for s in statuses}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
QUESTION_ID = {"name": "question_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
MODERATOR = [{"bearer": []}, {"session": []}]


def build_schema() -> dict[str, Any]:
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
                        "200": _json({"type": "object", "properties": {"status": {"const": "ok"}}}, "Database open"),
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


async def schema_endpoint(request: Request) -> Response:
    return json_response(build_schema())
