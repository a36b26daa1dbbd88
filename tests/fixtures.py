"""Test helpers: the real server as a subprocess, the real CLI, HTTP and websocket clients.

Everything here talks to `python -m smartrlp` over sockets, exactly as a browser or an operator would.
Nothing waits a fixed time: every wait polls for a condition until a deadline.

Test modules import what they need from here (`from fixtures import Server, Viewer, bearer`); the pytest
fixtures built from these helpers are in conftest.py. Helpers: `Server`, `Viewer`, `add_moderator`, `create_token`,
`login`, `demo_credentials`, `create_event`, `run_cli`, `wait_until`, `ws_connect`, and `LiveSocket` (JSON messages
with deadlines).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from smartrlp.db.stores import database_for
from smartrlp.services.events import create_event as insert_event

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SLUG = "smart-rlp"
DEMO_MODERATOR_LINE = re.compile(r"Demo-Administrator:\s+Name '([^']+)', Passwort '([^']+)'")
# Lines the server only writes when something escaped our own error handling.
UNEXPECTED_LOG_LINES = ("Exception in ASGI application", "Traceback (most recent call last)")

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T | None], *, timeout: float = 10.0, interval: float = 0.02, what: str = "condition"
) -> T:
    """Call `condition` until it returns something truthy, and return that; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Server:
    """`python -m smartrlp serve` in a subprocess, on a free port, with its own database file."""

    _numbers = itertools.count(1)

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        db: Path | str | None = None,
        demo: bool = True,
        env: dict[str, str] | None = None,
        startup_timeout: float = 20.0,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        number = next(self._numbers)
        self.port = port or free_port()
        # A SQLite file (a Path), or a postgresql:// URL (a str) for a server on PostgreSQL.
        self.db: Path | str = (
            db
            if isinstance(db, str) and db.startswith("postgresql://")
            else Path(db)
            if db is not None
            else self.directory / f"server-{number}.db"
        )
        self.demo = demo
        # Rate limits are off for the suite's scripted crowds (one address, many fast requests) unless a test sets
        # them; tests/test_security.py checks them with the defaults and with small values.
        self.env = {**os.environ, "SMARTRLP_LOG_LEVEL": "info", "SMARTRLP_LIMITS": "off", **(env or {})}
        self.startup_timeout = startup_timeout
        self.log_path = self.directory / f"server-{number}.log"
        self.stdout_path = self.directory / f"server-{number}.out"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0  # where the current run's part of the log starts

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> str:
        return str(self.db)

    @property
    def on_postgres(self) -> bool:
        return isinstance(self.db, str)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "smartrlp", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--db", str(self.db)]
        # The suite's demo event has no sample questions or poll, so tests count only their own.
        return [*command, "--demo", "--demo-no-samples"] if self.demo else command

    def start(self) -> Server:
        assert not self.running, "the server is running already"
        # After a restart the old socket may linger for a moment; wait until the port can be bound again.
        wait_until(lambda: _port_is_free(self.port), timeout=10, what=f"port {self.port} to be free")
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log, self.stdout_path.open("ab") as out:
            self.process = subprocess.Popen(  # the child keeps its own copies of the file handles
                self.command(), cwd=self.directory, env=self.env, stdout=out, stderr=log, stdin=subprocess.DEVNULL
            )
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        def healthy() -> bool:
            if not self.running:
                code = self.process.returncode if self.process else None
                raise AssertionError(f"the server exited with {code} while starting:\n{self.log()}")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, timeout=self.startup_timeout, interval=0.05, what=f"{self.url}/healthz to answer 200")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Send `sig` and wait for the process to end; returns its exit code (None if it never ran)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
                raise AssertionError(f"the server ignored signal {sig} for {timeout}s:\n{self.log()}") from None
        return self.process.returncode

    def restart(self, sig: int = signal.SIGTERM) -> Server:
        """Stop and start again on the same port with the same database."""
        self.stop(sig)
        return self.start()

    def log(self, *, current_run_only: bool = False) -> str:
        if not self.log_path.exists():
            return ""
        data = self.log_path.read_bytes()
        return data[self._log_offset if current_run_only else 0 :].decode("utf-8", "replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text("utf-8", "replace") if self.stdout_path.exists() else ""

    def log_size(self) -> int:
        """A mark in the log, for `unexpected_errors(since=...)`."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def unexpected_errors(self, since: int = 0) -> list[str]:
        """Log lines (after the mark `since`) that show an exception got past the application's error handling."""
        text = self.log_path.read_bytes()[since:].decode("utf-8", "replace") if self.log_path.exists() else ""
        return [line for line in text.splitlines() if any(s in line for s in UNEXPECTED_LOG_LINES)]

    def assert_clean_log(self) -> None:
        assert not self.unexpected_errors(), f"the server logged unexpected errors:\n{self.log()}"

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 10)
        return httpx.Client(base_url=self.url, **kwargs)

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, "--db", self.db_path, stdin=stdin, check=check)


def run_cli(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `python -m smartrlp ARGS` and return the finished process (text output)."""
    result = subprocess.run(
        [sys.executable, "-m", "smartrlp", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"smartrlp {' '.join(args)} exited with {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def add_moderator(
    server: Server, name: str, password: str, *, role: str | None = None, events: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`smartrlp moderator add NAME --db PATH`, with the password on stdin."""
    args = ["moderator", "add", name]
    if role:
        args += ["--role", role]
    for slug in events:
        args += ["--event", slug]
    return server.cli(*args, stdin=password + "\n")


def create_token(server: Server, name: str) -> str:
    """`smartrlp token create NAME --db PATH`: the token is the last line of its output."""
    return server.cli("token", "create", name).stdout.strip().splitlines()[-1]


def demo_credentials(server: Server) -> tuple[str, str]:
    """(name, password) of the admin that `serve --demo` creates on an empty database and prints once."""
    match = DEMO_MODERATOR_LINE.search(server.stdout())
    assert match, f"serve --demo printed no demo moderator:\n{server.stdout()}"
    return match.group(1), match.group(2)


def login(server: Server, name: str, password: str) -> httpx.Client:
    """An httpx client logged in through the real login form (session cookie `srl_session`).

    The client has been used already, so close it with `.close()` or `contextlib.closing`, not `with`.
    """
    client = server.client()
    response = client.post("/login", data={"name": name, "password": password, "next": "/"})
    assert response.status_code == 303, response.text
    assert client.cookies.get("srl_session"), "login set no session cookie"
    send_csrf_token(client)
    return client


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def send_csrf_token(client: httpx.Client) -> str:
    """Send the session's CSRF token with every request from now on, as the pages' scripts do (static/js/api.js)."""
    match = CSRF_META.search(client.get("/").text)
    assert match, "a logged-in page carries no CSRF token"
    client.headers["X-CSRF-Token"] = match.group(1)
    return match.group(1)


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(client: httpx.Client, path: str = "/admin/events/new") -> str:
    """The CSRF token of the form on `path`, as a browser would send it back."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    match = CSRF_FIELD.search(response.text)
    assert match, f"{path} has no CSRF field"
    return match.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_event(server: Server, slug: str, title: str = "Another event") -> None:
    """Add an event to the server's database with the project's own code (the CLI cannot create events)."""

    async def work() -> None:
        db = database_for(server.db_path)
        await db.open()
        try:
            async with db.transaction() as tx:
                await insert_event(tx, {"slug": slug, "title": title}, [])
        finally:
            await db.close()

    asyncio.run(work())


class LiveSocket:
    """A websocket to the live endpoint, reading JSON messages with deadlines.

    The activity list's `moderation_action` messages (current state for the moderator console, not changes) are
    kept apart in `activity` rather than returned by `recv`, unless `with_activity` is set."""

    def __init__(self, connection: ClientConnection, *, with_activity: bool = False) -> None:
        self.connection = connection
        self.received: list[dict[str, Any]] = []
        self.activity: list[dict[str, Any]] = []
        self.with_activity = with_activity

    def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                raw = self.connection.recv(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                raise AssertionError(f"no websocket message within {timeout}s; so far: {self.received}") from None
            message = json.loads(raw)
            if message.get("type") == "moderation_action" and not self.with_activity:
                self.activity.append(message)
                continue
            self.received.append(message)
            return message

    def recv_until(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> list[dict[str, Any]]:
        """Messages up to and including the first that matches; fails at the deadline."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            message = self.recv(timeout=max(0.01, deadline - time.monotonic()))
            seen.append(message)
            if predicate(message):
                return seen

    def send(self, data: str | bytes | dict[str, Any]) -> None:
        self.connection.send(json.dumps(data) if isinstance(data, dict) else data)

    def close(self) -> None:
        self.connection.close()

    def wait_closed(self, timeout: float = 10.0) -> int | None:
        """Read until the server closes the connection; returns the close code it sent."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        raise AssertionError(f"the websocket stayed open for {timeout}s")


class Viewer:
    """One device: an httpx client with its own cookie jar, and websockets that carry its cookies.

    With `headers=bearer(token)` it is a moderator using a token (on HTTP and websockets alike); with
    `credentials=(name, password)` it logs in through the login form and uses the session cookie.
    """

    def __init__(
        self,
        server: Server,
        stack: contextlib.ExitStack,
        headers: dict[str, str] | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.server = server
        self._stack = stack
        self.http = stack.enter_context(server.client(headers=headers or {}))
        if credentials is not None:
            response = self.http.post("/login", data={"name": credentials[0], "password": credentials[1]})
            assert response.status_code == 303, response.text
            assert self.http.cookies.get("srl_session"), "login set no session cookie"
            send_csrf_token(self.http)
        # The first response sets the device cookie, as it would for a browser opening the page.
        response = self.http.get(f"/api/events/{SLUG}")
        assert response.status_code == 200, response.text
        assert self.device_cookie, "the server set no srl_device cookie"

    @property
    def device_cookie(self) -> str | None:
        return self.http.cookies.get("srl_device")

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies.jar)

    def ws(self, slug: str = SLUG, since: int | str | None = None, headers: dict[str, str] | None = None) -> LiveSocket:
        url = f"{self.server.ws_url}/ws/events/{slug}" + (f"?since={since}" if since is not None else "")
        extra = {"Cookie": self.cookie_header()}
        if "authorization" in self.http.headers:
            extra["Authorization"] = self.http.headers["authorization"]
        extra.update(headers or {})
        connection = self._stack.enter_context(connect(url, additional_headers=extra, open_timeout=10))
        return LiveSocket(connection)

    def ask(self, text: str, name: str | None = None, slug: str = SLUG) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text}
        if name is not None:
            body["name"] = name
        response = self.http.post(f"/api/events/{slug}/questions", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def questions(self, slug: str = SLUG, **params: str) -> list[dict[str, Any]]:
        response = self.http.get(f"/api/events/{slug}/questions", params=params)
        assert response.status_code == 200, response.text
        return response.json()["questions"]

    def moderate(self, question_id: int, slug: str = SLUG, **changes: Any) -> dict[str, Any]:
        response = self.http.patch(f"/api/events/{slug}/questions/{question_id}", json=changes)
        assert response.status_code == 200, response.text
        return response.json()


def ws_connect(server: Server, path: str, headers: dict[str, str] | None = None) -> contextlib.AbstractContextManager:
    """A bare websocket connection (for cases that need no device), as a context manager."""
    return connect(f"{server.ws_url}{path}", additional_headers=headers or {}, open_timeout=10)


class HubPage:
    """A page open on an event as the hub sees it (a subscriber), keeping every message it is sent, decoded.

    For the in-process service tests: subscribe it with `ctx.hub.subscribe(event_id, page)`.
    """

    def __init__(self, *, staff: bool = False, studio: bool = False, device: str | None = None) -> None:
        self.is_staff, self.is_studio, self.device = staff, studio, device
        self.messages: list[dict[str, Any]] = []

    def deliver(self, broadcast: Any, frame: bytes) -> None:
        self.messages.append(json.loads(broadcast.text))

    def types(self) -> list[str]:
        return [m["type"] for m in self.messages]

    def of_type(self, message_type: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == message_type]
