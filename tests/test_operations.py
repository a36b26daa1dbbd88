"""`/metrics` and the moderator's live status on the real server: who may read them, and what they count."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import httpx
from fixtures import SLUG, Server, Viewer, add_moderator, bearer, create_token, wait_until

TOKEN = "scrape-me-9f3b2c"


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in the Prometheus text format, None when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" ([0-9.e+-]+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_metrics_are_off_unless_a_token_or_address_is_set(tmp_path: Path) -> None:
    server = Server(tmp_path, demo=False).start()
    try:
        with server.client() as client:
            assert client.get("/metrics").status_code == 404
            assert client.get("/metrics", headers=bearer("anything")).status_code == 404
    finally:
        server.stop()
    server.assert_clean_log()


def test_metrics_from_a_trusted_address_without_a_token(tmp_path: Path) -> None:
    server = Server(tmp_path, demo=False, env={"SMARTRLP_METRICS_ADDRESSES": "127.0.0.1/32"}).start()
    try:
        with server.client() as client:
            response = client.get("/metrics")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain")
        # From another address (still this machine, 127.0.0.2) it does not exist.
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=server.url, transport=transport, timeout=10) as other:
            assert other.get("/metrics").status_code == 404
    finally:
        server.stop()
    server.assert_clean_log()


def test_metrics_count_what_an_operator_watches(tmp_path: Path) -> None:
    env = {"SMARTRLP_METRICS_TOKEN": TOKEN, "SMARTRLP_LIMITS": "question_device=2/1h"}
    server = Server(tmp_path, env=env).start()
    try:
        with contextlib.ExitStack() as stack:
            scrape = stack.enter_context(server.client(headers=bearer(TOKEN)))
            assert stack.enter_context(server.client()).get("/metrics", headers=bearer("wrong")).status_code == 404
            add_moderator(server, "ops-moderator", "correct horse battery ops")
            moderator = Viewer(server, stack, headers=bearer(create_token(server, "ops-moderator")))
            viewers = [Viewer(server, stack) for _ in range(3)]
            sockets = [v.ws() for v in viewers]
            staff_socket = moderator.ws()
            for socket in [*sockets, staff_socket]:
                socket.recv_until(lambda m: m["type"] == "snapshot")

            status = moderator.http.get(f"/api/events/{SLUG}/status")
            assert status.status_code == 200
            assert status.json() == {"viewers": 3, "staff": 1, "storage": {"writable": True, "since": None}}
            assert viewers[0].http.get(f"/api/events/{SLUG}/status").status_code == 401

            asked = [viewers[0].ask(f"Frage {n} für die Messwerte?") for n in range(2)]
            refused = viewers[0].http.post(f"/api/events/{SLUG}/questions", json={"text": "Eine dritte Frage?"})
            assert refused.status_code == 429
            moderator.moderate(asked[0]["id"], status="approved", version=asked[0]["version"])

            text = scrape.get("/metrics").text
            assert metric(text, "smartrlp_live_connections", event=SLUG, role="viewer") == 3
            assert metric(text, "smartrlp_live_connections", event=SLUG, role="staff") == 1
            assert metric(text, "smartrlp_actions_total", kind="ask_question", outcome="ok") == 2
            assert metric(text, "smartrlp_actions_total", kind="ask_question", outcome="rate_limited") == 1
            assert metric(text, "smartrlp_actions_total", kind="update_question", outcome="ok") == 1
            assert metric(text, "smartrlp_refused_total", reason="rate_limited") == 1
            assert (metric(text, "smartrlp_broadcasts_total") or 0) >= 3
            assert (metric(text, "smartrlp_broadcast_fanout_seconds_count") or 0) >= 3
            assert metric(text, "smartrlp_broadcast_fanout_seconds_bucket", le="+Inf") is not None
            assert (metric(text, "smartrlp_commit_seconds_count") or 0) >= 3
            assert metric(text, "smartrlp_storage_writable") == 1
            assert metric(text, "smartrlp_slow_viewers_closed_total") == 0
            assert (metric(text, "process_open_fds") or 0) > 0
            assert (metric(text, "process_max_fds") or 0) > 0
            assert (metric(text, "process_resident_memory_bytes") or 0) > 0

            for socket in sockets:
                socket.close()
            wait_until(
                lambda: metric(scrape.get("/metrics").text, "smartrlp_live_connections", event=SLUG, role="viewer")
                == 0,
                what="the closed viewers to be counted out",
            )
    finally:
        server.stop()
    server.assert_clean_log()
