"""Documentation that cannot drift: every setting and every route is described."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.routing import Mount, Route, WebSocketRoute

from smartrlp.app import create_app
from smartrlp.core.settings import Settings, env_names
from smartrlp.web.openapi import build_schema

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", env_names())
def test_setting_is_documented_in_readme(name: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`{name}`" in readme, f"README.md has no section for {name}"


def _app_routes() -> list:
    return create_app(Settings.from_env({}, db_path=":memory:")).routes


def _routes() -> list[tuple[str, str]]:
    found = []
    for route in _app_routes():
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append((method, route.path))
        elif isinstance(route, WebSocketRoute):
            found.append(("WS", route.path))
        elif isinstance(route, Mount):
            found.append(("GET", route.path + "/..."))
    return found


@pytest.mark.parametrize(("method", "path"), _routes())
def test_route_is_documented_in_api_md(method: str, path: str) -> None:
    api = (ROOT / "docs/api.md").read_text(encoding="utf-8")
    # The docs call every record's id {id}.
    for name in ("{question_id}", "{poll_id}", "{link_id}", "{part_id}", "{user_id}"):
        path = path.replace(name, "{id}")
    needle = path if method == "WS" else f"{method} {path}"
    assert f"`{needle}" in api, f"docs/api.md does not describe {method} {path}"


def test_readme_quick_start_matches_ci() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    preamble = {"set -e", 'cd "$(dirname "$0")/.."'}
    test_command = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    test_command = [line for line in test_command if line.strip() not in preamble]
    assert len(test_command) == 1, ".ci/run must run exactly one command"
    assert test_command[0].strip() in readme, "the README's test command and .ci/run differ"


@pytest.mark.parametrize(("method", "path"), [r for r in _routes() if r[1].startswith("/api/")])
def test_api_route_is_in_the_openapi_schema(method: str, path: str) -> None:
    paths = build_schema(_app_routes())["paths"]
    assert method.lower() in paths.get(path, {}), f"/openapi.json does not describe {method} {path}"


# "`text` 1–300 characters", "`name` at most 60", "`title` (required, at most 100 characters)": a limit the prose
# states for a field of a JSON body.
_STATED_LIMIT = re.compile(r"`(\w+)`(?:[^`.;|]{0,40}?)(?:(\d+)[–-](\d+) characters|at most (\d+))")


def _body_limits() -> dict[str, set[tuple[int | None, int | None]]]:
    """For each field name of a request body: the (minLength, maxLength) pairs the schema gives it."""
    schemas = build_schema(_app_routes())["components"]["schemas"]
    limits: dict[str, set[tuple[int | None, int | None]]] = {}
    for schema in schemas.values():
        for name, field in schema.get("properties", {}).items():
            for option in [field, *field.get("anyOf", [])]:
                if "maxLength" in option:
                    limits.setdefault(name, set()).add((option.get("minLength"), option["maxLength"]))
    return limits


def test_limits_in_api_md_agree_with_the_schema() -> None:
    # Only the JSON API's sections: the administration's HTML forms are described in the same file but are no API.
    api = (ROOT / "docs/api.md").read_text(encoding="utf-8")
    api = api[api.index("## Health and schema") :]
    limits = _body_limits()
    stated = [m for m in _STATED_LIMIT.finditer(api) if m.group(1) in limits]
    assert len(stated) >= 5, "the limit check found too few stated limits: has docs/api.md changed its wording?"
    for match in stated:
        field, low, high, at_most = match.group(1), match.group(2), match.group(3), match.group(4)
        maximum = int(high or at_most)
        assert maximum in {m for _, m in limits[field]}, (
            f"docs/api.md says {match.group(0)!r}, the schema's limits for {field!r} are {sorted(limits[field])}"
        )
        if low is not None:
            assert (int(low), maximum) in limits[field], f"docs/api.md says {match.group(0)!r}: min differs"
