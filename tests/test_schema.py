"""Every GET of the API answers exactly what /openapi.json says: each key the server sends is declared, each required
key is there, and the values have the declared types. Checked key by key on real answers, as a moderator and as a
viewer, on an event with a question, a poll in every state and a studio link."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fixtures import SLUG, Server, Viewer, bearer

EVENT = f"/api/events/{SLUG}"


@pytest.fixture(scope="module")
def document(shared_server: Server) -> dict[str, Any]:
    with shared_server.client() as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def populated(shared_server: Server, shared_moderator_token: str) -> dict[str, str]:
    """Something of each kind on the demo event, and the path parameters that reach it."""
    with shared_server.client() as viewer, shared_server.client(headers=bearer(shared_moderator_token)) as moderator:
        viewer.get("/healthz")
        question = viewer.post(f"{EVENT}/questions", json={"text": "Wo fährt der autonome Bus?", "name": "Ada"})
        assert question.status_code == 201, question.text
        question_id = question.json()["id"]
        assert moderator.patch(f"{EVENT}/questions/{question_id}", json={"status": "approved"}).status_code == 200
        assert viewer.post(f"{EVENT}/questions/{question_id}/votes").status_code == 200
        polls = []
        for kind, extra in (("single", {"options": ["Ja", "Nein"]}), ("words", {})):
            poll = moderator.post(f"{EVENT}/polls", json={"title": f"Umfrage {kind}", "kind": kind, **extra})
            assert poll.status_code == 201, poll.text
            polls.append(poll.json()["id"])
        assert moderator.patch(f"{EVENT}/polls/{polls[0]}", json={"state": "open"}).status_code == 200
        link = moderator.post(f"{EVENT}/studio-links", json={"view": "present", "label": "Studio"})
        assert link.status_code == 201, link.text
    return {"slug": SLUG, "question_id": str(question_id), "poll_id": str(polls[0])}


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _mismatches(document: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> list[str]:
    """What of `value` the schema does not declare, or declares otherwise; empty when they agree key by key."""
    schema = _resolve(document, schema)
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            tries = [_mismatches(document, option, value, where) for option in schema[combinator]]
            return [] if any(not t for t in tries) else min(tries, key=len)
    problems: list[str] = []
    if isinstance(value, dict) and ("properties" in schema or schema.get("type") == "object"):
        properties = schema.get("properties", {})
        # Only an explicit `additionalProperties: true` (or a schema for them) lets a key go undeclared.
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                problems += _mismatches(document, properties[key], item, f"{where}.{key}")
            elif extra is not True and not isinstance(extra, dict):
                problems.append(f"{where}.{key} is sent but not declared")
            elif isinstance(extra, dict):
                problems += _mismatches(document, extra, item, f"{where}.{key}")
        problems += [f"{where}.{key} is required but missing" for key in schema.get("required", ()) if key not in value]
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems += _mismatches(document, schema["items"], item, f"{where}[{index}]")
    else:
        problems += _leaf_mismatches(schema, value, where)
    return problems


_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _leaf_mismatches(schema: dict[str, Any], value: Any, where: str) -> list[str]:
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_TYPES[k](value) for k in kinds):
            return [f"{where} is {value!r}, not of type {kinds}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where} is {value!r}, not one of {schema['enum']}"]
    if "const" in schema and value != schema["const"]:
        return [f"{where} is {value!r}, not {schema['const']!r}"]
    if isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
        return [f"{where} is longer than {schema['maxLength']}"]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and (value < schema.get("minimum", value) or value > schema.get("maximum", value)):
        return [f"{where} is {value}, outside [{schema.get('minimum')}, {schema.get('maximum')}]"]
    return []


def _get_routes(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        if path.startswith("/api/") and "get" in operations:
            yield path, operations["get"]


def _callers(shared_server: Server, shared_moderator_token: str, viewer: Callable[..., Viewer]) -> dict[str, Viewer]:
    return {"viewer": viewer(), "moderator": viewer(headers=bearer(shared_moderator_token))}


def test_every_get_answers_what_its_schema_declares(
    shared_server: Server,
    shared_moderator_token: str,
    viewer: Callable[..., Viewer],
    document: dict[str, Any],
    populated: dict[str, str],
) -> None:
    checked, problems = 0, []
    callers = _callers(shared_server, shared_moderator_token, viewer)
    for path, operation in _get_routes(document):
        url = path.format(**populated)
        for who, caller in callers.items():
            response = caller.http.get(url)
            declared = operation["responses"].get(str(response.status_code))
            if declared is None:
                problems.append(f"GET {path} as {who}: status {response.status_code} is not declared")
                continue
            content = declared.get("content", {})
            if response.status_code != 200 or "application/json" not in content:
                continue  # CSV and errors: the error body is checked by test_api
            schema = content["application/json"]["schema"]
            problems += [f"GET {path} as {who}: {p}" for p in _mismatches(document, schema, response.json(), "$")]
            checked += 1
    assert checked >= 10, f"only {checked} answers checked"
    assert not problems, "\n".join(problems)


def test_every_status_a_route_answers_is_declared(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            if method != "get":
                assert "403" in statuses, f"{method.upper()} {path}: the cross-site refusal (403) is not declared"
            if "requestBody" in operation:
                missing = {"400", "413", "415", "422"} - statuses
                assert not missing, f"{method.upper()} {path}: body errors {sorted(missing)} are not declared"
            if "{" in path:
                assert "404" in statuses, f"{method.upper()} {path}: 404 is not declared"
