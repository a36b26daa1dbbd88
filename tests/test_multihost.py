"""Several hosts: two app hosts on one PostgreSQL and one Redis, nginx in front, as docs/deploy.md sets them up.

The hosts listen on two loopback addresses of their own (127.0.0.2 and 127.0.0.3): traffic stays on this machine.
nginx sends everything to host A while it is up and to host B when it is not (`backup`), so the test knows which
host a viewer is on; changes are made directly through host B, as a moderator on the other host would.

- A viewer on host A sees the changes made through host B, each once, in sequence order.
- Host A is killed mid-event (SIGKILL); its viewer reconnects through nginx, lands on host B and resumes from its
  last sequence number without losing a change.
- A per-address budget is one budget, whichever host answers (Redis holds it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures import SLUG, LiveSocket, Server, Viewer, add_moderator, bearer, create_token, free_port, wait_until
from pgserver import TEMPLATE, PostgresServer
from test_scaleout import RedisServer
from websockets.sync.client import connect

QUESTIONS = f"/api/events/{SLUG}/questions"


class Host(Server):
    """A server on a loopback address of its own, as one of several machines."""

    def __init__(self, directory: Path, address: str, **options: Any) -> None:
        super().__init__(directory, **options)
        self.address = address

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.address}:{self.port}"

    def command(self) -> list[str]:
        command = super().command()
        command[command.index("--host") + 1] = self.address
        return command


class Front:
    """nginx on 127.0.0.1 with both hosts as upstreams (B as the backup), proxying HTTP and websockets."""

    def __init__(self, directory: Path, primary: Host, backup: Host) -> None:
        self.directory = directory
        self.port = free_port()
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = "\n".join(f"    {kind}_temp_path {directory}/{kind}_temp;" for kind in ("client_body", "proxy"))
        self.conf = directory / "nginx.conf"
        self.conf.write_text(
            f"""{user}worker_processes 1;
events {{ worker_connections 256; }}
http {{
    access_log {directory}/access.log;
{temp}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream smartrlp {{
        server {primary.address}:{primary.port} max_fails=1 fail_timeout=30s;
        server {backup.address}:{backup.port} backup;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://smartrlp;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
            proxy_read_timeout 1h;
        }}
    }}
}}
""",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 10)
        return httpx.Client(base_url=f"http://127.0.0.1:{self.port}", **kwargs)

    def start(self) -> Front:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        globals_ = f"daemon off; pid {self.directory}/nginx.pid; error_log {self.directory}/error.log;"
        with (self.directory / "nginx.out").open("ab") as out:
            self.process = subprocess.Popen(
                [binary, "-p", str(self.directory), "-c", str(self.conf), "-g", globals_],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

        def answers() -> bool:
            assert self.process is not None
            assert self.process.poll() is None, "nginx exited"
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=10, what="nginx to answer")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _loopback_usable(address: str) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return False
    return True


@pytest.fixture
def cluster(postgres: PostgresServer, tmp_path: Path) -> Iterator[tuple[Host, Host, Front]]:
    if not _loopback_usable("127.0.0.2"):
        pytest.skip("this machine cannot bind 127.0.0.2")
    (tmp_path / "redis").mkdir()
    redis = RedisServer(tmp_path / "redis").start()
    url = postgres.new_database(TEMPLATE)
    env = {
        "SMARTRLP_BROKER": redis.url,
        "SMARTRLP_TRUSTED_PROXIES": "127.0.0.1",
        # Three questions per hour from one address: small enough to reach, whichever host counts.
        "SMARTRLP_LIMITS": "question_address=3/1h, login_address=2/15m",
    }
    # Generous: two hosts, PostgreSQL and Redis start on two cores that other suites may be using too.
    a = Host(tmp_path / "a", "127.0.0.2", db=url, env=env, startup_timeout=60)
    b = Host(tmp_path / "b", "127.0.0.3", db=url, env=env, demo=False, startup_timeout=60)
    front: Front | None = None
    try:
        a.start()
        b.start()
        front = Front(tmp_path, a, b).start()
        yield a, b, front
    finally:
        if front is not None:
            front.stop()
        b.stop()
        a.stop()
        redis.stop()
    b.assert_clean_log()


def test_viewers_follow_changes_across_hosts_and_survive_a_host(cluster: tuple[Host, Host, Front]) -> None:
    a, b, front = cluster
    add_moderator(b, "mod", "correct horse mod")
    moderator = bearer(create_token(b, "mod"))
    with contextlib.ExitStack() as stack:
        viewer = Viewer(front, stack)  # type: ignore[arg-type]  # nginx answers as a server does
        on_b = Viewer(b, stack, headers=moderator)
        watch = viewer.ws()
        last = watch.recv()["seq"]
        # Six visitors behind six addresses ask through host B (each address has a budget of three).
        asked = [
            Viewer(b, stack, headers={"X-Forwarded-For": f"198.51.100.{n}"}).ask(f"Frage über Host B Nummer {n}")["id"]
            for n in range(6)
        ]

        # Approved through host B: the viewer on host A sees each, once, in order.
        for question_id in asked[:3]:
            on_b.moderate(question_id, status="approved")
        seen = watch.recv_until(lambda m: m["type"] == "question" and m["question"]["id"] == asked[2])
        approved = [m["question"]["id"] for m in seen if m["type"] == "question"]
        assert approved == asked[:3]
        seqs = [m["seq"] for m in seen if "seq" in m]
        assert seqs == sorted(set(seqs)), "each change once, in order"
        last = seqs[-1]

        # Host A dies mid-event; changes go on through host B meanwhile.
        a.stop(signal.SIGKILL)
        watch.wait_closed()
        for question_id in asked[3:]:
            on_b.moderate(question_id, status="approved")
        head = on_b.http.get(f"/api/events/{SLUG}").json()["seq"]

        # The viewer reconnects through nginx (now to host B) from its last seq: nothing is lost.
        url = f"{front.ws_url}/ws/events/{SLUG}?since={last}"
        with connect(url, additional_headers={"Cookie": viewer.cookie_header()}, open_timeout=10) as connection:
            resumed = LiveSocket(connection)
            replay = resumed.recv_until(lambda m: m["type"] == "synced")
            assert replay[-1]["seq"] == head
            assert [m["question"]["id"] for m in replay if m["type"] == "question"] == asked[3:]


def test_a_per_address_budget_is_one_budget_on_every_host(cluster: tuple[Host, Host, Front]) -> None:
    a, b, _ = cluster
    # The same visitor address (as nginx forwards it) asks through host A, host A, host B, host A.
    answers = []
    with contextlib.ExitStack() as stack:
        for host in (a, a, b, b, a):
            device = Viewer(host, stack, headers={"X-Forwarded-For": "192.0.2.44"})
            answers.append(device.http.post(QUESTIONS, json={"text": "Gilt mein Kontingent überall?"}))
    assert [r.status_code for r in answers] == [201, 201, 201, 429, 429]
    assert answers[3].json()["error"]["code"] == "rate_limited"
    assert int(answers[3].headers["Retry-After"]) > 0


def test_failed_logins_from_one_address_lock_it_on_every_host(cluster: tuple[Host, Host, Front]) -> None:
    a, b, _ = cluster
    statuses = []
    for number, host in enumerate((a, b, a)):
        with host.client(headers={"X-Forwarded-For": "192.0.2.99"}) as client:
            response = client.post("/login", data={"name": f"rater{number}", "password": "falsch falsch falsch"})
        statuses.append(response.status_code)
    # The second failure (on host B) locks the address; host A knows it, although it saw only one failure.
    assert statuses == [401, 401, 429]
