"""Nothing lost, nothing stuck: a killed server, a stopped server, and a client that stops reading.

- SIGKILL in the middle of a burst of questions and ballots, over HTTP and over the websocket (`reply` after
  commit): every acknowledged one is there after the restart.
- SIGTERM: every live connection is closed with 1001 (going away); a viewer page says it is reconnecting and
  comes back live by itself when the server is back.
- A client that stops reading never delays the others; it is dropped (4008) and resumes without a loss.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from browsing import Pages, expect_live
from fixtures import SLUG, LiveSocket, Server, Viewer, bearer, create_token, wait_until
from playwright.sync_api import expect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

pytestmark = pytest.mark.both_stores

QUESTIONS = f"/api/events/{SLUG}/questions"
POLLS = f"/api/events/{SLUG}/polls"


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], moderator_token: str) -> Viewer:
    return viewer(headers=bearer(moderator_token))


# ---------------------------------------------------------------- SIGKILL mid-burst


@dataclass
class Device:
    """One phone in the burst: what it sent, and what the server acknowledged before it died."""

    number: int
    viewer: Viewer
    over_websocket: bool = False
    acknowledged_questions: dict[int, str] = field(default_factory=dict)  # id -> text
    sent_questions: list[str] = field(default_factory=list)
    sent_words: list[str] = field(default_factory=list)
    last_acknowledged_word: str | None = None


def _send(device: Device, socket: LiveSocket | None, message: dict[str, Any], path: str) -> tuple[int, Any] | None:
    """One action over HTTP or the device's websocket; None once the server is gone."""
    if socket is None:
        body = {k: v for k, v in message.items() if k not in {"type", "poll_id"}}
        try:
            response = device.viewer.http.post(path, json=body)
        except httpx.TransportError:
            return None
        return response.status_code, response.json()
    ref = f"{message['type']}-{len(device.sent_words)}"
    try:
        socket.send({**message, "ref": ref})
        reply = socket.recv_until(lambda m: m.get("type") == "reply" and m.get("ref") == ref, timeout=15)[-1]
    except (ConnectionClosed, OSError):
        return None
    return reply["status"], reply["body"]


def _burst(device: Device, poll_id: int, stop: threading.Event, acknowledged: Counter[str]) -> None:
    """Ask and vote in turn until the server stops answering (it is killed under our feet)."""
    socket = device.viewer.ws() if device.over_websocket else None
    if socket is not None:
        socket.recv()  # the snapshot: from now on actions go over this connection
    n = 0
    while not stop.is_set():
        n += 1
        text = f"Gerät {device.number} fragt zum {n}. Mal"
        device.sent_questions.append(text)
        answer = _send(device, socket, {"type": "ask", "text": text}, QUESTIONS)
        if answer is None:
            return
        if answer[0] == 201:
            device.acknowledged_questions[answer[1]["id"]] = answer[1]["text"]
            acknowledged["question"] += 1
            acknowledged["websocket" if socket is not None else "http"] += 1
        # Each device's new word replaces its earlier ballot: the stored one must be the last acknowledged,
        # or one sent later whose answer the kill swallowed.
        word = f"wort{device.number}x{n}"
        device.sent_words.append(word)
        answer = _send(device, socket, {"type": "ballot", "poll_id": poll_id, "text": word}, f"{POLLS}/{poll_id}/votes")
        if answer is None:
            return
        if answer[0] == 201:
            device.last_acknowledged_word = word
            acknowledged["ballot"] += 1
            acknowledged["websocket" if socket is not None else "http"] += 1


def test_a_killed_server_loses_nothing_it_acknowledged(
    server: Server, viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    response = moderator.http.post(POLLS, json={"title": "Ein Wort zur Stadt", "kind": "words"})
    assert response.status_code == 201, response.text
    poll_id = response.json()["id"]
    assert moderator.http.patch(f"{POLLS}/{poll_id}", json={"state": "open"}).status_code == 200
    # Half the devices act over their websocket, half over HTTP.
    devices = [Device(n, viewer(), over_websocket=n % 2 == 1) for n in range(16)]
    stop = threading.Event()
    acknowledged: Counter[str] = Counter()

    with ThreadPoolExecutor(max_workers=len(devices)) as pool:
        futures = [pool.submit(_burst, device, poll_id, stop, acknowledged) for device in devices]
        # Kill while every device is busy: well after the first answers, long before the burst could end.
        wait_until(
            lambda: acknowledged["question"] >= 120 and acknowledged["ballot"] >= 120
            and acknowledged["websocket"] >= 100 and acknowledged["http"] >= 100,
            timeout=15,
            what="a burst of acknowledged questions and ballots",
        )
        server.stop(signal.SIGKILL)
        stop.set()
        for future in futures:
            future.result(timeout=15)
    assert server.process is not None
    assert server.process.returncode == -signal.SIGKILL

    if not server.on_postgres:
        # The database file is sound after the kill (WAL replay), before the server touches it again.
        with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    server.start()

    stored = {q["id"]: q for q in moderator.questions()}
    texts = Counter(q["text"] for q in stored.values())
    assert not [text for text, count in texts.items() if count > 1], "a question was stored twice"
    sent = {text for device in devices for text in device.sent_questions}
    assert set(texts) <= sent, "something was stored that nobody sent"
    for device in devices:
        for question_id, text in device.acknowledged_questions.items():
            assert question_id in stored, f"acknowledged question {question_id} ({text!r}) is lost"
            assert (stored[question_id]["text"], stored[question_id]["status"]) == (text, "pending")
        # Each device sees its own acknowledged (pending) questions again, with its old cookie.
        assert set(device.acknowledged_questions) <= {q["id"] for q in device.viewer.questions() if q["mine"]}

        response = device.viewer.http.get(f"{POLLS}/{poll_id}")
        assert response.status_code == 200, response.text
        ballot = response.json()["my_ballot"]
        if device.last_acknowledged_word is None:
            continue
        assert ballot is not None, f"device {device.number}: its acknowledged ballot is lost"
        could_be = device.sent_words[device.sent_words.index(device.last_acknowledged_word) :]
        assert ballot["text"] in could_be, (device.number, ballot, device.last_acknowledged_word)

    # The record agrees: one ballot per device that was answered, each a word that was sent, counted once.
    export = moderator.http.get(f"/api/events/{SLUG}/export.json").json()
    words = next(p for p in export["polls"] if p["id"] == poll_id)["results"]["words"]
    sent_words = {word for device in devices for word in device.sent_words}
    assert all(w["count"] == 1 and w["text"] in sent_words for w in words), words
    assert len(words) >= sum(1 for d in devices if d.last_acknowledged_word)
    assert acknowledged["question"] + acknowledged["ballot"] >= 240
    server.assert_clean_log()


# ---------------------------------------------------------------- SIGTERM: going away, and back


@pytest.mark.browser
def test_a_stopped_server_says_going_away_and_pages_come_back_by_themselves(
    server: Server, viewer: Callable[..., Viewer], moderator: Viewer, pages: Pages
) -> None:
    sockets = [viewer().ws(), viewer().ws(), moderator.ws()]
    for live in sockets:
        live.recv()
    page = pages.open(f"{server.url}/e/{SLUG}")
    expect_live(page)
    # While the server is away Chromium reports each failed reconnection attempt; that is the point here.
    pages.allow_console(r"WebSocket connection to .* failed")

    server.stop(signal.SIGTERM)
    assert [live.wait_closed() for live in sockets] == [1001, 1001, 1001]
    status = page.get_by_role("status").filter(has_text="Verbindung unterbrochen")
    expect(status).to_be_visible()

    server.start()
    expect_live(page, timeout=20_000)  # the backoff may have grown to a few seconds meanwhile
    question = viewer().ask("Nach dem Neustart freigegeben")
    moderator.moderate(question["id"], status="approved")
    expect(page.get_by_text("Nach dem Neustart freigegeben")).to_be_visible()
    server.assert_clean_log()


# ---------------------------------------------------------------- a client that stops reading


class StalledClient:
    """A moderator's websocket whose reader stops reading: only a small receive buffer, then nothing is read.

    websockets' sans-I/O protocol does the framing, so the test controls exactly when bytes are read.
    """

    def __init__(self, server: Server, token: str, since: int | None = None) -> None:
        path = f"/ws/events/{SLUG}" + (f"?since={since}" if since is not None else "")
        self.protocol = ClientProtocol(parse_uri(f"{server.ws_url}{path}"), max_size=None)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Small buffers make the server's sends block after a few hundred kilobytes instead of many megabytes.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", server.port))
        request = self.protocol.connect()
        request.headers["Authorization"] = f"Bearer {token}"
        self.protocol.send_request(request)
        self._flush()
        self.messages: list[dict[str, Any]] = []
        self.close_code: int | None = None
        wait_until(lambda: self._read() and self.messages, timeout=10, what="the first message")

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def _read(self) -> bool:
        """Read what has arrived (waits up to 0.1 s for it); False at the end of the stream."""
        self.sock.settimeout(0.1)
        try:
            data = self.sock.recv(1 << 16)
        except TimeoutError:
            return True
        if not data:
            self.protocol.receive_eof()
        else:
            self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame) and event.opcode == Opcode.TEXT:
                message = json.loads(event.data)
                # The activity list's rows (seq 0, the current state, not changes) are not what this test follows.
                if message["type"] != "moderation_action":
                    self.messages.append(message)
        if self.protocol.close_rcvd is not None:
            self.close_code = self.protocol.close_rcvd.code
        self._flush()  # answers pings and the close
        return bool(data)

    def read_until_closed(self, timeout: float = 15) -> int:
        # Reading at full speed again; with the small window TCP would trickle the backlog through.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        wait_until(lambda: not self._read() or self.close_code is not None, timeout=timeout, what="the close")
        assert self.close_code is not None, "the server ended the connection without a close frame"
        return self.close_code

    def close(self) -> None:
        self.sock.close()


def test_a_client_that_stops_reading_delays_no_one_and_resumes_without_loss(tmp_path: Path) -> None:
    server = Server(tmp_path, env={"SMARTRLP_WS_QUEUE_SIZE": "16"}).start()
    try:
        token = create_token(server, "demo")
        with contextlib.ExitStack() as stack:
            moderator = Viewer(server, stack, headers=bearer(token))
            question = Viewer(server, stack).ask("Wann kommt das Glasfaser in unseren Ortsteil?")
            attentive = moderator.ws()
            start = attentive.recv()["seq"]
            stalled = StalledClient(server, token)
            stack.callback(stalled.close)
            assert stalled.messages[0]["seq"] == start

            # Long written answers (8 KB a change) soon fill what the kernel buffers for the stalled client.
            answers = [f"{n:02} " + "𝄞" * 1990 for n in range(60)]
            for answer in answers:
                changed = moderator.moderate(question["id"], answer=answer)
                # The attentive moderator has each change at once while the other reads nothing at all.
                seen = attentive.recv(timeout=2)
                assert (seen["type"], seen["question"]) == ("question", changed)
            head = start + len(answers)
            assert seen["seq"] == head

            # Reading again, the stalled client gets what was on its way, then the close: it fell too far behind.
            assert stalled.read_until_closed() == 4008
            got = [m["seq"] for m in stalled.messages[1:]]
            assert got == list(range(start + 1, start + 1 + len(got))), "in order, without a gap"
            assert len(got) < len(answers), "it was dropped before it had everything"
            # It resumes from its last seq: the rest of the changes, each once, in order.
            resumed = StalledClient(server, token, since=got[-1])
            stack.callback(resumed.close)
            wait_until(lambda: resumed._read() and resumed.messages[-1]["type"] == "synced", what="synced")
            replayed = resumed.messages[:-1]
            assert [m["seq"] for m in replayed] == list(range(got[-1] + 1, head + 1))
            assert [m["question"]["answer"] for m in replayed] == answers[len(got) :]
    finally:
        server.stop()
    server.assert_clean_log()
