"""The live websocket over real connections: snapshot, who hears what, resume, restart, many moderators."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from socket import SO_RCVBUF, SOL_SOCKET
from socket import socket as tcp_socket
from typing import Any

import pytest
from fixtures import (
    SLUG,
    Server,
    Viewer,
    add_moderator,
    bearer,
    create_token,
    ws_connect,
)
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, Frame, Opcode

QUESTIONS = f"/api/events/{SLUG}/questions"


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], moderator_token: str) -> Viewer:
    return viewer(headers=bearer(moderator_token))


@pytest.fixture
def shared_moderator(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    return viewer(headers=bearer(shared_moderator_token))


def head_seq(who: Viewer) -> int:
    return who.http.get(f"/api/events/{SLUG}").json()["seq"]


def is_question(question_id: int, status: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def matches(message: dict[str, Any]) -> bool:
        if message["type"] != "question" or message["question"]["id"] != question_id:
            return False
        return status is None or message["question"]["status"] == status

    return matches


def until_seq(seq: int) -> Callable[[dict[str, Any]], bool]:
    return lambda message: message.get("seq", -1) >= seq


def changes_only(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] in {"question", "votes", "on_air", "event"}]


# ---------------------------------------------------------------- the first message


def test_first_message_is_a_snapshot_of_what_each_may_see(
    server: Server,
    viewer: Callable[..., Viewer],
    moderator: Viewer,
    moderator_credentials: tuple[str, str],
) -> None:
    asker = viewer()
    pending = asker.ask("Noch nicht freigegeben")
    public = asker.ask("Schon freigegeben")
    moderator.moderate(public["id"], status="approved")
    assert asker.http.post(f"{QUESTIONS}/{public['id']}/votes").status_code == 200
    seq = head_seq(moderator)

    snapshot = viewer().ws().recv()
    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] == seq
    assert snapshot["role"] == "viewer"
    assert snapshot["event"]["slug"] == SLUG
    assert snapshot["event"]["title"].startswith("Smart RLP")
    assert [q["id"] for q in snapshot["questions"]] == [public["id"]]
    assert snapshot["questions"][0]["mine"] is False
    assert snapshot["questions"][0]["votes"] == 1
    assert snapshot["voted"] == []

    own = asker.ws().recv()
    assert own["type"] == "snapshot"
    assert {q["id"]: q["mine"] for q in own["questions"]} == {pending["id"]: True, public["id"]: True}
    assert own["voted"] == [public["id"]]

    for staff in (moderator, viewer(credentials=moderator_credentials)):
        snapshot = staff.ws().recv()
        assert snapshot["role"] == "moderator"
        assert {q["id"] for q in snapshot["questions"]} == {pending["id"], public["id"]}
        assert all("mine" not in q for q in snapshot["questions"])

    # A bad token on a websocket is no reason to fail: it is simply a viewer.
    snapshot = viewer(headers={}).ws(headers=bearer("srl_not-a-token")).recv()
    assert snapshot["role"] == "viewer"
    assert pending["id"] not in {q["id"] for q in snapshot["questions"]}


def test_unknown_event_closes_with_4404(shared_server: Server) -> None:
    with ws_connect(shared_server, "/ws/events/no-such-event") as connection, pytest.raises(ConnectionClosed) as closed:
        connection.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4404


def test_a_plain_http_get_on_the_websocket_is_not_a_5xx(shared_server: Server) -> None:
    with shared_server.client() as client:
        assert client.get(f"/ws/events/{SLUG}").status_code < 500


# ---------------------------------------------------------------- who hears what


def test_pending_questions_reach_only_the_asker_and_moderators(
    server: Server, viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    asker, bystander = viewer(), viewer()
    asker_ws, bystander_ws, staff_ws = asker.ws(), bystander.ws(), moderator.ws()
    for socket in (asker_ws, bystander_ws, staff_ws):
        assert socket.recv()["type"] == "snapshot"

    question = asker.ask("Wann kommt das teilautonome Fahren nach Kaiserslautern?")
    created = asker_ws.recv()
    assert created["type"] == "question"
    assert created["question"]["id"] == question["id"]
    assert created["question"]["status"] == "pending"
    assert staff_ws.recv() == created

    # Rejected while still pending: the asker and the moderators hear of it, nobody else.
    rejected = moderator.moderate(question["id"], status="rejected")
    assert asker_ws.recv()["question"]["status"] == "rejected"
    assert staff_ws.recv()["question"] == rejected

    # Another viewer's question, approved: the bystander's very next message is that approval, so neither
    # the pending question above nor its rejection ever reached them.
    other = viewer().ask("Eine öffentliche Frage")
    moderator.moderate(other["id"], status="approved")
    approval = bystander_ws.recv()
    assert approval["type"] == "question"
    assert approval["question"]["id"] == other["id"]
    assert approval["question"]["status"] == "approved"
    assert "device_id" not in json.dumps(approval)
    # The asker did not hear of the other viewer's pending question either.
    assert asker_ws.recv() == approval

    # Approving the asker's question makes it public: now everyone hears of it.
    moderator.moderate(question["id"], status="approved")
    for socket in (asker_ws, bystander_ws):
        message = socket.recv()
        assert (message["question"]["id"], message["question"]["status"]) == (question["id"], "approved")
    staff_seen = staff_ws.recv_until(is_question(question["id"], "approved"))
    assert [m["question"]["status"] for m in staff_seen] == ["pending", "approved", "approved"]


def test_a_question_taken_back_from_the_public_is_announced_to_viewers(
    server: Server, viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    question = viewer().ask("Erst freigegeben, dann zurückgezogen")
    moderator.moderate(question["id"], status="approved")
    watcher = viewer().ws()
    watcher.recv()
    moderator.moderate(question["id"], status="rejected")
    message = watcher.recv()
    assert (message["question"]["id"], message["question"]["status"]) == (question["id"], "rejected")


def test_votes_and_on_air_are_broadcast(server: Server, viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    question = viewer().ask("Welche Projekte helfen Kommunen?")
    moderator.moderate(question["id"], status="approved")
    watcher = viewer().ws()
    watcher.recv()

    before = time.time() * 1000
    assert viewer().http.post(f"{QUESTIONS}/{question['id']}/votes").json()["votes"] == 1
    votes = watcher.recv()
    # `at`: the server's time of the change, in milliseconds since the epoch.
    assert before - 1 <= votes.pop("at") <= time.time() * 1000 + 1
    assert votes == {"type": "votes", "seq": head_seq(moderator), "question_id": question["id"], "votes": 1}

    moderator.moderate(question["id"], highlighted=True)
    changed, on_air = watcher.recv(), watcher.recv()
    assert changed["question"]["highlighted"] is True
    assert on_air["type"] == "on_air"
    assert on_air["question_id"] == question["id"]
    assert on_air["question"]["id"] == question["id"]
    assert on_air["seq"] == changed["seq"] + 1

    moderator.moderate(question["id"], status="answered")
    changed, on_air = watcher.recv(), watcher.recv()
    assert changed["question"]["status"] == "answered"
    assert changed["question"]["answered_at"]
    assert (on_air["type"], on_air["question_id"], on_air["question"]) == ("on_air", None, None)


def test_messages_carry_increasing_seq(server: Server, viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    staff_ws, viewer_ws = moderator.ws(), viewer().ws()
    start = staff_ws.recv()["seq"]
    assert viewer_ws.recv()["seq"] == start
    asker = viewer()
    for number in range(4):
        question = asker.ask(f"Frage {number}")
        if number % 2:
            moderator.moderate(question["id"], status="approved")
    head = head_seq(moderator)
    staff_seqs = [m["seq"] for m in staff_ws.recv_until(until_seq(head))]
    assert staff_seqs == list(range(start + 1, head + 1)), "moderators see every change, without gaps"
    viewer_seqs = [m["seq"] for m in viewer_ws.recv_until(until_seq(head))]
    assert viewer_seqs == sorted(set(viewer_seqs))
    assert len(viewer_seqs) == 2  # only the two approvals were public


# ---------------------------------------------------------------- resuming


def test_resume_replays_exactly_the_missed_visible_changes(
    server: Server, viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    me, stayer, stranger = viewer(), viewer(), viewer()
    first = me.ws()
    last_seq = first.recv()["seq"]
    first.close()
    staff_ws, stayer_ws = moderator.ws(), stayer.ws()
    assert staff_ws.recv()["seq"] == stayer_ws.recv()["seq"] == last_seq

    # While I am away:
    theirs = stranger.ask("Fremde Frage, bleibt offen")  # staff only: not for me
    public = stranger.ask("Fremde Frage, wird freigegeben")
    moderator.moderate(public["id"], status="approved")  # public
    mine = me.ask("Meine eigene Frage")  # staff, but mine
    moderator.moderate(mine["id"], status="rejected")  # staff, but mine
    assert stayer.http.post(f"{QUESTIONS}/{public['id']}/votes").status_code == 200  # public
    moderator.moderate(public["id"], highlighted=True)  # public: the question, then on_air
    moderator.moderate(theirs["id"], text="Überarbeitet, aber weiter offen")  # staff only, and the last change
    head = head_seq(moderator)
    staff_live = staff_ws.recv_until(until_seq(head))
    public_live = stayer_ws.recv_until(until_seq(head - 1))
    assert len(staff_live) == 9
    assert len(public_live) == 4

    resumed = me.ws(since=last_seq)
    replay = resumed.recv_until(lambda m: m["type"] == "synced")
    assert replay[-1] == {"type": "synced", "seq": head}
    replayed = replay[:-1]
    # Exactly what was visible to me, in order and as broadcast: the public changes and my own question's.
    assert replayed == [m for m in staff_live if m in public_live or m.get("question", {}).get("id") == mine["id"]]
    assert [m for m in replayed if m not in public_live] == [m for m in staff_live if is_question(mine["id"])(m)]
    assert theirs["id"] not in {m.get("question", {}).get("id") for m in replayed}

    # A moderator resuming from the same point gets every change, each once.
    staff_replay = viewer(headers=bearer(moderator.http.headers["authorization"].split()[1])).ws(since=last_seq)
    assert staff_replay.recv_until(lambda m: m["type"] == "synced")[:-1] == staff_live

    # Live changes follow the replay on the same connection.
    moderator.moderate(public["id"], status="answered")
    assert resumed.recv()["question"]["status"] == "answered"
    assert resumed.recv()["type"] == "on_air"


def test_resume_at_the_head_sends_only_synced(server: Server, viewer: Callable[..., Viewer]) -> None:
    me = viewer()
    me.ask("Damit es überhaupt eine Änderung gibt")
    head = head_seq(me)
    assert me.ws(since=head).recv() == {"type": "synced", "seq": head}


@pytest.mark.parametrize("since", ["999999", "abc", "-1", "1.5", "%C2%B2", "%D9%A1", "9" * 30, ""])
def test_a_since_that_cannot_be_resumed_gets_a_snapshot(viewer: Callable[..., Viewer], since: str) -> None:
    socket = viewer().ws(since=since)
    assert socket.recv()["type"] == "snapshot"


def test_resume_after_a_restart(server: Server, viewer: Callable[..., Viewer], moderator_token: str) -> None:
    moderator = viewer(headers=bearer(moderator_token))
    before = viewer().ask("Vor dem Neustart gestellt")
    moderator.moderate(before["id"], status="approved")
    watcher = viewer()
    socket = watcher.ws()
    last_seq = socket.recv()["seq"]
    assert last_seq == head_seq(moderator)

    server.restart()  # SIGTERM, then the same port and database
    code = socket.wait_closed()
    assert code == 1001, "going away: the server closes live connections cleanly when it stops"

    after = viewer().ask("Nach dem Neustart gestellt")
    changed = moderator.moderate(after["id"], status="approved")
    moderator.moderate(before["id"], status="answered")
    head = head_seq(moderator)
    assert head == last_seq + 3, "sequence numbers carry on across the restart"

    replay = watcher.ws(since=last_seq).recv_until(lambda m: m["type"] == "synced")
    assert [(m["type"], m.get("question", {}).get("id"), m.get("question", {}).get("status")) for m in replay] == [
        ("question", after["id"], "approved"),
        ("question", before["id"], "answered"),
        ("synced", None, None),
    ]
    assert replay[0]["question"] == changed
    assert [m["seq"] for m in replay] == [last_seq + 2, last_seq + 3, head]
    # And a newcomer's snapshot has everything that was stored before the restart.
    snapshot = viewer().ws().recv()
    assert {q["id"] for q in snapshot["questions"]} == {before["id"], after["id"]}
    assert snapshot["seq"] == head


# ---------------------------------------------------------------- client messages


def test_ping_gets_a_pong(viewer: Callable[..., Viewer]) -> None:
    socket = viewer().ws()
    seq = socket.recv()["seq"]
    before = time.time() * 1000
    socket.send({"type": "ping"})
    pong = socket.recv()
    after = time.time() * 1000
    # `now`: the server's clock, from which a page keeps its offset to the server (same machine here).
    assert {k: v for k, v in pong.items() if k != "now"} == {"type": "pong", "seq": seq}
    assert before - 1 <= pong["now"] <= after + 1
    socket.send({"type": "ping", "extra": [1, 2, 3]})
    assert socket.recv()["type"] == "pong"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "malformed_json"),
        ("", "malformed_json"),
        ("[1, 2, 3]", "malformed_json"),
        ('"ping"', "malformed_json"),
        ("null", "malformed_json"),
        ("[" * 3000, "malformed_json"),
        (b"\x00\x01binary", "binary_not_supported"),
        ('{"type": "subscribe"}', "unknown_type"),
        ('{"no": "type"}', "unknown_type"),
        ('{"type": ["ping"]}', "unknown_type"),
        ('{"type": "ping", "pad": "' + "x" * 5000 + '"}', "message_too_large"),
    ],
    ids=[
        "broken",
        "empty",
        "array",
        "string",
        "null",
        "nested-too-deep",
        "binary",
        "unknown-type",
        "no-type",
        "list-type",
        "too-large",
    ],
)
def test_bad_client_messages_get_an_error_and_the_connection_stays_usable(
    viewer: Callable[..., Viewer], shared_moderator: Viewer, frame: str | bytes, code: str
) -> None:
    socket = viewer().ws()
    socket.recv()
    socket.send(frame)
    error = socket.recv()
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    socket.send({"type": "ping"})
    assert socket.recv()["type"] == "pong"
    # Still subscribed: a public change arrives.
    question = viewer().ask("Kommt trotzdem an")
    shared_moderator.moderate(question["id"], status="approved")
    assert socket.recv()["question"]["id"] == question["id"]


def test_clients_that_leave_abruptly_leave_no_errors_behind(server: Server, viewer: Callable[..., Viewer]) -> None:
    """A ping and a close in one packet: the pong meets a closed connection, which is no server error."""
    me = viewer()
    ping = Frame(Opcode.TEXT, b'{"type":"ping"}').serialize(mask=True, extensions=[])
    close = Frame(Opcode.CLOSE, Close(1000, "bye").serialize()).serialize(mask=True, extensions=[])
    for _ in range(5):
        socket = me.ws(headers={})
        socket.recv()
        socket.connection.socket.sendall(ping + close)  # bypasses the client library on purpose
        socket.wait_closed()

    # The server finishes with a closed connection within a few turns of its event loop; a full round
    # trip on a new connection (handshake, snapshot from the database, ping, pong) takes longer than that.
    last = me.ws(headers={})
    last.recv()
    last.send({"type": "ping"})
    assert last.recv()["type"] == "pong"
    assert not server.unexpected_errors(), server.log()


# ---------------------------------------------------------------- several moderators


def test_moderators_working_at_once_lose_nothing_and_do_nothing_twice(
    server: Server, viewer: Callable[..., Viewer]
) -> None:
    for name in ("alice", "bob"):
        add_moderator(server, name, f"{name} hat ein langes Passwort")
    alice = viewer(headers=bearer(create_token(server, "alice")))
    bob = viewer(headers=bearer(create_token(server, "bob")))
    asker = viewer()
    q = [asker.ask(f"Frage {n} an das Podium")["id"] for n in range(12)]
    alice_ws, bob_ws = alice.ws(), bob.ws()
    start = alice_ws.recv()["seq"]
    assert bob_ws.recv()["seq"] == start

    barrier = threading.Barrier(2)

    def patch(who: Viewer, question_id: int, body: dict[str, Any]) -> int:
        barrier.wait(timeout=10)  # both requests leave at the same moment
        return who.http.patch(f"{QUESTIONS}/{question_id}", json=body).status_code

    def at_once(first: tuple[Viewer, int, dict[str, Any]], second: tuple[Viewer, int, dict[str, Any]]) -> list[int]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(lambda args: patch(*args), [first, second]))

    for n in range(4):  # different questions: Alice approves one while Bob rejects another
        assert at_once((alice, q[n], {"status": "approved"}), (bob, q[8 + n], {"status": "rejected"})) == [200, 200]
    for n in range(4, 8):  # the same question, the same change: applied once, the repeat changes nothing
        assert at_once((alice, q[n], {"status": "approved"}), (bob, q[n], {"status": "approved"})) == [200, 200]
    # The same question, different changes, both made on the version they saw: exactly one wins.
    contested = at_once(
        (alice, q[0], {"status": "answered", "version": 2}), (bob, q[0], {"highlighted": True, "version": 2})
    )
    assert sorted(contested) == [200, 409]
    alice_won = contested[0] == 200

    final = {question["id"]: question for question in alice.questions()}
    assert final[q[0]]["version"] == 3
    assert (final[q[0]]["status"], final[q[0]]["highlighted"]) == (
        ("answered", False) if alice_won else ("approved", True)
    )
    for n in range(1, 8):
        assert (final[q[n]]["status"], final[q[n]]["version"]) == ("approved", 2)
    for n in range(8, 12):
        assert (final[q[n]]["status"], final[q[n]]["version"]) == ("rejected", 2)

    head = head_seq(alice)
    # One change per action that changed something (putting a question on air adds an on_air message).
    assert head == start + 13 + (0 if alice_won else 1)
    alice_seen = alice_ws.recv_until(until_seq(head))
    bob_seen = bob_ws.recv_until(until_seq(head))
    assert alice_seen == bob_seen, "each moderator sees the other's changes, in the same order"
    assert [m["seq"] for m in alice_seen] == list(range(start + 1, head + 1))
    per_question = Counter(m["question"]["id"] for m in alice_seen if m["type"] == "question")
    assert per_question == {q[0]: 2, **{q[n]: 1 for n in range(1, 12)}}
    # The change log (a moderator's replay) tells the same story as the live stream.
    replay = viewer(headers=bearer(create_token(server, "alice"))).ws(since=start)
    assert replay.recv_until(lambda m: m["type"] == "synced")[:-1] == alice_seen

    # Each undo takes back only that moderator's own last action, and nothing else.
    for who in (alice, bob):
        before = {question["id"]: question for question in who.questions()}
        response = who.http.post(f"/api/events/{SLUG}/moderation/undo")
        assert response.status_code == 200, response.text
        undone = response.json()["question"]
        after = {question["id"]: question for question in who.questions()}
        assert [i for i in q if after[i] != before[i]] == [undone["id"]]
        if who is alice and alice_won:
            assert (undone["id"], undone["status"]) == (q[0], "approved")
        elif who is bob and not alice_won:
            assert (undone["id"], undone["status"], undone["highlighted"]) == (q[0], "approved", False)
        else:
            assert undone["status"] == "pending"


# ---------------------------------------------------------------- a viewer that stops reading


def test_a_viewer_that_stops_reading_is_closed_with_4008_and_delays_no_one(tmp_path: Any) -> None:
    """Broadcasts are written to every connection at once; one that cannot take them is closed, not waited for."""
    server = Server(tmp_path, env={"SMARTRLP_WS_SEND_BUFFER_BYTES": "16384"}).start()
    try:
        add_moderator(server, "slow-test", "ein langes Passwort 1")
        headers = bearer(create_token(server, "slow-test"))
        # A raw socket with a tiny receive window that reads nothing after the handshake.
        stalled = tcp_socket()
        stalled.setsockopt(SOL_SOCKET, SO_RCVBUF, 2048)  # before connecting: the window is agreed then
        stalled.connect(("127.0.0.1", server.port))
        stalled.sendall(
            f"GET /ws/events/{SLUG} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {server.url}\r\nAuthorization: {headers['Authorization']}\r\n\r\n".encode()
        )
        with (
            ws_connect(server, f"/ws/events/{SLUG}", headers=headers) as reader,
            server.client(headers=headers) as http,
        ):
            json.loads(reader.recv(timeout=10))
            titles = [f"Umfrage {i}: " + "Wie sollen die Fördermittel verteilt werden?" * 4 for i in range(80)]
            # Each poll is broadcast to staff with its options, 1.5 kB: 120 kB in all, more than
            # the stalled connection can hold in its buffers (2 × 16 kB in the kernel, 16 kB of our own).
            options = [f"Antwort {k} " + "mit etwas mehr Text " * 4 for k in range(12)]
            for title in titles:
                response = http.post(
                    f"/api/events/{SLUG}/polls", json={"title": title, "kind": "single", "options": options}
                )
                assert response.status_code == 201, response.text
            # The reading moderator gets every one of them, however stuck the other connection is.
            got = []
            while len(got) < len(titles):
                message = json.loads(reader.recv(timeout=10))
                if message["type"] == "poll":
                    got.append(message["poll"]["title"])
            assert got == titles
        # The stalled connection, read at last: what fitted into its buffers, then the close frame 4008.
        stalled.settimeout(15)
        data = b""
        while (close := _close_frame(data)) is None:
            chunk = stalled.recv(65536)
            assert chunk, "the connection ended without a close frame"
            data += chunk
        assert close == 4008  # CLOSE_TOO_SLOW: the client resumes from its last seq
        stalled.close()
        assert not server.unexpected_errors(), server.log()
    finally:
        server.stop()


def _close_frame(data: bytes) -> int | None:
    """The code of the first close frame in a server's byte stream (after the handshake), if it is there yet."""
    _, found, rest = data.partition(b"\r\n\r\n")
    while found and len(rest) >= 2:
        length, start = rest[1] & 0x7F, 2
        if length >= 126:
            start = 4 if length == 126 else 10
            if len(rest) < start:
                return None
            length = int.from_bytes(rest[2:start], "big")
        if len(rest) < start + length:
            return None
        if rest[0] & 0x0F == Opcode.CLOSE:
            return int.from_bytes(rest[start : start + 2], "big")
        rest = rest[start + length :]
    return None
