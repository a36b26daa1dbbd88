"""The server's log on the real server: one JSON object per line when asked, no visitor addresses unless the access
log is on, and no traceback for what a client can cause (a broken request, a broken websocket, a vanished client)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
from fixtures import SLUG, Server, wait_until
from websockets.sync.client import connect

VISITOR = "127.0.0.2"  # a visitor's address (still this machine), to look for in the log


def visit_as_a_careless_or_hostile_client(server: Server) -> None:
    transport = httpx.HTTPTransport(local_address=VISITOR)
    with httpx.Client(base_url=server.url, transport=transport, timeout=10) as client:
        assert client.get(f"/e/{SLUG}").status_code == 200
        json_type = {"Content-Type": "application/json"}
        broken = client.post(f"/api/events/{SLUG}/questions", content=b"{not", headers=json_type)
        assert broken.status_code == 400
        assert client.get("/api/events/nope").status_code == 404
    # Not HTTP at all; a request cut off mid-body; a websocket that sends garbage and vanishes.
    cut_off = b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 99\r\n\r\n{"
    for data in (b"\x16\x03\x01\x02\x00garbage\r\n\r\n", cut_off):
        with socket.create_connection(("127.0.0.1", server.port), source_address=(VISITOR, 0)) as raw:
            raw.sendall(data)
            raw.shutdown(socket.SHUT_WR)
            raw.settimeout(10)
            while raw.recv(4096):
                pass
    with connect(f"{server.ws_url}/ws/events/{SLUG}", open_timeout=10) as ws:
        ws.recv(timeout=10)
        ws.send("{broken json")
        ws.send(b"\x00\x01")
        ws.socket.shutdown(socket.SHUT_RDWR)


def test_json_logs_one_object_per_line_without_visitor_addresses(tmp_path: Path) -> None:
    server = Server(tmp_path, env={"SMARTRLP_LOG_FORMAT": "json"}).start()
    try:
        visit_as_a_careless_or_hostile_client(server)
        with server.client() as client:  # the websocket's end has been handled once a later request is answered
            assert client.get("/healthz").status_code == 200
    finally:
        server.stop()
    lines = [line for line in server.log().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["logger"] == "smartrlp" and "database" in r["message"] for r in records)
    assert any(r["logger"].startswith("uvicorn") for r in records)
    assert not any("exception" in r for r in records), [r for r in records if "exception" in r]
    assert VISITOR not in server.log()
    assert VISITOR not in server.stdout()
    server.assert_clean_log()


def test_the_access_log_names_visitors_only_when_it_is_on(tmp_path: Path) -> None:
    server = Server(tmp_path, env={"SMARTRLP_LOG_FORMAT": "json", "SMARTRLP_ACCESS_LOG": "true"}).start()
    try:
        visit_as_a_careless_or_hostile_client(server)

        def access_records() -> list[dict[str, object]]:
            found = [json.loads(line) for line in server.stdout().splitlines() if line.startswith("{")]
            return [r for r in found if r.get("logger") == "uvicorn.access"]

        records = wait_until(access_records, what="access log records")
        assert any(str(r["client"]).startswith(VISITOR) and r["path"] == f"/e/{SLUG}" for r in records)
        assert all(isinstance(r["status"], int) for r in records)
    finally:
        server.stop()
    server.assert_clean_log()


def test_text_logs_have_no_visitor_addresses_or_tracebacks_either(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    try:
        visit_as_a_careless_or_hostile_client(server)
        with server.client() as client:
            assert client.get("/healthz").status_code == 200
    finally:
        server.stop()
    assert VISITOR not in server.log()
    server.assert_clean_log()
