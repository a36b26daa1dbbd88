"""Bad input never breaks the server: a property-based fuzz of the HTTP API from its own `/openapi.json`
(schemathesis), and of the live websocket (hypothesis), while a well-behaved client keeps being served.

The module has its own server; the HTTP fuzz aims at an event of its own (`fuzz`), so whatever it deletes or
changes, the demo event the websocket tests watch stays as it was.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from fixtures import LiveSocket, Server, Viewer, bearer, create_event, create_token
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

FUZZ_SLUG = "fuzz"
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
# Per operation; 21 operations. Enough to find the classic bugs (huge numbers, wrong types, odd unicode) while
# the whole fuzz stays under half a minute on a busy machine.
EXAMPLES_PER_OPERATION = 20


@pytest.fixture(scope="module")
def token(shared_server: Server) -> str:
    return create_token(shared_server, "demo")  # the demo administrator: every route is open to it


@pytest.fixture(scope="module")
def fuzz_event(shared_server: Server, token: str) -> dict[str, list[int]]:
    """The event the HTTP fuzz works on, with a question, a poll and a studio link it can find by id."""
    create_event(shared_server, FUZZ_SLUG, "Fuzz")
    with shared_server.client(headers=bearer(token)) as client:
        client.get(f"/api/events/{FUZZ_SLUG}")  # the device cookie
        base = f"/api/events/{FUZZ_SLUG}"
        question = client.post(f"{base}/questions", json={"text": "Eine Frage für den Fuzzer"}).json()
        poll = client.post(
            f"{base}/polls", json={"title": "Ja oder nein?", "kind": "single", "options": ["Ja", "Nein"]}
        )
        link = client.post(f"{base}/studio-links", json={"label": "Regie", "view": "present"})
        assert poll.status_code == 201, poll.text
        assert link.status_code == 201, link.text
        return {"question_id": [question["id"]], "poll_id": [poll.json()["id"]], "link_id": [link.json()["id"]]}


# ---------------------------------------------------------------- HTTP: schemathesis against /openapi.json


def test_the_api_answers_every_generated_request_within_its_schema(
    shared_server: Server, token: str, fuzz_event: dict[str, list[int]]
) -> None:
    schema = schemathesis.openapi.from_url(f"{shared_server.url}/openapi.json")
    session = requests.Session()
    session.get(f"{shared_server.url}/api/events/{FUZZ_SLUG}", timeout=10)  # a device cookie, like a browser
    session.headers["Authorization"] = f"Bearer {token}"  # moderator routes are fuzzed too
    mark = shared_server.log_size()
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]

    for operation in operations:
        # Half the cases go to the fuzz event and its real ids, so that they get past "not found".
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,  # the same cases every run: a failure here is reproducible
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), real=st.booleans(), pick=st.integers(0, 3))
        def run(case: Any, real: bool, pick: int) -> None:
            if real and "slug" in (case.path_parameters or {}):
                case.path_parameters["slug"] = FUZZ_SLUG
                for name, ids in fuzz_event.items():
                    if name in case.path_parameters:
                        case.path_parameters[name] = ids[pick % len(ids)] if pick else 999_999
            case.call_and_validate(session=session, checks=CHECKS, timeout=10)

        try:
            run()
        except BaseException as failure:  # schemathesis reports a group of failures (an ExceptionGroup)
            if isinstance(failure, KeyboardInterrupt):
                raise
            failures[operation.label] = str(failure)[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert not shared_server.unexpected_errors(since=mark), shared_server.log()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"/api/events/{FUZZ_SLUG}/agenda/current", {"item_id": -17526240494462144512}),
        (f"/api/events/{FUZZ_SLUG}/screen", {"mode": "poll", "poll_id": 2**63}),
        (f"/api/events/{FUZZ_SLUG}/questions", {"text": "Eine Frage", "panelist_id": 2**64}),
    ],
    ids=["agenda-item", "screen-poll", "question-panelist"],
)
def test_a_number_too_large_for_the_database_is_422_not_500(
    shared_server: Server, token: str, fuzz_event: dict[str, list[int]], path: str, body: dict[str, Any]
) -> None:
    """Found by the fuzz: `{"item_id": -17526240494462144512}` reached SQLite, which cannot hold it (500)."""
    with shared_server.client(headers=bearer(token)) as client:
        client.get(f"/api/events/{FUZZ_SLUG}")
        method = "POST" if path.endswith("/questions") else "PUT"
        response = client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid"


# ---------------------------------------------------------------- websocket


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
messages = st.fixed_dictionaries(
    {"type": st.sampled_from(["ping", "react", "subscribe", "", "PING", "react "]) | json_values},
    # No valid reaction kinds: real reactions would be broadcast to every socket for seconds after, unread here.
    optional={"kind": json_values | st.sampled_from(["", "APPLAUSE", "bomb"]), "seq": json_values, "x": json_values},
)
frames = st.one_of(
    messages.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
    st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth),  # nested deeper than json allows
    st.integers(1, 1500).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
)


@pytest.fixture
def watcher(shared_server: Server) -> Iterator[tuple[Viewer, LiveSocket, Viewer]]:
    """A well-behaved viewer's socket, and a moderator who makes changes it must receive promptly."""
    with contextlib.ExitStack() as stack:
        moderator = Viewer(shared_server, stack, headers=bearer(create_token(shared_server, "demo")))
        asker = Viewer(shared_server, stack)
        socket = asker.ws()
        socket.recv()
        yield asker, socket, moderator


def _is_ping(frame: str | bytes) -> bool:
    """Whether the server takes the frame for a ping, which it answers with a pong of its own."""
    if isinstance(frame, bytes) or len(frame) > 4096:
        return False
    try:
        data = json.loads(frame)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("type") == "ping"


def _still_served(asker: Viewer, socket: LiveSocket, moderator: Viewer, text: str) -> None:
    question = asker.ask(text)
    moderator.moderate(question["id"], status="approved")
    seen = socket.recv_until(
        lambda m: (
            m["type"] == "question" and m["question"]["id"] == question["id"] and m["question"]["status"] == "approved"
        ),
        timeout=3,
    )
    assert seen[-1]["question"]["text"] == text


def test_websocket_fuzz_never_breaks_the_connection_nor_disturbs_others(
    shared_server: Server, watcher: tuple[Viewer, LiveSocket, Viewer]
) -> None:
    asker, watching, moderator = watcher
    mark = shared_server.log_size()
    fuzzer = asker  # the same device as the well-behaved socket: a misbehaving tab on the same phone
    socket = fuzzer.ws()
    socket.recv()
    answered: list[str] = []

    @settings(max_examples=200, deadline=None, database=None, derandomize=True, phases=[Phase.generate])
    @given(frame=frames)
    def one_frame(frame: str | bytes) -> None:
        socket.send(frame)
        socket.send({"type": "ping"})
        # At most one answer to the frame (an error, or a pong to a ping), then our pong: the connection is fine.
        replies: list[dict[str, Any]] = []
        while sum(m["type"] == "pong" for m in replies) < 1 + _is_ping(frame):
            replies.append(socket.recv(timeout=5))
        assert len(replies) <= 2, replies
        assert all(m["type"] in {"error", "pong"} for m in replies), replies
        answered.extend(m.get("code", m["type"]) for m in replies[:-1])

    one_frame()
    assert {"malformed_json", "unknown_type", "binary_not_supported"} <= set(answered), set(answered)
    _still_served(asker, watching, moderator, "Nach dem Fuzzen freigegeben")

    # A flood of pings, sent without reading a single answer; meanwhile the others are served as usual.
    flood = 3000
    sender = threading.Thread(target=lambda: [socket.send('{"type":"ping"}') for _ in range(flood)])
    sender.start()
    _still_served(asker, watching, moderator, "Während der Ping-Flut freigegeben")
    sender.join(timeout=30)
    pongs = 0  # between them the changes this device may see (its own question)
    while pongs < flood:
        pongs += socket.recv(timeout=5)["type"] == "pong"
    socket.close()  # now: later changes would pile up unread in the client and slow its closing handshake

    # A frame over the frame limit (64 KiB) closes the connection with 1009 before it is read into memory.
    for huge in ("x" * 70_000, b"\x00" * 100_000):
        socket = fuzzer.ws()
        socket.recv()
        socket.send(huge)
        assert socket.wait_closed() == 1009
    _still_served(asker, watching, moderator, "Nach den Riesen-Frames freigegeben")
    assert not shared_server.unexpected_errors(since=mark), shared_server.log()
