"""A viewer's actions over the open websocket: the same answers as over HTTP, given after the commit.

Each action (`ask`, `upvote`, `unvote`, `ballot`, `report`) is sent once over HTTP by one device and once over the
websocket by another device in the same situation; the status and the JSON body must be the same (ids and counts
that differ between two devices are compared for what they mean). Errors are compared byte for byte.
"""

from __future__ import annotations

import itertools
import json
import signal
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures import SLUG, LiveSocket, Server, Viewer, add_moderator, bearer, create_token, wait_until, ws_connect
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

import smartrlp.app  # noqa: F401 - the views' declarations fill LIVE_ACTIONS
from smartrlp.realtime import protocol
from smartrlp.web.endpoint import LIVE_ACTIONS

QUESTIONS = f"/api/events/{SLUG}/questions"
POLLS = f"/api/events/{SLUG}/polls"
_refs = itertools.count(1)


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    return viewer(headers=bearer(shared_moderator_token))


class Device:
    """One phone: its HTTP client and its open websocket (opened with the same cookies)."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.socket = viewer.ws()
        assert self.socket.recv()["type"] == "snapshot"

    def http(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        response = self.viewer.http.request(method, path, json=body)
        return response.status_code, (response.json() if response.content else None)

    def act(self, message: dict[str, Any]) -> tuple[int, Any]:
        return act(self.socket, message)


def act(socket: LiveSocket, message: dict[str, Any]) -> tuple[int, Any]:
    ref = f"r{next(_refs)}"
    socket.send({**message, "ref": ref})
    reply = socket.recv_until(lambda m: m.get("type") == protocol.REPLY)[-1]
    assert reply["ref"] == ref
    return reply["status"], reply["body"]


@pytest.fixture
def device(viewer: Callable[..., Viewer]) -> Callable[[], Device]:
    return lambda: Device(viewer())


def approved_question(viewer: Callable[..., Viewer], moderator: Viewer, text: str = "Wann kommt der Bus?") -> int:
    question = viewer().ask(text)
    moderator.moderate(question["id"], status="approved")
    return int(question["id"])


def open_poll(moderator: Viewer, kind: str = "single", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"title": "Wie kommen Sie zur Arbeit?", "kind": kind, **fields}
    if kind == "single":
        body["options"] = ["Bus", "Rad", "Auto"]
    response = moderator.http.post(POLLS, json=body)
    assert response.status_code == 201, response.text
    poll = response.json()
    assert moderator.http.patch(f"{POLLS}/{poll['id']}", json={"state": "open"}).status_code == 200
    return poll


def test_every_action_of_the_protocol_is_a_declared_endpoint() -> None:
    assert set(LIVE_ACTIONS) == set(protocol.ACTION_TYPES)
    paths = {name: (spec.method, spec.path) for name, spec in LIVE_ACTIONS.items()}
    assert paths["ballot"] == ("POST", "/api/events/{slug}/polls/{poll_id}/votes")
    assert paths["unvote"] == ("DELETE", "/api/events/{slug}/questions/{question_id}/votes")


# ---------------------------------------------------------------- successes


def test_ask_over_the_websocket_is_answered_as_over_http_after_the_commit(
    device: Callable[[], Device], moderator: Viewer
) -> None:
    by_http, by_ws = device(), device()
    status_http, body_http = by_http.http("POST", QUESTIONS, {"text": "Gibt es bald WLAN im Rathaus?"})
    status_ws, body_ws = by_ws.act({"type": "ask", "text": "Gibt es bald WLAN im Rathaus?"})
    assert status_ws == status_http == 201
    assert set(body_ws) == set(body_http)
    different = {"id", "created_at", "version"}
    assert {k: v for k, v in body_ws.items() if k not in different} == {
        k: v for k, v in body_http.items() if k not in different
    }
    # Answered after its commit: the moderators' list has it the moment the reply is read.
    assert body_ws["id"] in {q["id"] for q in moderator.questions()}
    assert body_ws["mine"] is True
    assert body_ws["id"] in {q["id"] for q in by_ws.viewer.questions() if q["mine"]}


def test_an_ask_repeated_over_http_under_its_ref_is_stored_once(
    device: Callable[[], Device], moderator: Viewer
) -> None:
    """What the page does when the reply over the websocket never comes (a frozen server): the same ask over HTTP
    with the message's ref as Idempotency-Key. It is answered with the question of the first, and kept once."""
    phone, other = device(), device()
    text = "Wird die Buslinie 105 wieder eingesetzt?"
    phone.socket.send({"type": "ask", "text": text, "ref": "k-frozen-1"})
    first = phone.socket.recv_until(lambda m: m.get("type") == protocol.REPLY)[-1]
    assert first["status"] == 201
    repeat = phone.viewer.http.post(QUESTIONS, json={"text": text}, headers={"Idempotency-Key": "k-frozen-1"})
    assert repeat.status_code == 201, repeat.text
    assert repeat.json()["id"] == first["body"]["id"]
    # Another device may name its ask the same (the keys are the pages' own), and a new key is a new question.
    theirs = other.viewer.http.post(QUESTIONS, json={"text": text}, headers={"Idempotency-Key": "k-frozen-1"})
    again = phone.viewer.http.post(QUESTIONS, json={"text": text}, headers={"Idempotency-Key": "k-frozen-2"})
    assert len({first["body"]["id"], theirs.json()["id"], again.json()["id"]}) == 3
    assert [q["text"] for q in moderator.questions()].count(text) == 3
    too_long = phone.viewer.http.post(QUESTIONS, json={"text": text}, headers={"Idempotency-Key": "k" * 65})
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (422, "invalid")


def test_upvote_and_unvote_over_the_websocket(
    device: Callable[[], Device], viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    question_id = approved_question(viewer, moderator)
    by_http, by_ws = device(), device()
    votes = f"{QUESTIONS}/{question_id}/votes"
    assert by_http.http("POST", votes) == (
        200,
        {"question_id": question_id, "votes": 1, "counted": True, "voted": True},
    )
    assert by_ws.act({"type": "upvote", "question_id": question_id}) == (
        200,
        {"question_id": question_id, "votes": 2, "counted": True, "voted": True},
    )
    # Once per device, whichever way it asks.
    assert by_ws.http("POST", votes) == (200, {"question_id": question_id, "votes": 2, "counted": False, "voted": True})
    assert by_http.act({"type": "upvote", "question_id": question_id}) == (
        200,
        {"question_id": question_id, "votes": 2, "counted": False, "voted": True},
    )
    assert by_ws.act({"type": "unvote", "question_id": question_id}) == (
        200,
        {"question_id": question_id, "votes": 1, "counted": True, "voted": False},
    )
    assert by_http.http("DELETE", votes) == (
        200,
        {"question_id": question_id, "votes": 0, "counted": True, "voted": False},
    )
    assert by_ws.act({"type": "unvote", "question_id": question_id}) == by_http.http("DELETE", votes)
    assert next(q for q in moderator.questions() if q["id"] == question_id)["votes"] == 0


def test_a_ballot_over_the_websocket_counts_and_replaces_as_over_http(
    device: Callable[[], Device], moderator: Viewer
) -> None:
    poll = open_poll(moderator)
    first, second = (o["id"] for o in poll["options"][:2])
    by_http, by_ws = device(), device()
    path = f"{POLLS}/{poll['id']}/votes"
    expected = (201, {"poll_id": poll["id"], "ballot": {"options": [first]}, "replaced": False})
    assert by_http.http("POST", path, {"options": [first]}) == expected
    assert by_ws.act({"type": "ballot", "poll_id": poll["id"], "options": [first]}) == expected
    replaced = (201, {"poll_id": poll["id"], "ballot": {"options": [second]}, "replaced": True})
    assert by_ws.act({"type": "ballot", "poll_id": poll["id"], "options": [second]}) == replaced
    assert by_http.http("POST", path, {"options": [second]}) == replaced
    # Committed before the reply: the count has both.
    results = moderator.http.get(f"{POLLS}/{poll['id']}").json()["results"]
    assert results["total"] == 2
    assert by_ws.http("GET", f"{POLLS}/{poll['id']}")[1]["my_ballot"] == {"options": [second]}


def test_a_report_over_the_websocket_as_over_http(
    device: Callable[[], Device], viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    question_id = approved_question(viewer, moderator, "Eine Frage, die jemand meldet")
    by_http, by_ws = device(), device()
    path = f"{QUESTIONS}/{question_id}/reports"
    status, body = by_http.http("POST", path, {"reason": "spam"})
    assert status == 201
    assert by_ws.act({"type": "report", "question_id": question_id, "reason": "spam"}) == (201, body)
    # Once per device: 200 the second time, either way.
    assert by_ws.http("POST", path, {"reason": "spam"}) == (200, body)
    assert by_http.act({"type": "report", "question_id": question_id, "reason": "spam"}) == (200, body)


# ---------------------------------------------------------------- errors: the same status and body as over HTTP


def _errors_alike(sender: Device, method: str, path: str, message: dict[str, Any], body: dict[str, Any] | None) -> int:
    over_http = sender.http(method, path, body)
    over_ws = sender.act(message)
    assert over_ws == over_http
    assert set(over_ws[1]) == {"error"}
    return over_ws[0]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": ""}, "invalid"),
        ({"text": "x" * 5000}, "invalid"),
        ({"text": "Gültig", "colour": "rot"}, "invalid"),
        ({"text": 17}, "invalid"),
        ({"text": "Gültig", "panelist_id": 99999}, "invalid"),
        ({"text": "Gültig", "panelist_id": 2**70}, "invalid"),
    ],
    ids=["empty", "too-long", "unknown-field", "wrong-type", "no-such-panelist", "number-too-large"],
)
def test_ask_errors_are_the_http_ones(device: Callable[[], Device], body: dict[str, Any], code: str) -> None:
    sender = device()
    if body.get("text") == "x" * 5000:
        # A message is at most MAX_CLIENT_MESSAGE_BYTES: beyond that the socket answers with its own error.
        body = {"text": "x" * 3000}
    status = _errors_alike(sender, "POST", QUESTIONS, {"type": "ask", **body}, body)
    assert status == 422
    assert sender.act({"type": "ask", **body})[1]["error"]["code"] == code


def test_upvote_errors_are_the_http_ones(
    device: Callable[[], Device], viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    sender = device()
    pending = viewer().ask("Noch nicht freigegeben")["id"]
    assert (
        _errors_alike(sender, "POST", f"{QUESTIONS}/{pending}/votes", {"type": "upvote", "question_id": pending}, None)
        == 409
    )
    assert (
        _errors_alike(
            sender, "DELETE", f"{QUESTIONS}/{pending}/votes", {"type": "unvote", "question_id": pending}, None
        )
        == 409
    )
    assert (
        _errors_alike(sender, "POST", f"{QUESTIONS}/999999/votes", {"type": "upvote", "question_id": 999999}, None)
        == 404
    )
    # Not an id: as in a URL, the question is not found.
    assert (
        _errors_alike(sender, "POST", f"{QUESTIONS}/drei/votes", {"type": "upvote", "question_id": "drei"}, None) == 404
    )
    status, body = sender.act({"type": "upvote"})
    assert (status, body["error"]["code"], body["error"]["details"]) == (422, "invalid", {"field": "question_id"})


def test_ballot_errors_are_the_http_ones(device: Callable[[], Device], moderator: Viewer) -> None:
    sender = device()
    poll = open_poll(moderator)
    path = f"{POLLS}/{poll['id']}/votes"
    for body in (
        {"options": [123456]},
        {"options": []},
        {"value": 3},
        {"options": [poll["options"][0]["id"]] * 2 + [0]},
    ):
        assert _errors_alike(sender, "POST", path, {"type": "ballot", "poll_id": poll["id"], **body}, body) == 422
    assert (
        _errors_alike(
            sender,
            "POST",
            f"{POLLS}/999999/votes",
            {"type": "ballot", "poll_id": 999999, "options": [1]},
            {"options": [1]},
        )
        == 404
    )
    assert moderator.http.patch(f"{POLLS}/{poll['id']}", json={"state": "closed"}).status_code == 200
    body = {"options": [poll["options"][0]["id"]]}
    assert _errors_alike(sender, "POST", path, {"type": "ballot", "poll_id": poll["id"], **body}, body) == 409


def test_report_errors_are_the_http_ones(device: Callable[[], Device], viewer: Callable[..., Viewer]) -> None:
    sender = device()
    pending = viewer().ask("Nur für Moderatoren sichtbar")["id"]
    body = {"reason": "spam"}
    assert (
        _errors_alike(
            sender, "POST", f"{QUESTIONS}/{pending}/reports", {"type": "report", "question_id": pending, **body}, body
        )
        == 404
    )
    assert (
        _errors_alike(
            sender,
            "POST",
            f"{QUESTIONS}/{pending}/reports",
            {"type": "report", "question_id": pending, "reason": "gelangweilt"},
            {"reason": "gelangweilt"},
        )
        == 422
    )


def test_a_connection_without_a_device_gets_the_http_answer(shared_server: Server) -> None:
    with httpx.Client(base_url=shared_server.url) as client:
        response = client.post(QUESTIONS, json={"text": "Ohne Cookie"}, headers={"Cookie": ""})
        assert response.status_code == 400
        expected = (400, response.json())
    with ws_connect(shared_server, f"/ws/events/{SLUG}") as connection:
        socket = LiveSocket(connection)
        assert socket.recv()["type"] == "snapshot"
        assert act(socket, {"type": "ask", "text": "Ohne Cookie"}) == expected


def test_a_questions_closed_event_refuses_asks_over_both(server: Server, viewer: Callable[..., Viewer]) -> None:
    sender = Device(viewer())
    with sqlite3.connect(server.db_path) as db:  # as the organisers' form does, without the form
        db.execute("UPDATE events SET questions_open = 0 WHERE slug = ?", (SLUG,))
    body = {"text": "Noch eine Frage"}
    assert _errors_alike(sender, "POST", QUESTIONS, {"type": "ask", **body}, body) == 409


def test_bad_refs_and_replies_in_order(device: Callable[[], Device], moderator: Viewer) -> None:
    sender = device()
    for ref in (None, "", "x" * 65, 17):
        message: dict[str, Any] = {"type": "upvote", "question_id": 1}
        if ref is not None:
            message["ref"] = ref
        sender.socket.send(message)
        error = sender.socket.recv_until(lambda m: m["type"] in {"error", "reply"})[-1]
        assert (error["type"], error["code"]) == ("error", "invalid_ref")
    poll = open_poll(moderator)
    option = poll["options"][0]["id"]
    refs = [f"b{i}" for i in range(10)]
    for ref in refs:
        sender.socket.send({"type": "ballot", "ref": ref, "poll_id": poll["id"], "options": [option]})
    replies = [m for m in sender.socket.recv_until(lambda m: m.get("ref") == refs[-1]) if m["type"] == "reply"]
    assert [r["ref"] for r in replies] == refs
    assert [r["body"]["replaced"] for r in replies] == [False] + [True] * 9


# ---------------------------------------------------------------- per-device limits: the same 429


@pytest.fixture
def limited_server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path / "limited", env={"SMARTRLP_LIMITS": "question_device=2/1h, vote_device=2/1h"}).start()
    try:
        yield server
    finally:
        server.stop()
    server.assert_clean_log()


def test_the_per_device_limits_count_both_paths_together(limited_server: Server, viewer: Callable[..., Viewer]) -> None:
    sender = Device(viewer(on=limited_server))
    assert sender.http("POST", QUESTIONS, {"text": "Erste Frage"})[0] == 201
    assert sender.act({"type": "ask", "text": "Zweite Frage"})[0] == 201
    status, body = sender.act({"type": "ask", "text": "Dritte Frage"})
    assert status == 429
    assert body["error"]["code"] == "rate_limited"
    response = sender.viewer.http.post(QUESTIONS, json={"text": "Dritte Frage"})
    assert (response.status_code, response.json()["error"]["code"]) == (429, "rate_limited")
    # The reply says how long to wait, as Retry-After does.
    sender.socket.send({"type": "ask", "ref": "later", "text": "Vierte Frage"})
    reply = sender.socket.recv_until(lambda m: m.get("ref") == "later")[-1]
    assert reply["retry_after"] == int(response.headers["Retry-After"])
    # Two kept, whichever way they came; the refused ones are not.
    add_moderator(limited_server, "grenzen", "correct horse grenzen")
    moderator = viewer(on=limited_server, headers=bearer(create_token(limited_server, "grenzen")))
    assert {q["text"] for q in moderator.questions()} >= {"Erste Frage", "Zweite Frage"}
    assert not {"Dritte Frage", "Vierte Frage"} & {q["text"] for q in moderator.questions()}


# ---------------------------------------------------------------- bad frames cost nothing


def _raw_socket(server: Server) -> tuple[socket.socket, ClientProtocol]:
    """A websocket opened by hand, so that frames the websockets client would never send can be sent."""
    client = ClientProtocol(parse_uri(f"{server.ws_url}/ws/events/{SLUG}"))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    client.send_request(client.connect())
    sock.sendall(b"".join(client.data_to_send()))
    return sock, client


def _close_code(sock: socket.socket, client: ClientProtocol) -> int | None:
    """Read until the server's close frame; its code."""
    deadline = time.monotonic() + 10
    while client.close_rcvd is None and time.monotonic() < deadline:
        data = sock.recv(1 << 16)
        if not data:
            break
        client.receive_data(data)
        client.events_received()
    return client.close_rcvd.code if client.close_rcvd else None


@pytest.mark.parametrize(
    "frames",
    [
        [Frame(Opcode.TEXT, b'{"type": "ping", "x": "\xff\xfe"}')],
        [Frame(Opcode.TEXT, b"\xc3\x28")],
        # Fragmented: the second half breaks the first's character.
        [Frame(Opcode.TEXT, b'{"type": "\xc3', fin=False), Frame(Opcode.CONT, b'(ping"}')],
    ],
    ids=["in-json", "bare", "fragmented"],
)
def test_invalid_utf8_is_closed_with_1007_and_logs_nothing(shared_server: Server, frames: list[Frame]) -> None:
    mark = shared_server.log_size()
    for _ in range(20):
        sock, client = _raw_socket(shared_server)
        with sock:
            while client.handshake_exc is None and not any(
                isinstance(e, Frame) for e in client.events_received()
            ):  # up to the snapshot: the socket is live
                client.receive_data(sock.recv(1 << 16))
            for frame in frames:
                client.send_frame(frame)
            sock.sendall(b"".join(client.data_to_send()))
            assert _close_code(sock, client) == protocol.CLOSE_INVALID_DATA
    log = shared_server.log_path.read_bytes()[mark:].decode("utf-8", "replace")
    assert "Traceback" not in log
    assert "ERROR" not in log
    assert "Invalid UTF-8" not in log


def test_a_character_split_across_fragments_is_fine(shared_server: Server) -> None:
    sock, client = _raw_socket(shared_server)
    with sock:
        received: list[Any] = []
        while not received:
            client.receive_data(sock.recv(1 << 16))
            received = [e for e in client.events_received() if isinstance(e, Frame)]
        ping = '{"type": "ping", "note": "Grüße"}'.encode()
        cut = ping.index("ü".encode()) + 1
        client.send_frame(Frame(Opcode.TEXT, ping[:cut], fin=False))
        client.send_frame(Frame(Opcode.CONT, ping[cut:]))
        sock.sendall(b"".join(client.data_to_send()))
        while True:
            client.receive_data(sock.recv(1 << 16))
            texts = [json.loads(e.data) for e in client.events_received() if isinstance(e, Frame)]
            if any(t["type"] == "pong" for t in texts):
                break


# ---------------------------------------------------------------- a restart waits for the replies under way


def test_a_server_stopping_answers_the_action_under_way_before_it_says_goodbye(
    server: Server, viewer: Callable[..., Viewer], moderator_token: str
) -> None:
    staff = viewer(headers=bearer(moderator_token))
    poll = open_poll(staff)
    sender = Device(viewer())
    # Another connection holds the database's write lock: the ballot waits for it inside the server.
    blocker = sqlite3.connect(server.db_path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        sender.socket.send(
            {"type": "ballot", "ref": "mitten", "poll_id": poll["id"], "options": [poll["options"][0]["id"]]}
        )
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        wait_until(lambda: "Shutting down" in server.log(current_run_only=True), what="the server to start stopping")
        blocker.execute("COMMIT")
    finally:
        blocker.close()
    reply = sender.socket.recv_until(lambda m: m.get("type") == "reply")[-1]
    assert (reply["ref"], reply["status"], reply["body"]["replaced"]) == ("mitten", 201, False)
    assert sender.socket.wait_closed() == protocol.CLOSE_GOING_AWAY
    server.process.wait(timeout=15)
    server.start()
    assert staff.http.get(f"{POLLS}/{poll['id']}").json()["results"]["total"] == 1
