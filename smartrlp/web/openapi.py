"""`/openapi.json`, generated: paths from the route table's endpoint declarations, shapes from the models.

Nothing here is written per endpoint. Each `Spec` (smartrlp/web/endpoint.py) names its body, query and response
models and the statuses it can answer; the models name their fields, types and limits. The prose lives in
docs/api.md, which a test holds against this document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute

from smartrlp import __version__
from smartrlp.models.base import Body
from smartrlp.models.common import ErrorBody
from smartrlp.web.endpoint import Spec, specs_of

REF = "#/components/schemas/{model}"

# What each status means wherever it appears; a route's own 409 codes are in docs/api.md.
STATUS_TEXTS = {
    400: "Malformed JSON (malformed_json), or the device cookie is missing (no_device)",
    401: "Missing or invalid moderator credentials (unauthorized)",
    403: "Not a moderator of this event (forbidden), from a page of another site (cross_site), "
    "or without the page's CSRF token (csrf)",
    404: "No such event, question, poll or other object of the path",
    409: "The request conflicts with the current state (the code says which)",
    413: "The request body is too large (body_too_large)",
    415: "The body is not JSON (unsupported_media_type)",
    422: "A field is invalid or unknown (invalid); details.field names it",
    429: "Too many requests (rate_limited); wait as long as Retry-After says",
    503: "The database stayed busy (busy) or the server is starting; retry after Retry-After",
}

_PATH_PARAMETER = re.compile(r"{(\w+)}")


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path_parameters(path: str) -> list[dict[str, Any]]:
    parameters = []
    for name in _PATH_PARAMETER.findall(path):
        schema: dict[str, Any] = {"type": "string"}
        if name.endswith("_id"):
            schema = {"type": "integer", "minimum": 1}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _query_parameters(model: type[Body]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": field}
        for name, field in schema.get("properties", {}).items()
    ]


def _operation(spec: Spec) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": spec.handler.__name__, "tags": [spec.tag], "summary": spec.summary}
    if spec.description:
        operation["description"] = spec.description
    parameters = _path_parameters(spec.path) + (_query_parameters(spec.query) if spec.query else [])
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(spec.body)}}}
    responses: dict[str, Any] = {}
    if spec.media_type != "application/json":
        content = {spec.media_type: {"schema": {"type": "string"}}}
        responses[str(spec.status)] = {"description": spec.summary, "content": content}
    elif spec.status == 204 or spec.response is None:
        responses[str(spec.status)] = {"description": "Done"}
    else:
        for status in (spec.status, *spec.also):
            responses[str(status)] = _json(_ref(spec.response), spec.response.__doc__ or "The result")
    for status in spec.statuses:
        responses[str(status)] = _json(_ref(ErrorBody), STATUS_TEXTS[status])
        if status in {429, 503}:
            responses[str(status)]["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}
            }
    operation["responses"] = responses
    if spec.moderator:
        operation["security"] = [{"bearer": []}, {"session": []}]
    return operation


def build_schema(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    specs = specs_of(routes)
    models: list[type[BaseModel]] = [ErrorBody]
    for spec in specs:
        models += [m for m in (spec.body, spec.query, spec.response) if m is not None]
    unique = list(dict.fromkeys(models))
    _, definitions = models_json_schema(
        [(m, "validation" if issubclass(m, Body) else "serialization") for m in unique], ref_template=REF
    )
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Smart RLP Live",
            "version": __version__,
            "description": "Live Q&A for virtual public events. Prose and the websocket protocol: docs/api.md.",
        },
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "from `smartrlp token create`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "srl_session"},
                "device": {"type": "apiKey", "in": "cookie", "name": "srl_device"},
            },
        },
        "paths": {},
    }
    for spec in specs:
        document["paths"].setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    return document
