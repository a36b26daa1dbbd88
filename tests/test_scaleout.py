"""Scale-out: several server processes on one database, sharing changes through a real Redis (`SMARTRLP_BROKER`).

Two servers started separately on one database file and one broker are what `serve --workers 2` runs, but each
on its own port, so a test can choose which process a request or a websocket reaches. The last test starts
`serve --workers 2` itself. redis-server comes from Debian's packages (the test command installs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fixtures import (
    SLUG,
    LiveSocket,
    Server,
    Viewer,
    demo_credentials,
    free_port,
    wait_until,
)
from websockets.sync.client import connect

from smartrlp.cli import main
from smartrlp.db.store import Database, migration_files

QUESTIONS = f"/api/events/{SLUG}/questions"


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: the test command installs Debian's redis-server package"
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

        def answers() -> bool:
            assert self.process is not None
            assert self.process.poll() is None, "redis-server exited"
            try:
                with redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5) as client:
                    return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_until(answers, timeout=10, what="redis-server to answer PING")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, broker: RedisServer) -> Iterator[tuple[Server, Server]]:
    """Two server processes on one database file and one broker; `a` made the demo event."""
    directory = tmp_path_factory.mktemp("pair")
    env = {"SMARTRLP_BROKER": broker.url}
    a = Server(directory, db=directory / "shared.db", env=env)
    # b waits at most 2 s for the write lock, so the busy test below need not hold it long.
    b = Server(directory, db=a.db, demo=False, env={**env, "SMARTRLP_BUSY_TIMEOUT_MS": "2000"})
    try:
        a.start()
        b.start()
        yield a, b
    finally:
        b.stop()
        a.stop()
    a.assert_clean_log()
    b.assert_clean_log()


@pytest.fixture
def device(pair: tuple[Server, Server]) -> Iterator[Callable[..., Viewer]]:
    """`device(server, moderator=False)`: a new device, or the demo administrator logged in, on that server."""
    with contextlib.ExitStack() as stack:

        def make(on: Server, *, moderator: bool = False) -> Viewer:
            return Viewer(on, stack, credentials=demo_credentials(pair[0]) if moderator else None)

        yield make


def is_question(question_id: int, status: str) -> Callable[[dict[str, Any]], bool]:
    def matches(m: dict[str, Any]) -> bool:
        return m["type"] == "question" and (m["question"]["id"], m["question"]["status"]) == (question_id, status)

    return matches


def test_changes_through_both_workers_reach_both_in_order_without_gaps(
    pair: tuple[Server, Server], device: Callable[..., Viewer]
) -> None:
    a, b = pair
    staff_a, staff_b = device(a, moderator=True), device(b, moderator=True)
    watch_a, watch_b = staff_a.ws(), staff_b.ws()
    start = watch_a.recv()["seq"]
    assert watch_b.recv()["seq"] == start

    # Both processes write at once: SQLite's lock orders the commits, the broker orders the delivery.
    askers = [device(a), device(b)]
    count = 24
    with ThreadPoolExecutor(max_workers=4) as pool:
        asked = list(pool.map(lambda i: askers[i % 2].ask(f"Frage Nummer {i} an beide"), range(count)))
    end = start + count
    for watch in (watch_a, watch_b):
        seqs = [m["seq"] for m in watch.recv_until(lambda m: m.get("seq", 0) >= end) if m["type"] == "question"]
        assert seqs == list(range(start + 1, end + 1)), "each change once, in seq order, without gaps"
    assert sorted(q["id"] for q in asked) == sorted(m["question"]["id"] for m in watch_a.received[1:])

    # A viewer on b sees a question approved through a, and a viewer on a one approved through b.
    public_a, public_b = device(a).ws(), device(b).ws()
    public_a.recv(), public_b.recv()
    staff_a.moderate(asked[0]["id"], status="approved")
    staff_b.moderate(asked[1]["id"], status="approved")
    for public in (public_a, public_b):
        seen = public.recv_until(is_question(asked[1]["id"], "approved"))
        approved = [m["question"]["id"] for m in seen if m["type"] == "question"]
        assert approved == [asked[0]["id"], asked[1]["id"]]
        assert [m["seq"] for m in seen] == [end + 1, end + 2]


def test_a_viewer_resumes_on_the_other_worker_without_loss(
    pair: tuple[Server, Server], device: Callable[..., Viewer]
) -> None:
    a, b = pair
    staff = device(b, moderator=True)
    reader = device(a)
    first = reader.ws()
    last = first.recv()["seq"]
    question = reader.ask("Bleibt meine Frage erhalten, wenn ich wechsle?")
    last = first.recv_until(lambda m: m["type"] == "question")[-1]["seq"]
    first.close()

    # While the viewer is away, changes are made through both workers.
    staff.moderate(question["id"], status="approved")
    other = device(a).ask("Noch eine Frage in der Zwischenzeit")
    staff.moderate(other["id"], status="approved")
    head = staff.http.get(f"/api/events/{SLUG}").json()["seq"]

    # Reconnecting to the other worker (as behind a load balancer) replays exactly what was missed.
    url = f"{b.ws_url}/ws/events/{SLUG}?since={last}"
    with connect(url, additional_headers={"Cookie": reader.cookie_header()}, open_timeout=10) as connection:
        second = LiveSocket(connection)
        check_resumed(second, question, other, head, device(a, moderator=True))


def check_resumed(
    second: LiveSocket, question: dict[str, Any], other: dict[str, Any], head: int, staff_a: Viewer
) -> None:
    replay = second.recv_until(lambda m: m["type"] == "synced")
    assert replay[-1]["seq"] == head
    statuses = [(m["question"]["id"], m["question"]["status"]) for m in replay if m["type"] == "question"]
    assert statuses == [(question["id"], "approved"), (other["id"], "approved")]
    # And live changes through the first worker keep coming on the second.
    staff_a.moderate(question["id"], status="answered")
    assert second.recv_until(is_question(question["id"], "answered"))[-1]["seq"] == head + 1


def test_reactions_and_poll_results_reach_viewers_of_both_workers(
    pair: tuple[Server, Server], device: Callable[..., Viewer]
) -> None:
    a, b = pair
    on_a, on_b = device(a), device(b)
    ws_a, ws_b = on_a.ws(), on_b.ws()
    ws_a.recv(), ws_b.recv()

    # Each worker counts its own devices; every viewer sees the sum.
    ws_a.send({"type": "react", "kind": "applause"})
    ws_b.send({"type": "react", "kind": "applause"})
    for ws in (ws_a, ws_b):
        ws.recv_until(lambda m: m["type"] == "reactions" and m["counts"]["applause"] == 2)

    staff = device(b, moderator=True)
    response = staff.http.post(
        f"/api/events/{SLUG}/polls", json={"title": "Über beide Prozesse?", "kind": "single", "options": ["Ja", "Nein"]}
    )
    assert response.status_code == 201, response.text
    poll = response.json()
    assert staff.http.patch(f"/api/events/{SLUG}/polls/{poll['id']}", json={"state": "open"}).status_code == 200
    yes = poll["options"][0]["id"]
    # A ballot through a, counted with the database's numbers, reaches the viewers of b too, and the other way.
    assert on_a.http.post(f"/api/events/{SLUG}/polls/{poll['id']}/votes", json={"options": [yes]}).status_code == 201
    assert on_b.http.post(f"/api/events/{SLUG}/polls/{poll['id']}/votes", json={"options": [yes]}).status_code == 201
    for ws in (ws_a, ws_b):
        ws.recv_until(lambda m: m["type"] == "poll_results" and m["results"]["total"] == 2)


def test_a_write_that_cannot_get_the_lock_is_a_clear_503(
    pair: tuple[Server, Server], device: Callable[..., Viewer]
) -> None:
    a, b = pair
    asker = device(b)
    mark = b.log_size()
    # Another process holds SQLite's write lock longer than b waits for it (SMARTRLP_BUSY_TIMEOUT_MS=2000).
    holder = sqlite3.connect(a.db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        response = asker.http.post(QUESTIONS, json={"text": "Kommt diese Frage trotzdem an?"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "busy"
    assert not b.unexpected_errors(since=mark)
    # Once the lock is free, the same request goes through.
    assert asker.ask("Kommt diese Frage trotzdem an?")["text"] == "Kommt diese Frage trotzdem an?"


def test_without_redis_each_worker_keeps_serving_and_catches_up(
    pair: tuple[Server, Server], broker: RedisServer, device: Callable[..., Viewer]
) -> None:
    a, b = pair
    staff = device(a, moderator=True)
    public_a, public_b = device(a).ws(), device(b).ws()
    public_a.recv(), public_b.recv()
    question = device(a).ask("Was passiert, wenn Redis ausfällt?")
    broker.stop()
    try:
        wait_until(lambda: "unreachable" in a.log() and "unreachable" in b.log(), what="both to notice")
        staff.moderate(question["id"], status="approved")
        # Its own viewers get it at once, the other worker's from the log.
        public_a.recv_until(is_question(question["id"], "approved"))
        public_b.recv_until(is_question(question["id"], "approved"))
    finally:
        broker.start()
    connected = a.log().count("connected")
    wait_until(lambda: a.log().count("connected") > connected, what="a to reconnect to the broker")
    staff.moderate(question["id"], status="answered")
    public_b.recv_until(is_question(question["id"], "answered"))


def test_workers_starting_at_once_migrate_a_new_database_once(tmp_path: Path) -> None:
    # Separate connections lock the file exactly as separate processes do.
    async def start_together() -> list[str]:
        databases = [Database(str(tmp_path / "new.db")) for _ in range(3)]
        await asyncio.gather(*(db.open() for db in databases))
        try:
            rows = await databases[0].fetchall("SELECT name FROM migrations ORDER BY name")
            return [r["name"] for r in rows]
        finally:
            for db in databases:
                await db.close()

    assert asyncio.run(start_together()) == [name for name, _ in migration_files()]


class WorkersServer(Server):
    def command(self) -> list[str]:
        return [*super().command(), "--workers", "2"]


def test_serve_with_two_workers(
    tmp_path: Path, broker: RedisServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without a broker, several workers are refused before anything starts: each would see only its own changes.
    monkeypatch.delenv("SMARTRLP_BROKER", raising=False)
    assert main(["serve", "--workers", "2", "--db", str(tmp_path / "refused.db")]) == 2
    assert "SMARTRLP_BROKER" in capsys.readouterr().err
    assert not (tmp_path / "refused.db").exists()
    monkeypatch.setenv("SMARTRLP_BROKER", "http://127.0.0.1:6379")
    assert main(["serve", "--workers", "2", "--db", str(tmp_path / "refused.db")]) == 2
    assert "redis://" in capsys.readouterr().err

    # Three processes import the application before the first answers: slow on a busy machine.
    server = WorkersServer(tmp_path / "workers", env={"SMARTRLP_BROKER": broker.url}, startup_timeout=60)
    try:
        server.start()  # inside the try: a start that times out must not leave three processes behind
        with contextlib.ExitStack() as stack:
            viewer = Viewer(server, stack)
            # One websocket on each worker: the handshake names the worker that took it.
            sockets: dict[str, LiveSocket] = {}

            def one_on_each() -> bool:
                # The second worker may still be starting: keep opening sockets until both have taken one.
                ws = viewer.ws()
                worker = ws.connection.response.headers["x-smartrlp-worker"]
                if worker in sockets:
                    ws.close()
                else:
                    sockets[worker] = ws
                    ws.recv()
                return len(sockets) == 2

            wait_until(one_on_each, timeout=60, interval=0, what="a websocket on each of the two workers")
            # A question asked through one worker reaches this device's socket on the other.
            response = httpx.post(
                f"{server.url}{QUESTIONS}", json={"text": "Zwei Prozesse, eine Frage"}, cookies=viewer.http.cookies
            )
            assert response.status_code == 201, response.text
            other = next(w for w in sockets if w != response.headers["x-smartrlp-worker"])
            sockets[other].recv_until(lambda m: m["type"] == "question" and m["question"]["text"].startswith("Zwei"))
    finally:
        server.stop()
    server.assert_clean_log()
