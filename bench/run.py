"""The benchmark: fan-out, vote burst, question storm, memory and page weight; writes docs/performance.md.

    .venv/bin/python bench/run.py                      # the whole sweep (1k, 2k, 5k, 10k viewers)
    .venv/bin/python bench/run.py --sizes 1000 --rounds 5 --out /tmp/perf.md   # a quick look

It starts, one after the other on free loopback ports: the bare `websockets.broadcast` server
(bench/baseline_server.py) and the real server (`python -m smartrlp serve --demo`, plus `--server-args`
and `--server-env`), and drives both with the same load-client processes (bench/loadclient.py).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import itertools
import json
import os
import platform
import re
import resource
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import live_scenarios
import stores  # bench/stores.py, beside this file
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
SLUG = "smart-rlp"
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree(pid: int) -> list[int]:
    """The process and its descendants (for `--workers N`)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def rss(pid: int) -> int:
    total = 0
    for p in tree(pid):
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE_SIZE
        except OSError:
            pass
    return total


def cpu(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        except OSError:
            pass
    return total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def wait_listening(port: int, process: subprocess.Popen[bytes], name: str, timeout: float = 60) -> None:
    """Until `process` accepts connections on `port`; fails when it exits or the time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{name} exited"
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{name} did not start")


class LoadClient:
    _ids = itertools.count(1)

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.waiting: dict[tuple[int, str], asyncio.Future[dict[str, Any]]] = {}
        self.cpu = 0.0
        self.reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls) -> LoadClient:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bench" / "loadclient.py"),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, limit=2**27,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            reply = json.loads(line)
            key = (reply["id"], "armed" if reply.get("armed") else "done")
            self.cpu = reply.get("cpu", self.cpu)
            future = self.waiting.pop(key, None)
            if future is not None and not future.done():
                future.set_result(reply)

    def send(self, cmd: str, **args: Any) -> tuple[asyncio.Future[dict[str, Any]], asyncio.Future[dict[str, Any]]]:
        ident = next(self._ids)
        loop = asyncio.get_running_loop()
        done, armed = loop.create_future(), loop.create_future()
        self.waiting[(ident, "done")] = done
        self.waiting[(ident, "armed")] = armed
        if cmd == "expect":
            args["ident"] = ident
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"id": ident, "cmd": cmd, **args}) + "\n").encode())
        return done, armed

    async def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        return await self.send(cmd, **args)[0]

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.process.wait()
        self.reader.cancel()


@dataclass
class Fanout:
    viewers: int
    latencies: list[float] = field(default_factory=list)  # one per delivery, seconds
    round_max: list[float] = field(default_factory=list)
    lost: int = 0
    closed: int = 0
    rss_per_viewer: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    connect_failed: int = 0


class Target:
    """A server under test: its process, and how to make it broadcast one marked message."""

    name = ""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    async def wait_ready(self) -> None:
        assert self.process is not None
        await wait_listening(self.port, self.process, self.name)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Baseline(Target):
    name = "baseline"
    path = "/"

    async def start(self, workdir: Path) -> None:
        log = (workdir / "baseline.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "baseline_server.py"), str(self.port)], stdout=log, stderr=log
        )
        await self.wait_ready()
        self.control = await connect(f"ws://127.0.0.1:{self.port}/control", compression=None)

    async def prepare_round(self, marker: str) -> None:
        body = json.dumps({"type": "question", "seq": 1, "question": {"id": 1, "text": marker}})
        self.payload = body[:-3] + " " * max(0, 300 - len(body)) + body[-3:]

    async def trigger(self) -> None:
        await self.control.send(self.payload)


class Smartrlp(Target):
    name = "smartrlp"
    path = f"/ws/events/{SLUG}"

    def __init__(self, port: int, server_args: list[str], server_env: dict[str, str]) -> None:
        super().__init__(port)
        self.server_args = server_args
        self.server_env = server_env

    async def start(self, workdir: Path) -> None:
        self.db = getattr(self, "db_target", None) or workdir / "bench.db"  # a postgresql:// URL (bench/stores.py)
        log = (workdir / "server.log").open("ab")
        # Rate limits off: the load clients are thousands of devices behind one loopback address.
        env = {**os.environ, "SMARTRLP_LOG_LEVEL": "warning", "SMARTRLP_LIMITS": "off", **self.server_env}
        command = [sys.executable, "-m", "smartrlp", "serve", "--demo", "--db", str(self.db), "--port", str(self.port)]
        # Kept for a restart (bench/live_scenarios.py): the same command on the same database and port.
        self.command, self.cwd, self.env, self.log = [*command, *self.server_args], ROOT, env, log
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=log, stderr=log)
        await self.wait_ready()
        await self.wait_workers()
        cli = [sys.executable, "-m", "smartrlp"]
        account = getattr(self, "account", "bench")  # a second host on the same database needs another name
        subprocess.run([*cli, "moderator", "add", account, "--db", str(self.db)], input=secrets.token_hex(16) + "\n",
                       text=True, check=True, capture_output=True, cwd=ROOT, env=env)
        out = subprocess.run([*cli, "token", "create", account, "--db", str(self.db)], text=True, check=True,
                             capture_output=True, cwd=ROOT, env=env).stdout
        self.token = out.strip().splitlines()[-1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.staff = httpx.AsyncClient(base_url=self.base, headers={"Authorization": f"Bearer {self.token}"},
                                       timeout=30)
        self.asker = httpx.AsyncClient(base_url=self.base, timeout=30)
        await self.asker.get("/healthz")  # the asker's device cookie
        self.message_bytes = 0

    async def wait_workers(self) -> None:
        """With `--workers N`, wait until N different worker processes have answered `/healthz`."""
        args = self.server_args
        workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 1
        seen: set[int] = set()
        deadline = time.monotonic() + 60
        while len(seen) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(seen)} of {workers} workers answered")
            try:
                # A new connection each time, so that the kernel hands it to any of the workers.
                async with httpx.AsyncClient(timeout=5) as probe:
                    seen.add((await probe.get(f"http://127.0.0.1:{self.port}/healthz")).json()["worker"])
            except (httpx.HTTPError, KeyError, ValueError):
                await asyncio.sleep(0.1)

    async def prepare_round(self, marker: str) -> None:
        text = f"{marker} Wann wird das Glasfasernetz im Landkreis fertig ausgebaut sein, auch in den kleinen Orten?"
        response = await self.asker.post(f"/api/events/{SLUG}/questions", json={"text": text})
        assert response.status_code == 201, response.text
        self.question = response.json()

    async def trigger(self) -> None:
        response = await self.staff.patch(f"/api/events/{SLUG}/questions/{self.question['id']}",
                                          json={"status": "approved"})
        assert response.status_code == 200, response.text
        if not self.message_bytes:
            question = response.json()
            self.message_bytes = len(json.dumps({"type": "question", "seq": 100, "question": question},
                                                ensure_ascii=False, separators=(",", ":")).encode())


class Redis:
    """A throw-away `redis-server` on a free loopback port, the broker of the `--workers` column."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        log = (workdir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=log, stderr=log,
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def wait_ready(self) -> None:
        await wait_listening(self.port, self.process, "redis-server")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Profile:
    """`py-spy record` attached to the server for one phase (with --profile DIR), as collapsed stacks."""

    directory: Path | None = None

    def __init__(self, target: Target, phase: str) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        if self.directory is not None and target.process is not None:
            out = self.directory / f"{target.name}-{phase}.txt"
            self.process = subprocess.Popen(
                ["py-spy", "record", "--pid", str(target.process.pid), "--format", "raw", "--rate", "200",
                 "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self) -> Profile:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.send_signal(2)
            self.process.wait(30)


async def settle(seconds: float = 1.0) -> None:
    await asyncio.sleep(seconds)  # let the server finish snapshots before reading its memory


async def fanout_sweep(target: Target, clients: list[LoadClient], sizes: list[int], rounds: int,
                       devices: bool) -> list[Fanout]:
    assert target.process is not None
    pid = target.process.pid
    for client in clients:
        await client.call("target", host="127.0.0.1", port=target.port, path=target.path)
    if devices:
        share = -(-max(sizes) // len(clients))
        await asyncio.gather(*(c.call("devices", n=share) for c in clients))
    await settle()
    rss0 = rss(pid)
    connected = 0
    results = []
    for size in sizes:
        add = size - connected
        shares = [add // len(clients) + (1 if i < add % len(clients) else 0) for i in range(len(clients))]
        replies = await asyncio.gather(*(c.call("connect", n=n) for c, n in zip(clients, shares, strict=True)))
        connected = sum(r["connected"] for r in replies)
        fan = Fanout(viewers=connected, connect_failed=sum(r["failed"] for r in replies))
        await settle(2.0)
        fan.rss_per_viewer = (rss(pid) - rss0) / max(connected, 1)
        cpu_server0, cpu_clients0 = cpu(pid), sum(c.cpu for c in clients)
        profile = Profile(target, f"fanout-{size}")
        for r in range(rounds):
            marker = f"m{r}x{secrets.token_hex(4)}"
            await target.prepare_round(marker)
            sent = [c.send("expect", marker=marker, timeout=15.0) for c in clients]
            await asyncio.gather(*(armed for _, armed in sent))
            t0 = time.monotonic()
            await target.trigger()
            replies = await asyncio.gather(*(done for done, _ in sent))
            times = [t - t0 for reply in replies for t in reply["times"]]
            fan.latencies += times
            fan.round_max.append(max(times) if times else float("nan"))
            fan.lost += sum(reply["missing"] for reply in replies)
            fan.closed = sum(reply["closed"] for reply in replies)
            await asyncio.sleep(0.2)
        profile.__exit__()
        fan.server_cpu = cpu(pid) - cpu_server0
        fan.client_cpu = sum(c.cpu for c in clients) - cpu_clients0
        results.append(fan)
        print(f"  {target.name} {connected:>6} viewers: p50 {pct(fan.latencies, .5) * 1000:.1f} ms, "
              f"p99 {pct(fan.latencies, .99) * 1000:.1f} ms, max {max(fan.latencies, default=0) * 1000:.1f} ms, "
              f"lost {fan.lost}, {fan.rss_per_viewer / 1000:.1f} kB/viewer", flush=True)
    return results


async def vote_burst(target: Smartrlp, clients: list[LoadClient], ballots: int, seconds: float,
                     pool: int = 0) -> dict[str, Any]:
    poll = (await target.staff.post(f"/api/events/{SLUG}/polls", json={
        "title": "Wie gut ist Ihr Internet zu Hause?", "kind": "single",
        "options": ["Gut", "Es geht", "Schlecht"], "results_visibility": "live"})).json()
    response = await target.staff.patch(f"/api/events/{SLUG}/polls/{poll['id']}", json={"state": "open"})
    assert response.status_code == 200, response.text
    option_ids = [o["id"] for o in poll["options"]]
    per_client = [ballots // len(clients) + (1 if i < ballots % len(clients) else 0) for i in range(len(clients))]
    start = time.monotonic() + 1.0
    expected = [0] * len(option_ids)
    commands = []
    for client, n in zip(clients, per_client, strict=True):
        choices = [secrets.randbelow(len(option_ids)) for _ in range(n)]
        for c in choices:
            expected[c] += 1
        bodies = [json.dumps({"options": [option_ids[c]]}) for c in choices]
        at = sorted(start + secrets.randbelow(int(seconds * 1e6)) / 1e6 for _ in range(n))
        commands.append((client, bodies, at))
    marker = f'"poll_id":{poll["id"]},"results":{{"total":{ballots},'
    watch = [c.send("expect", marker=marker, timeout=60.0) for c in clients]
    await asyncio.gather(*(armed for _, armed in watch))
    pid = target.process.pid if target.process else 0
    cpu0, clients_cpu0 = cpu(pid), sum(c.cpu for c in clients)
    with Profile(target, "burst"):
        votes = await asyncio.gather(*(
            c.call("vote", path=f"/api/events/{SLUG}/polls/{poll['id']}/votes", bodies=b, at=a, pool=pool)
            for c, b, a in commands))
        shown = await asyncio.gather(*(done for done, _ in watch))
    server_cpu = cpu(pid) - cpu0
    client_cpu = sum(c.cpu for c in clients) - clients_cpu0
    results = [r for v in votes for r in v["results"]]
    ok = [r for r in results if r[0] == 201]
    latencies = [r[2] - r[1] for r in ok]
    first_sent = min(r[1] for r in results)
    last_ack = max(r[2] for r in results)
    final = (await target.staff.get(f"/api/events/{SLUG}/polls/{poll['id']}")).json()["results"]
    counts = [o["count"] for o in final["options"]]
    shown_times = [t for s in shown for t in s["times"]]
    statuses: dict[int, int] = {}
    for r in results:
        statuses[r[0]] = statuses.get(r[0], 0) + 1
    return {
        "ballots": ballots, "seconds": seconds, "acknowledged": len(ok), "statuses": statuses,
        "p50": pct(latencies, .5), "p99": pct(latencies, .99), "max": max(latencies, default=float("nan")),
        "rate": len(ok) / (last_ack - first_sent),
        "exact": final["total"] == len(ok) == ballots and counts == expected,
        "total": final["total"], "counts": counts, "expected": expected,
        "viewers": sum(len(s["times"]) + s["missing"] for s in shown),
        "not_shown": sum(s["missing"] for s in shown),
        "all_shown_after_last_ack": (max(shown_times) - last_ack) if shown_times else float("nan"),
        "server_cpu": server_cpu, "client_cpu": client_cpu, "pool": pool * len(clients),
    }


async def question_storm(target: Smartrlp, clients: list[LoadClient], count: int, seconds: float,
                         device_offset: int) -> dict[str, Any]:
    prefix = f"Sturm {secrets.token_hex(3)}"
    seen: list[tuple[int, int]] = []  # (seq, question id) as the moderator's socket gets them
    headers = {"Authorization": f"Bearer {target.token}"}
    ws_url = f"ws://127.0.0.1:{target.port}/ws/events/{SLUG}"
    async with connect(ws_url, additional_headers=headers, compression=None, max_size=2**24) as moderator:
        snapshot = json.loads(await moderator.recv())
        assert snapshot["role"] == "moderator", snapshot

        async def listen() -> None:
            async for raw in moderator:
                message = json.loads(raw)
                if message.get("type") == "question" and message["question"]["text"].startswith(prefix):
                    seen.append((message["seq"], message["question"]["id"]))

        listener = asyncio.create_task(listen())
        per_client = [count // len(clients) + (1 if i < count % len(clients) else 0) for i in range(len(clients))]
        start = time.monotonic() + 0.5
        jobs, n = [], 0
        for client, k in zip(clients, per_client, strict=True):
            texts = [f"{prefix} Frage {n + i + 1}: Wie wird der Nahverkehr auf dem Land besser?" for i in range(k)]
            n += k
            at = sorted(start + secrets.randbelow(int(seconds * 1e6)) / 1e6 for _ in range(k))
            jobs.append(client.call("ask", path=f"/api/events/{SLUG}/questions", texts=texts, at=at,
                                    offset=device_offset))
        replies = await asyncio.gather(*jobs)
        results = [r for reply in replies for r in reply["results"]]
        created = {r[3] for r in results if r[0] == 201}
        deadline = time.monotonic() + 15
        while len(seen) < len(created) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        listener.cancel()
    listing = (await target.staff.get(f"/api/events/{SLUG}/questions",
                                      params={"sort": "newest", "status": "pending"})).json()["questions"]
    listed = [q["id"] for q in listing if q["text"].startswith(prefix)]
    latencies = [r[2] - r[1] for r in results if r[0] == 201]
    statuses: dict[int, int] = {}
    for r in results:
        statuses[r[0]] = statuses.get(r[0], 0) + 1
    return {
        "questions": count, "seconds": seconds, "created": len(created), "statuses": statuses,
        "p50": pct(latencies, .5), "p99": pct(latencies, .99),
        "moderator_got": len({q for _, q in seen}),
        "socket_in_order": [s for s, _ in seen] == sorted(s for s, _ in seen) and len(seen) == len(set(seen)),
        "listed": len(listed), "listed_in_order": listed == sorted(listed, reverse=True),
        "all_kept": created == set(listed) and len(created) == count,
    }


def page_weight(base: str) -> dict[str, Any]:
    """What a viewer's browser loads for the viewer page, gzip-compressed (as the server or proxy sends it)."""
    client = httpx.Client(base_url=base, timeout=30, headers={"Accept-Encoding": "gzip, br"})
    html = client.get(f"/e/{SLUG}").text
    todo = re.findall(r'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src|link[^>]+rel="(?:icon|preload)"'
                      r'[^>]+href)="(/static/[^"]+)"', html)
    seen: dict[str, tuple[int, int, int]] = {}
    seen[f"/e/{SLUG}"] = (len(html.encode()), len(gzip.compress(html.encode(), 6)), 0)
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        response = client.get(url)
        body = response.content
        wire = int(response.headers.get("content-length", len(body))) if response.headers.get(
            "content-encoding") else len(body)
        seen[url] = (len(body), len(gzip.compress(body, 6)), wire)
        text = body.decode("utf-8", "replace")
        folder = url.rsplit("/", 1)[0]
        if url.endswith(".js"):
            for ref in re.findall(r'(?:import|from)\s*["\'](\.{1,2}/[^"\']+)["\']', text):
                todo.append(os.path.normpath(f"{folder}/{ref}"))
        if url.endswith(".css"):
            for ref in re.findall(r'url\(["\']?([^)"\']+)["\']?\)', text):
                if not ref.startswith("data:"):
                    todo.append(ref if ref.startswith("/") else os.path.normpath(f"{folder}/{ref}"))
    server_compresses = any(wire and wire != raw for raw, _, wire in seen.values())
    return {"files": seen, "raw": sum(v[0] for v in seen.values()), "gzip": sum(v[1] for v in seen.values()),
            "server_compresses": server_compresses}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds == seconds else "–"


NOTES = """## What limits it

- **Fan-out** costs one `send()` system call per viewer, in one process: `Hub.publish` encodes the frame once and
  writes the same bytes to every viewer's transport without a task, queue or await per viewer
  (`smartrlp/realtime/hub.py`, `LiveClient.deliver` in `smartrlp/web/transport.py`). The bare baseline pays the same
  system calls and builds a frame per connection on top (`websockets.broadcast` serialises for each connection), which
  is why the ratio can be below 1. Smart RLP's figures also hold a database commit (`synchronous = FULL`, one fsync)
  and the moderator's HTTP request, which dominate at 1,000 viewers. More viewers than one core can write to within
  the wanted latency need more processes (`--server-args "--workers N"` with the broker).
- **Memory per viewer** is mostly uvicorn's and Starlette's, not ours: per connection uvicorn keeps a protocol
  object with an `asyncio.Queue` and `Event`, the websockets parser, the ASGI scope and a task whose coroutine
  stack runs through Starlette's middleware and router. Measured with `tracemalloc`, what we could remove is
  gone: no task, queue or lock per viewer for sending; uvicorn's parsed handshake released after the snapshot;
  our middleware hands websockets over without keeping a frame; no per-message deflate (a compressor per
  connection). The baseline keeps less because it has no ASGI layer at all.
- **Vote bursts** are limited by the cost of each HTTP request in Python (accepting a TCP connection, parsing,
  the middleware stack, about 1 ms of CPU on these cores) rather than by the database: ballots are committed in
  batches (one transaction and a handful of statements per batch, not per ballot), and poll results go out
  coalesced, paced so that sending them to every viewer takes at most an eighth of the time. Every ballot on a
  new TCP connection is the worst case; behind a reverse proxy that terminates TLS the server sees a few
  keep-alive connections instead (second row). The load clients run on the same two cores (their CPU is in the
  fan-out table), so on a quiet machine with clients elsewhere the server has more of the cores.
- **Question storms** are kept whole and in order; each question is its own transaction (one fsync with
  `synchronous = FULL`). A new question waits for moderation, so its message is for moderators (and the asking
  device) only: the hub reaches those through small indexes instead of looking at all 10,000 viewers. Before that
  change every pending question cost a pass over every viewer, and 300 questions in 3 s took p50 1.8 s at
  10,000 viewers; now they take milliseconds.
- **Slow viewers** never hold up the others: a viewer whose unsent data passes `SMARTRLP_WS_SEND_BUFFER_BYTES`
  (the kernel's send buffer for it is capped to the same size) is closed with 4008 and resumes from the log.
- **Garbage collection**: with CPython's default thresholds a full collection walked every open connection's
  objects every few seconds under a burst (6.9 s of pauses in a 2.5-minute run with 5,000 viewers); the server
  now freezes its startup objects and collects the young generation every 50,000 allocations (1.1 s).
- **How fast was this machine?** The issue's reference machine (2 cores, clients on the same cores) measured the
  same baseline at p50 11 / p99 25 ms with 2,000 viewers, 28 / 63 ms with 5,000 and 51 / 140 ms with 10,000.
  Compare the baseline rows above: where they are several times slower, so is everything else in this run,
  the vote burst above all (it is bound by CPU). The load average before and after the run is at the top.
- **Actions over the websocket** (issue 16) skip what each HTTP request costs (a TCP accept or keep-alive read,
  HTTP parsing, five middlewares, a response with headers); what is left per action is the frame, `json.loads`,
  the endpoint's own prologue (`web/endpoint.py` `answer_live`: the body model, the limiter) and the service.
  Profiled with py-spy (`--profile`), a burst of 2,000 ballots spent per ballot a reader query for the poll
  (now read once per burst, `BallotWriter.targets`), a JSON response rendered and parsed back (gone) and the
  path's ids found by a regex (cached). What remains is shared with HTTP and does not shrink with the transport:
  the ballot's model and checks, the group commit's statements for its batch, and above all the coalesced
  `poll_results` fan-out to every viewer (one write per viewer, a few times a second). That is why the CPU per
  ballot over websockets is lower than over HTTP keep-alive but not a quarter of it, measured in the same run.
- **10,000 ballots within 2 s in one process** need, at the CPU per ballot measured over websockets, more than
  two seconds of one core by themselves (the *CPU per action* column times 10,000), before the fan-out of their
  results; where the *core share* is below 1 the server also waited for a core that other processes held. The
  latency targets of issue 16 then need more than one process (`--workers`) or a quiet machine.
- **Upvotes** were one transaction of half a dozen statements each, one after the other under the writer lock:
  2,000 upvotes within 2 s took p50 2.5 s on a loaded machine. They are now batched like ballots
  (`services/upvotes.py`, one `votes` change per question and batch), and the `votes` count goes out coalesced
  (`Hub.publish_coalesced`: at once when quiet, else the latest per question a few times a second), or 5,000
  upvotes would have been 50 million writes to 10,000 viewers.
- **Joins**: a new device's snapshot is one text and one ready frame per event, `seq` and results generation
  (`SharedOpenings`), written as is; what a join still costs is the websocket handshake through uvicorn and
  Starlette (about half of it, py-spy), the two queries that find the event and the device's own questions,
  votes and ballots, and writing 100 kB to the socket.
- **Restart**: viewers closed with 1001 retry every 0.5–2 s (live.js; the load client does the same) instead of
  a doubling backoff, and resume at their last seq: a resume at the head reads nothing, later ones share one read
  of the log and one computation of the current poll results.

### What counting for /metrics costs

Each broadcast updates one counter and one histogram (`Hub.publish`), each change one counter (`web/endpoint.py`),
each COMMIT one histogram: never a pass per viewer. Measured with `timeit` (best of 7 × 100,000) while other work
loaded the machine (load average 17.8 on 2 cores, so idle figures are several times lower): 11 µs per broadcast and
6 µs per counted change, against milliseconds for a fan-out to thousands of viewers (above). Connections per event
are read from the hub's indexes at scrape time only."""


def targets(base: list[Fanout], real: list[Fanout], bursts: list[dict[str, Any]],
            page: dict[str, Any] | None, live: dict[str, Any]) -> list[str]:
    """The targets of issues 7 and 16, checked against this run's figures."""
    rows = []
    biggest = max(real, key=lambda f: f.viewers, default=None)
    if biggest is not None:
        ok = biggest.viewers >= 10_000 and biggest.lost == 0 and biggest.closed == 0 and not biggest.connect_failed
        rows.append(("10,000 viewers connected, nothing lost", f"{biggest.viewers} connected, {biggest.lost} lost, "
                     f"{biggest.connect_failed} failed to connect", ok))
    for b, r in zip(base, real, strict=False):
        if r.viewers >= 2000 and b.latencies and r.latencies:
            ratio = pct(r.latencies, .99) / pct(b.latencies, .99)
            rows.append((f"fan-out p99 within 1.0× of the baseline at {r.viewers}", f"{ratio:.2f}×", ratio <= 1.0))
    if real:
        worst = max(f.rss_per_viewer for f in real)
        rows.append(("under 30 kB of server memory per idle viewer", f"{worst / 1000:.1f} kB (largest of the sizes)",
                     worst < 30_000))
    for b in bursts:
        how = "keep-alive via proxy" if b["pool"] else "a new connection per ballot"
        if b["seconds"] > 5:
            continue
        ok = b["acknowledged"] == b["ballots"] >= 5000 and b["p99"] < 0.5 and b["exact"]
        rows.append((f"5,000 ballots in 5 s, all acknowledged after commit, p99 under 500 ms ({how}, "
                     f"burst within {b['seconds']:g} s)",
                     f"{b['acknowledged']} of {b['ballots']} in {b['seconds']:g} s, p99 {ms(b['p99'])} ms", ok))
    rows += live_scenarios.target_rows(live, bursts)
    if page:
        rows.append(("viewer page under 100 kB compressed", f"{page['gzip'] / 1000:.1f} kB", page["gzip"] < 100_000))
    lines = ["", "## Targets", "", "| target | this run | met |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in rows]
    return lines


def write_report(path: Path, args: argparse.Namespace, machine: dict[str, str], base: list[Fanout],
                 real: list[Fanout], multi: list[Fanout], bursts: list[dict[str, Any]], storm: dict[str, Any] | None,
                 page: dict[str, Any] | None, message_bytes: int, command: str,
                 stores_lines: list[str] | None = None, live: dict[str, Any] | None = None) -> None:
    workers_name = f"smartrlp, {args.workers_column} workers"
    lines = [
        "# Performance",
        "",
        "Written by `bench/run.py` (do not edit by hand; run the command below again).",
        "",
        "## Machine and run",
        "",
        *(f"- {k}: {v}" for k, v in machine.items()),
        f"- command: `{command}`",
        f"- server: `python -m smartrlp serve --demo {' '.join(args.server_args)}`"
        + (f" with `{' '.join(args.server_env)}`" if args.server_env else ""),
        "- rate limits off (`SMARTRLP_LIMITS=off`): the load clients act as thousands of devices from one address",
        *([f"- {workers_name}: the same server with `--workers {args.workers_column}` and "
           "`SMARTRLP_BROKER` set to a `redis-server` on loopback (fan-out only)"] if multi else []),
        f"- load: {args.clients} client processes (bench/loadclient.py: asyncio + uvloop, raw sockets) on the "
        "same cores as the server",
        f"- fan-out: {args.rounds} broadcasts per size; message {message_bytes} bytes (baseline: 300), no compression",
        "",
        "## Fan-out",
        "",
        "From the moderator's approval request (`PATCH .../questions/{id}` with `status: approved`, answered after "
        "commit) to each viewer's receipt of the approved question; for the baseline, from the control "
        "connection's send to each receipt. Percentiles are over every delivery (viewers × broadcasts); "
        "*last* is the median over broadcasts of the time until every viewer had it. Ratio = Smart RLP / baseline. "
        "Memory: growth of the server's resident memory from no viewers to N idle viewers, per viewer.",
        "",
        "| viewers | server | p50 ms | p95 ms | p99 ms | max ms | last ms | lost | closed | kB/viewer | server CPU s "
        "| client CPU s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = []
    for name, results in (("baseline", base), ("smartrlp", real), (workers_name, multi)):
        for f in results:
            rows.append((f.viewers, name, f))
    order = {"baseline": 0, "smartrlp": 1, workers_name: 2}
    for viewers, name, f in sorted(rows, key=lambda r: (r[0], order[r[1]])):
        lines.append(
            f"| {viewers} | {name} | {ms(pct(f.latencies, .5))} | {ms(pct(f.latencies, .95))} | "
            f"{ms(pct(f.latencies, .99))} | {ms(max(f.latencies, default=float('nan')))} | "
            f"{ms(statistics.median(f.round_max) if f.round_max else float('nan'))} | {f.lost} | {f.closed} | "
            f"{f.rss_per_viewer / 1000:.1f} | {f.server_cpu:.1f} | {f.client_cpu:.1f} |")
    if base and real:
        def ratio(x: float, y: float) -> str:
            return f"{x / y:.2f}" if y else "–"

        extra = f" {workers_name}: p50 ratio | p99 ratio |" if multi else ""
        lines += ["", f"| viewers | p50 ratio | p99 ratio | max ratio | memory ratio |{extra}",
                  "|---:|---:|---:|---:|---:|" + ("---:|---:|" if multi else "")]
        for i, (b, r) in enumerate(zip(base, real, strict=False)):
            row = (f"| {r.viewers} | {ratio(pct(r.latencies, .5), pct(b.latencies, .5))} | "
                   f"{ratio(pct(r.latencies, .99), pct(b.latencies, .99))} | "
                   f"{ratio(max(r.latencies, default=0), max(b.latencies, default=0))} | "
                   f"{ratio(r.rss_per_viewer, b.rss_per_viewer)} |")
            if multi:
                m = multi[i] if i < len(multi) else None
                row += (f" {ratio(pct(m.latencies, .5), pct(b.latencies, .5))} | "
                        f"{ratio(pct(m.latencies, .99), pct(b.latencies, .99))} |") if m else " – | – |"
            lines.append(row)
    if bursts:
        first = bursts[0]
        lines += [
            "", "## Vote burst", "",
            f"{first['ballots']} devices each cast one ballot (single choice, three options) at a random moment within "
            f"the burst's duration, while {first['viewers']} viewers are connected; a new poll for each run. "
            "A ballot is answered only after the transaction holding it has committed (group commit). "
            "*New connections*: every ballot opens its own TCP connection to the server, as when the server faces "
            "the phones itself. *Via proxy*: ballots share a few keep-alive connections, as a reverse proxy "
            "(nginx `keepalive`) holds them towards the server when it terminates TLS.", "",
            "| within | connections | acknowledged | p50 ms | p99 ms | max ms | ballots/s | totals exact "
            "| all viewers show the totals, ms after the last ack | server CPU s | client CPU s |",
            "|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
        ]
        for b in bursts:
            how = f"via proxy ({b['pool']} keep-alive)" if b["pool"] else "new per ballot"
            never = f" ({b['not_shown']} never)" if b["not_shown"] else ""
            lines.append(
                f"| {b['seconds']:g} s | {how} | {b['acknowledged']} of {b['ballots']} "
                f"| {ms(b['p50'])} | {ms(b['p99'])} | {ms(b['max'])} "
                f"| {b['rate']:.0f} | {'yes' if b['exact'] else 'NO'} ({b['total']}: {b['counts']}) "
                f"| {ms(b['all_shown_after_last_ack'])}{never} | {b['server_cpu']:.1f} | {b['client_cpu']:.1f} |")
        lines += ["", "Statuses: " + "; ".join(str(b["statuses"]) for b in bursts)]
    if storm:
        lines += [
            "", "## Question storm", "",
            f"{storm['questions']} questions from {storm['questions']} different devices within "
            f"{storm['seconds']:g} s, each on a new HTTP connection.", "",
            f"- created: {storm['created']} (statuses {storm['statuses']}); latency p50 {ms(storm['p50'])} ms, "
            f"p99 {ms(storm['p99'])} ms",
            f"- the moderator's websocket got {storm['moderator_got']}, in sequence order: "
            f"{'yes' if storm['socket_in_order'] else 'NO'}",
            f"- the moderators' list (`GET .../questions?sort=newest&status=pending`) holds {storm['listed']}, "
            f"newest first: {'yes' if storm['listed_in_order'] else 'NO'}; all kept: "
            f"{'yes' if storm['all_kept'] else 'NO'}",
        ]
    if page:
        lines += [
            "", "## Viewer page weight", "",
            "`/e/smart-rlp` with everything it loads (HTML, CSS, JavaScript modules, fonts, icons), without the "
            "stream; sizes gzip-compressed (level 6, as a reverse proxy sends them)"
            + ("" if page["server_compresses"] else "; the server itself sends them uncompressed") + ".", "",
            f"- total: {page['gzip'] / 1000:.1f} kB compressed ({page['raw'] / 1000:.1f} kB uncompressed)", "",
            "| file | bytes | gzip |", "|---|---:|---:|",
            *(f"| `{url}` | {raw} | {gz} |" for url, (raw, gz, _) in sorted(page["files"].items())),
        ]
    lines += stores_lines or []
    lines += live_scenarios.report_lines(live or {}, bursts)
    lines += targets(base, real, bursts, page, live or {})
    lines += ["", NOTES]
    lines += ["", "## How to run", "", "```", ".venv/bin/pip install -e '.[test]'", command, "```", "",
              "Options: `--sizes`, `--rounds`, `--clients`, `--ballots`, `--burst-seconds`, `--questions`, "
              "`--server-args \"--workers 2\"`, `--server-env NAME=VALUE` (repeatable, e.g. rate-limit overrides), "
              "`--no-baseline`, `--out`. See bench/README.md.", ""]
    path.write_text("\n".join(lines))


async def live_actions(args: argparse.Namespace, server: Smartrlp, clients: list[LoadClient],
                       connected: int) -> dict[str, Any]:
    """Issue 16's bursts over the websockets of the viewers connected by the fan-out sweep."""
    live: dict[str, Any] = {"bursts": []}
    with Profile(server, "ws-actions"):
        for count in [int(c) for c in args.ws_ballots.split(",") if c.strip() and int(c)]:
            burst = await live_scenarios.ws_burst(server, clients, "ballot", min(count, connected), 2.0)
            live["bursts"].append(burst)
            print(f"  websocket ballots: {burst}", flush=True)
        if args.ws_upvotes:
            burst = await live_scenarios.ws_burst(server, clients, "upvote", min(args.ws_upvotes, connected), 2.0)
            live["bursts"].append(burst)
            print(f"  websocket upvotes: {burst}", flush=True)
        if args.ws_questions:
            live["storm"] = await live_scenarios.ws_question_storm(server, clients, args.ws_questions, 5.0)
            print(f"  websocket questions: {live['storm']}", flush=True)
    return live


async def joins_and_restart(args: argparse.Namespace, server: Smartrlp, clients: list[LoadClient],
                            live: dict[str, Any]) -> None:
    if args.join_viewers:
        with Profile(server, "join-storm"):
            live["join"] = await live_scenarios.join_storm(server, clients, args.join_viewers, 10.0,
                                                           args.join_questions)
        print(f"  join storm: {live['join']}", flush=True)
    if not args.no_restart:
        live["restart"] = await live_scenarios.restart(server, clients)
        print(f"  restart: {live['restart']}", flush=True)


async def workers_sweep(args: argparse.Namespace, clients: list[LoadClient], sizes: list[int],
                        workdir: Path) -> list[Fanout]:
    """The fan-out again, with `--workers N` and a Redis broker (the issue's "2 workers beside 1")."""
    workdir.mkdir()
    redis = Redis(workdir)
    await redis.wait_ready()
    env = {**dict(e.split("=", 1) for e in args.server_env), "SMARTRLP_BROKER": redis.url}
    server = Smartrlp(free_port(), [*args.server_args, "--workers", str(args.workers_column)], env)
    server.name = f"smartrlp x{args.workers_column}"
    try:
        await server.start(workdir)
        try:
            return await fanout_sweep(server, clients, sizes, args.rounds, devices=True)
        finally:
            await asyncio.gather(*(c.call("close") for c in clients))
            server.stop()
            print(f"  server log: {workdir / 'server.log'}")
    finally:
        redis.stop()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,2000,5000,10000")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--ballots", type=int, default=5000)
    parser.add_argument("--burst-seconds", default="2,5", help="one burst (of each kind) per duration")
    parser.add_argument("--proxy-connections", type=int, default=64,
                        help="keep-alive connections of the second burst, as a reverse proxy holds them")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--storm-seconds", type=float, default=3.0)
    parser.add_argument("--server-args", default="", help='extra arguments for "smartrlp serve"')
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--workers-column", type=int, default=2, metavar="N",
                        help="also measure the fan-out with N workers and a Redis broker (0: skip)")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false",
                        help="skip the PostgreSQL and two-host columns (bench/stores.py)")
    # Issue 16: actions over the open websockets, a join storm, a restart (0 or "" skips one).
    parser.add_argument("--ws-ballots", default="10000,5000", help="ballot bursts over websockets (each within 2 s)")
    parser.add_argument("--ws-upvotes", type=int, default=5000, help="upvotes of one question within 2 s")
    parser.add_argument("--ws-questions", type=int, default=1000, help="questions from as many devices within 5 s")
    parser.add_argument("--join-viewers", type=int, default=10000, help="viewers joining within 10 s")
    parser.add_argument("--join-questions", type=int, default=300, help="public questions of the joined event")
    parser.add_argument("--no-restart", action="store_true", help="skip the SIGTERM-and-back scenario")
    parser.add_argument("--profile", metavar="DIR", help="record each phase with py-spy (collapsed stacks) into DIR")
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    args.server_args = shlex.split(args.server_args)
    sizes = [int(s) for s in args.sizes.split(",")]
    args.burst_seconds = [float(s) for s in args.burst_seconds.split(",")]
    if args.profile:
        Profile.directory = Path(args.profile)
        Profile.directory.mkdir(parents=True, exist_ok=True)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the servers and clients
    need = max(sizes) + 1000
    if hard < need:
        print(f"warning: the open-file limit is {hard}; {need} are needed", file=sys.stderr)
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    machine = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "memory": f"{int(meminfo[1]) / 2**20:.1f} GiB",
        "cpu": next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name")), platform.machine()),
        "load average before the run": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "python": platform.python_version(),
        "open-file limit": str(hard),
    }
    command = "python bench/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    clients = [await LoadClient.start() for _ in range(args.clients)]
    workdir = Path(tempfile.mkdtemp(prefix="smartrlp-bench-"))
    base: list[Fanout] = []
    real: list[Fanout] = []
    multi: list[Fanout] = []
    stores_lines: list[str] = []
    bursts: list[dict[str, Any]] = []
    storm = page = None
    live: dict[str, Any] = {}
    message_bytes = 0
    try:
        if not args.no_baseline:
            target = Baseline(free_port())
            await target.start(workdir)
            try:
                base = await fanout_sweep(target, clients, sizes, args.rounds, devices=False)
            finally:
                await asyncio.gather(*(c.call("close") for c in clients))
                await target.control.close()
                target.stop()
        server = Smartrlp(free_port(), args.server_args, dict(e.split("=", 1) for e in args.server_env))
        await server.start(workdir)
        try:
            real = await fanout_sweep(server, clients, sizes, args.rounds, devices=True)
            message_bytes = server.message_bytes
            if args.ballots:
                bursts = []
                for seconds in args.burst_seconds:
                    for pool in (0, args.proxy_connections // args.clients):
                        bursts.append(await vote_burst(server, clients, min(args.ballots, max(sizes)),
                                                       seconds, pool))
                    print(f"  vote burst: {bursts[-1]}", flush=True)
            live = await live_actions(args, server, clients, connected=real[-1].viewers if real else 0)
            if args.questions:
                storm = await question_storm(server, clients, args.questions, args.storm_seconds, device_offset=0)
                print(f"  question storm: {storm}", flush=True)
            await joins_and_restart(args, server, clients, live)
            await asyncio.gather(*(c.call("close") for c in clients))
            page = page_weight(server.base)
        finally:
            server.stop()
            print(f"  server log: {workdir / 'server.log'}")
        if args.workers_column > 1:
            multi = await workers_sweep(args, clients, sizes, workdir / "workers")
        if args.postgres:
            found = await stores.measure(sys.modules[__name__], args, clients, sizes, workdir / "postgres")
            stores_lines = stores.report(sys.modules[__name__], real, bursts, found)
    finally:
        for client in clients:
            await client.stop()
    machine["load average after the run"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    write_report(Path(args.out), args, machine, base, real, multi, bursts, storm, page, message_bytes, command,
                 stores_lines, live)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
