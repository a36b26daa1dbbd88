"""docs/deploy.md as users run it: its nginx configuration in front of the real server, and its systemd unit.

The configuration is taken from the document itself, with only what must differ in a test replaced: the ports
(high ones on loopback), the certificate (self-signed, made here with openssl) and the log paths. nginx comes from
Debian's packages (the test command installs it) and runs unprivileged-style in a temporary prefix.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fixtures import PROJECT_ROOT, SLUG, LiveSocket, Server, free_port, wait_until
from websockets.sync.client import connect

from smartrlp.cli import build_parser

DEPLOY = PROJECT_ROOT / "docs" / "deploy.md"


def code_block(language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", DEPLOY.read_text(encoding="utf-8"), re.DOTALL)
    assert match, f"docs/deploy.md has no ```{language} block"
    return match.group(1)


class Nginx:
    def __init__(self, directory: Path, upstream: Server) -> None:
        self.directory = directory
        self.http_port, self.https_port = free_port(), free_port()
        self.cert, self.key = directory / "cert.pem", directory / "key.pem"
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
                *("-keyout", str(self.key), "-out", str(self.cert), "-days", "1", "-subj", "/CN=127.0.0.1"),
                *("-addext", "subjectAltName=IP:127.0.0.1"),
            ],
            check=True,
            capture_output=True,
        )
        site = code_block("nginx")
        replacements = {
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream.port};",
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen 443 ssl": f"listen 127.0.0.1:{self.https_port} ssl",
            "/etc/letsencrypt/live/live.example.de/fullchain.pem": str(self.cert),
            "/etc/letsencrypt/live/live.example.de/privkey.pem": str(self.key),
            "/var/log/nginx/": f"{directory}/",
        }
        for old, new in replacements.items():
            assert old in site, f"the nginx configuration in docs/deploy.md no longer has {old!r}"
            site = site.replace(old, new)
        # The test machine may have no IPv6 loopback.
        site = "\n".join(line for line in site.splitlines() if "[::]" not in line)
        temp = "\n".join(
            f"    {kind}_temp_path {directory}/{kind}_temp;"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        # As root nginx would hand its workers to "nobody", who cannot write in the test's directories.
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.conf = directory / "nginx.conf"
        self.conf.write_text(
            f"{user}worker_processes 1;\nevents {{ worker_connections 256; }}\n"
            f"http {{\n    access_log {directory}/access.log;\n{temp}\n{site}\n}}\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        assert Path(binary).exists(), "nginx is missing: the test command installs Debian's nginx package"
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
            assert self.process.poll() is None, f"nginx exited:\n{self.log()}"
            try:
                httpx.get(f"http://127.0.0.1:{self.http_port}/", timeout=1)
            except httpx.TransportError:
                return False
            return True

        wait_until(answers, timeout=10, what="nginx to listen")
        return self

    def log(self) -> str:
        return "\n".join(
            p.read_text("utf-8", "replace")
            for p in (self.directory / "nginx.out", self.directory / "error.log")
            if p.exists()
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory, shared_server: Server) -> Iterator[Nginx]:
    proxy = Nginx(tmp_path_factory.mktemp("nginx"), shared_server)
    try:
        yield proxy.start()
    finally:
        proxy.stop()


def test_a_page_and_a_websocket_round_trip_through_nginx(nginx: Nginx) -> None:
    trusted = ssl.create_default_context(cafile=str(nginx.cert))
    base = f"https://127.0.0.1:{nginx.https_port}"

    # Plain HTTP is redirected to HTTPS.
    redirect = httpx.get(f"http://127.0.0.1:{nginx.http_port}/e/{SLUG}?x=1")
    assert redirect.status_code == 301
    # $host has no port: in production HTTPS is on 443.
    assert redirect.headers["location"] == f"https://127.0.0.1/e/{SLUG}?x=1"

    with httpx.Client(base_url=base, verify=trusted, timeout=10) as browser:
        page = browser.get(f"/e/{SLUG}")
        assert page.status_code == 200
        assert "Smart RLP" in page.text
        assert page.headers["strict-transport-security"].startswith("max-age=")
        assert browser.cookies.get("srl_device"), "the device cookie came through the proxy"
        # The body limit is nginx's as well as the server's.
        too_big = browser.post(f"/api/events/{SLUG}/questions", json={"text": "x" * 70_000})
        assert too_big.status_code == 413

        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)
        url = f"wss://127.0.0.1:{nginx.https_port}/ws/events/{SLUG}"
        with connect(url, ssl=trusted, additional_headers={"Cookie": cookie}, open_timeout=10) as connection:
            live = LiveSocket(connection)
            assert live.recv()["type"] == "snapshot"
            live.send({"type": "ping"})
            assert live.recv()["type"] == "pong"
            # A change made over HTTPS arrives on the websocket, both through nginx.
            asked = browser.post(f"/api/events/{SLUG}/questions", json={"text": "Kommt das durch den Proxy?"})
            assert asked.status_code == 201, asked.text
            live.recv_until(lambda m: m["type"] == "question" and m["question"]["id"] == asked.json()["id"])
    assert "[emerg]" not in nginx.log()


def test_the_systemd_unit_starts_a_valid_command(tmp_path: Path) -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    unit.read_string(code_block("ini"))
    service = unit["Service"]
    for key in ("User", "WorkingDirectory", "Environment", "Restart", "LimitNOFILE", "KillSignal", "TimeoutStopSec"):
        assert key in service, f"the unit has no {key}="
    assert service["Restart"] == "on-failure"
    assert int(service["LimitNOFILE"]) > 10_000
    command = shlex.split(service["ExecStart"])
    assert command[0].endswith("/smartrlp")
    args = build_parser().parse_args(command[1:])
    assert (args.command, args.host, args.workers) == ("serve", "127.0.0.1", 2)

    # systemd's own check where the machine has it (it warns, but still exits 0, about values it ignores).
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return
    text = code_block("ini").replace(command[0], str(Path(sys.executable).parent / "smartrlp"))
    text = text.replace("/srv/smartrlp/data", str(tmp_path))
    (tmp_path / "smartrlp.service").write_text(text, encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / "smartrlp.service")], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "ignoring" not in result.stderr + result.stdout, result.stderr
