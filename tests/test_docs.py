"""Documentation that cannot drift: every setting and every route is described."""

from __future__ import annotations

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
