"""The suite's fixtures, made from the helpers in fixtures.py (import helpers from there, never from here).

- `server`: a fresh server (own database, demo event `smart-rlp`) for one test.
- `shared_server`: one server for a whole module, for tests that do not disturb each other.
- `moderator_credentials` / `moderator_token`: a moderator created through the CLI on `server`,
  and a bearer token for them. `shared_moderator_token`: the same on `shared_server`.
- `viewer`: a factory for viewers (`Viewer`), each its own device with its own cookies.
- `store`: "sqlite" unless the module is marked `pytest.mark.both_stores`, whose tests then run once on SQLite and
  once on PostgreSQL (`server` and `shared_server` follow it). `postgres`: the session's PostgreSQL server
  (pgserver.py), started on first use; every test server gets a fresh database copied from a migrated template.

The browser fixtures (`browser`, `pages`) and helpers live in browsing.py, loaded as a plugin below.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fixtures import Server, Viewer, add_moderator, create_token, demo_credentials, login
from pgserver import TEMPLATE, PostgresServer, available

from smartrlp.db.postgres import PostgresDatabase
from smartrlp.db.store import Database
from smartrlp.services.context import Context

pytest_plugins = ["browsing"]


STORES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_stores"):
        metafunc.parametrize("store", STORES, indirect=True, scope="module")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session, with the template database every test database is copied from."""
    if not available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (.ci/run installs Debian's postgresql package)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer().start()
    try:
        server.psql(f'CREATE DATABASE "{TEMPLATE}"')

        async def migrate() -> None:
            db = PostgresDatabase(server.url(TEMPLATE))
            await db.open()
            await db.close()

        asyncio.run(migrate())
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def store(request: pytest.FixtureRequest) -> str:
    """Which store this module's servers use: "sqlite", or each of both in modules marked `both_stores`."""
    return str(getattr(request, "param", "sqlite"))


def database_target(request: pytest.FixtureRequest, store: str) -> str | None:
    """A new PostgreSQL database's URL when `store` is postgresql, else None (the server's own SQLite file)."""
    if store != "postgresql":
        return None
    pg: PostgresServer = request.getfixturevalue("postgres")
    return pg.new_database(TEMPLATE)


def _started(directory: Path, db: str | None = None) -> Iterator[Server]:
    server = Server(directory, db=db).start()
    try:
        yield server
    finally:
        server.stop()
    server.assert_clean_log()


@pytest.fixture
def server(tmp_path: Path, store: str, request: pytest.FixtureRequest) -> Iterator[Server]:
    """A fresh server with its own database and the demo event, for one test."""
    yield from _started(tmp_path / "server", database_target(request, store))


@pytest.fixture(scope="module")
def shared_server(
    tmp_path_factory: pytest.TempPathFactory, store: str, request: pytest.FixtureRequest
) -> Iterator[Server]:
    """One server for a module's tests that do not disturb each other."""
    yield from _started(tmp_path_factory.mktemp("shared-server"), database_target(request, store))


_moderator_numbers = itertools.count(1)


def _new_moderator(server: Server) -> tuple[str, str]:
    name = f"moderator{next(_moderator_numbers)}"
    password = f"correct horse {name}"
    add_moderator(server, name, password)
    return name, password


@pytest.fixture
def moderator_credentials(server: Server) -> tuple[str, str]:
    """(name, password) of a moderator of every event, created with `smartrlp moderator add` on `server`."""
    return _new_moderator(server)


@pytest.fixture
def moderator_token(server: Server, moderator_credentials: tuple[str, str]) -> str:
    """A bearer token for `moderator_credentials`, created with `smartrlp token create`."""
    return create_token(server, moderator_credentials[0])


@pytest.fixture(scope="module")
def shared_moderator_credentials(shared_server: Server) -> tuple[str, str]:
    return _new_moderator(shared_server)


@pytest.fixture(scope="module")
def shared_moderator_token(shared_server: Server, shared_moderator_credentials: tuple[str, str]) -> str:
    return create_token(shared_server, shared_moderator_credentials[0])


@pytest.fixture(scope="module")
def shared_admin(shared_server: Server) -> Iterator[httpx.Client]:
    """The demo administrator of `shared_server`, logged in through the login form."""
    client = login(shared_server, *demo_credentials(shared_server))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def viewer(request: pytest.FixtureRequest) -> Iterator[Callable[..., Viewer]]:
    """`viewer()` makes a new device on the test's server (`server`, else `shared_server`)."""
    with contextlib.ExitStack() as stack:

        def make(
            on: Server | None = None,
            headers: dict[str, str] | None = None,
            credentials: tuple[str, str] | None = None,
        ) -> Viewer:
            if on is None:
                name = "server" if "server" in request.fixturenames else "shared_server"
                on = request.getfixturevalue(name)
            return Viewer(on, stack, headers=headers, credentials=credentials)

        yield make


@pytest.fixture
def anyio_backend() -> str:
    """The in-process service tests (`@pytest.mark.anyio`) run on asyncio, as the server does."""
    return "asyncio"


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[Context]:
    """A service `Context` on a new database with every migration, and a hub nobody listens to yet."""
    db = Database(str(tmp_path / "services.db"))
    await db.open()
    try:
        yield Context.offline(db)
    finally:
        await db.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.failed:
        funcargs = getattr(item, "funcargs", {})
        for name, value in funcargs.items():
            if isinstance(value, Server):
                report.sections.append((f"server log ({name})", value.log()[-20000:]))
    return report
