"""One load-client process: many viewer websockets and devices, driven by bench/run.py over stdin/stdout.

Each viewer is a bare asyncio protocol (no task per connection, a hand-rolled frame parser for the
unmasked frames a server sends) so that 10,000 viewers cost the client little; client CPU is reported
alongside the figures. Commands and replies are JSON lines; times are `time.monotonic()`, which is the
same clock in every process on Linux.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import resource
import sys
import time
from typing import Any

import uvloop

# The head of a logged change or snapshot as the server encodes it: `{"type":"question","seq":17,...`.
HEAD = re.compile(rb'^\{"type":"(\w+)","seq":(\d+)')
REPLY_HEAD = b'{"type":"reply",'
RESTART_ATTEMPTS = 30


def text_frame(data: bytes) -> bytes:
    """A masked client text frame; the mask key 0 leaves the payload as it is (and is a valid key)."""
    if len(data) < 126:
        return bytes([0x81, 0x80 | len(data), 0, 0, 0, 0]) + data
    return bytes([0x81, 0x80 | 126]) + len(data).to_bytes(2, "big") + b"\0\0\0\0" + data


class Viewer(asyncio.Protocol):
    __slots__ = ("buf", "closed", "cookie", "first_at", "got", "messages", "owner", "path", "reached_at", "ready",
                 "seq", "synced_at", "transport", "upgraded")

    def __init__(self, owner: Client, cookie: str | None, seq: int | None = None) -> None:
        self.owner = owner
        self.cookie = cookie
        self.path = owner.path if seq is None else f"{owner.path}?since={seq}"
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.messages = 0
        self.closed: int | None = None
        self.got: float | None = None
        self.first_at: float | None = None
        self.seq = seq or 0
        self.synced_at: float | None = None
        self.reached_at: float | None = None  # when its seq first reached the owner's `target_seq`

    def send_text(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(text_frame(data))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        o = self.owner
        headers = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {o.host}:{o.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
            f"Origin: http://{o.host}:{o.port}",
        ]
        if self.cookie:
            headers.append(f"Cookie: srl_device={self.cookie}")
        self.transport.write(("\r\n".join(headers) + "\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                if not self.ready.done():
                    self.ready.set_result(False)
                self.transport.close()  # type: ignore[union-attr]
                return
            del buf[: end + 4]
            self.upgraded = True
        while len(buf) >= 2:
            opcode = buf[0] & 0x0F
            length = buf[1] & 0x7F
            start = 2
            if length == 126:
                if len(buf) < 4:
                    return
                length = int.from_bytes(buf[2:4], "big")
                start = 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length = int.from_bytes(buf[2:10], "big")
                start = 10
            if len(buf) < start + length:
                return
            payload = bytes(buf[start : start + length])
            del buf[: start + length]
            if opcode == 1:
                self.messages += 1
                if not self.ready.done():
                    self.first_at = now
                    self.ready.set_result(True)  # the snapshot (or the baseline's hello)
                if payload.startswith(b"{\"type\""):  # the last seq, as a page keeps it for its resume
                    head = HEAD.match(payload, 0, 60)
                    if head is not None:
                        self.seq = max(self.seq, int(head.group(2)))
                        if self.reached_at is None and self.owner.target_seq and self.seq >= self.owner.target_seq:
                            self.reached_at = now
                        if head.group(1) == b"synced" and self.synced_at is None:
                            self.synced_at = now
                if payload.startswith(REPLY_HEAD):
                    self.owner.on_reply(payload, now)
                    continue
                self.owner.on_text(self, payload, now)
            elif opcode == 9:  # ping: answer with a masked pong (mask key 0 leaves the payload as is)
                self.transport.write(bytes([0x8A, 0x80 | len(payload), 0, 0, 0, 0]) + payload)  # type: ignore[union-attr]
            elif opcode == 8:
                self.closed = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self.transport.close()  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed is None:
            self.closed = 1006
        if not self.ready.done():
            self.ready.set_result(False)
        if self.owner.track_seq and self.closed == 1001:
            self.owner.resume_later(self)  # the server restarts: come back with since, as the page does
            return
        self.owner.on_lost(self)


async def http(
    host: str, port: int, method: str, path: str, *, body: bytes = b"", cookie: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection (`Connection: close`), as a phone whose last connection timed out."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close", f"Origin: http://{host}:{port}"]
        if cookie:
            lines.append(f"Cookie: srl_device={cookie}")
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        raw = await reader.read()
    finally:
        writer.close()
    head, _, content = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
        if name.strip().lower() == "set-cookie" and value.strip().startswith("srl_device="):
            headers["x-device"] = value.strip().split(";")[0].split("=", 1)[1]
    return int(status_line.split()[1]), headers, content


class Pool:
    """Keep-alive connections shared by many devices, as a reverse proxy (nginx `keepalive`) holds them
    towards the application server; the devices' own connections end at the proxy."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port = host, port
        self.idle: asyncio.LifoQueue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.LifoQueue()
        self.free = asyncio.Semaphore(size)

    async def request(self, method: str, path: str, *, body: bytes, cookie: str) -> int:
        async with self.free:
            if self.idle.empty():
                reader, writer = await asyncio.open_connection(self.host, self.port)
            else:
                reader, writer = self.idle.get_nowait()
            lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Cookie: srl_device={cookie}",
                     "Content-Type: application/json", f"Content-Length: {len(body)}"]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            self.idle.put_nowait((reader, writer))
            return int(head.split(b" ", 2)[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Client:
    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.path = "/"
        self.viewers: list[Viewer] = []
        self.cookies: list[str] = []
        self.marker: bytes | None = None
        self.waiting: asyncio.Future[None] | None = None
        self.pending = 0
        self.times: list[float] = []
        self.lost = 0
        # Actions over the websockets: ref -> sent time, and (status, sent, answered) per reply.
        self.sent: dict[str, float] = {}
        self.answered: list[tuple[int, float, float]] = []
        self.all_answered: asyncio.Future[None] | None = None
        self.to_answer = 0
        # Restart: viewers closed with 1001 come back with `since` after a jittered delay (as live.js does).
        self.track_seq = False
        self.target_seq = 0
        self.resumes: set[asyncio.Task[None]] = set()
        self.resumed = 0

    def on_reply(self, payload: bytes, now: float) -> None:
        reply = json.loads(payload)
        sent = self.sent.pop(reply["ref"], None)
        if sent is not None:
            self.answered.append((reply["status"], sent, now))
            self.to_answer -= 1
            if self.to_answer == 0 and self.all_answered is not None and not self.all_answered.done():
                self.all_answered.set_result(None)

    def resume_later(self, viewer: Viewer) -> None:
        task = asyncio.get_running_loop().create_task(self._resume(viewer))
        self.resumes.add(task)
        task.add_done_callback(self.resumes.discard)

    async def _resume(self, old: Viewer) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            # As live.js after 1001: every 0.5-2 s while the server restarts, then the usual backoff.
            if attempt <= RESTART_ATTEMPTS:
                await asyncio.sleep(0.5 + random.random() * 1.5)
            else:
                ceiling = min(15.0, 0.5 * 2 ** min(attempt - RESTART_ATTEMPTS, 10))
                await asyncio.sleep(ceiling / 2 + random.random() * ceiling / 2)
            try:
                _, viewer = await loop.create_connection(lambda: Viewer(self, old.cookie, old.seq), self.host,
                                                         self.port)
                if await asyncio.wait_for(viewer.ready, 60):
                    self.viewers[self.viewers.index(old)] = viewer
                    self.resumed += 1
                    return
            except (OSError, TimeoutError):
                pass

    def on_text(self, viewer: Viewer, payload: bytes, now: float) -> None:
        marker = self.marker
        if marker is not None and viewer.got is None and marker in payload:
            viewer.got = now
            self.times.append(now)
            self.pending -= 1
            if self.pending == 0 and self.waiting is not None and not self.waiting.done():
                self.waiting.set_result(None)

    def on_lost(self, viewer: Viewer) -> None:
        self.lost += 1
        if self.marker is not None and viewer.got is None:
            self.pending -= 1
            if self.pending == 0 and self.waiting is not None and not self.waiting.done():
                self.waiting.set_result(None)

    async def cmd_devices(self, n: int, concurrency: int = 32) -> dict[str, Any]:
        """Fetch `n` device cookies the way a browser gets one: from its first GET."""
        todo = iter(range(n))
        cookies: list[str] = []

        async def worker() -> None:
            for _ in todo:
                _, headers, _ = await http(self.host, self.port, "GET", "/healthz")
                cookies.append(headers["x-device"])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        self.cookies = cookies
        return {"devices": len(cookies)}

    async def cmd_connect(self, n: int, concurrency: int = 100) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        start = len(self.viewers)
        failed = 0
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            nonlocal failed
            async with sem:
                cookie = self.cookies[i] if i < len(self.cookies) else None
                try:
                    _, viewer = await loop.create_connection(lambda: Viewer(self, cookie), self.host, self.port)
                    if await asyncio.wait_for(viewer.ready, 60):
                        self.viewers.append(viewer)
                    else:
                        failed += 1
                except (OSError, TimeoutError):
                    failed += 1

        await asyncio.gather(*(one(i) for i in range(start, start + n)))
        return {"connected": len(self.viewers), "failed": failed}

    async def cmd_expect(self, marker: str, timeout: float, ident: int) -> dict[str, Any]:
        """Wait until every open viewer has a message containing `marker`; their arrival times."""
        for viewer in self.viewers:
            viewer.got = None
        self.times = []
        self.pending = sum(1 for v in self.viewers if v.closed is None)
        self.waiting = asyncio.get_running_loop().create_future()
        self.marker = marker.encode()
        print(json.dumps({"id": ident, "armed": True}), flush=True)
        if self.pending:
            try:
                await asyncio.wait_for(self.waiting, timeout)
            except TimeoutError:
                pass
        self.marker = None
        missing = sum(1 for v in self.viewers if v.got is None)
        return {"times": self.times, "missing": missing, "closed": sum(1 for v in self.viewers if v.closed)}

    async def cmd_vote(self, path: str, bodies: list[str], at: list[float], pool: int = 0) -> dict[str, Any]:
        """Cast ballot i at monotonic time at[i] from device i, each on a fresh connection, or with `pool`
        over that many keep-alive connections."""
        results: list[tuple[int, float, float]] = []
        shared = Pool(self.host, self.port, pool) if pool else None

        async def one(i: int) -> None:
            delay = at[i] - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = time.monotonic()
            try:
                if shared is not None:
                    status = await shared.request("POST", path, body=bodies[i].encode(), cookie=self.cookies[i])
                else:
                    status, _, _ = await http(
                        self.host, self.port, "POST", path, body=bodies[i].encode(), cookie=self.cookies[i]
                    )
            except (OSError, asyncio.IncompleteReadError):
                status = 0
            results.append((status, sent, time.monotonic()))

        await asyncio.gather(*(one(i) for i in range(len(bodies))))
        return {"results": results}

    async def cmd_ask(self, path: str, texts: list[str], at: list[float], offset: int) -> dict[str, Any]:
        results: list[tuple[int, float, float, int | None]] = []

        async def one(i: int) -> None:
            delay = at[i] - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = time.monotonic()
            body = json.dumps({"text": texts[i]}).encode()
            try:
                status, _, content = await http(
                    self.host, self.port, "POST", path, body=body, cookie=self.cookies[offset + i]
                )
                qid = json.loads(content).get("id") if status == 201 else None
            except (OSError, ValueError):
                status, qid = 0, None
            results.append((status, sent, time.monotonic(), qid))

        await asyncio.gather(*(one(i) for i in range(len(texts))))
        return {"results": results}

    async def cmd_act(self, messages: list[str], at: list[float], first: int = 0) -> dict[str, Any]:
        """Viewer first+i sends messages[i] (an action with its `ref`) at monotonic time at[i]; the replies."""
        self.answered = []
        self.to_answer = len(messages)  # not "none waiting": replies may overtake the later sends
        self.all_answered = asyncio.get_running_loop().create_future()
        refs = [json.loads(m)["ref"] for m in messages]

        async def one(i: int) -> None:
            delay = at[i] - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.sent[refs[i]] = time.monotonic()
            self.viewers[first + i].send_text(messages[i].encode())

        await asyncio.gather(*(one(i) for i in range(len(messages))))
        if self.to_answer > 0:
            try:
                await asyncio.wait_for(self.all_answered, 60)
            except TimeoutError:
                pass
        missing = len(self.sent)
        self.sent = {}
        return {"results": self.answered, "unanswered": missing}

    async def cmd_join(self, n: int, seconds: float, start: float) -> dict[str, Any]:
        """Connect n new viewers, the i-th at start + i*seconds/n; when each had its first message (snapshot)."""
        loop = asyncio.get_running_loop()
        begin = len(self.viewers)
        joined: list[tuple[float, float]] = []
        failed = 0

        async def one(i: int) -> None:
            nonlocal failed
            delay = start + i * seconds / n - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            cookie = self.cookies[begin + i] if begin + i < len(self.cookies) else None
            began = time.monotonic()
            try:
                _, viewer = await loop.create_connection(lambda: Viewer(self, cookie), self.host, self.port)
                if await asyncio.wait_for(viewer.ready, 120):
                    self.viewers.append(viewer)
                    joined.append((began, viewer.first_at or 0.0))
                else:
                    failed += 1
            except (OSError, TimeoutError):
                failed += 1

        await asyncio.gather(*(one(i) for i in range(n)))
        return {"joined": joined, "failed": failed}

    async def cmd_track(self, on: bool) -> dict[str, Any]:
        self.track_seq = on
        for viewer in self.viewers:
            viewer.synced_at = viewer.reached_at = None
        self.resumed = 0
        return {"viewers": len(self.viewers)}

    async def cmd_synced(self, timeout: float, at_least: int) -> dict[str, Any]:
        """Wait until every viewer has come back, had its `synced` and seen seq `at_least`; when each did."""
        self.target_seq = at_least
        now = time.monotonic()
        for viewer in self.viewers:  # had it before it was named: counted from now (an upper bound)
            if viewer.reached_at is None and viewer.seq >= at_least:
                viewer.reached_at = now
        deadline = now + timeout
        while time.monotonic() < deadline:
            if all(v.synced_at is not None and v.reached_at is not None for v in self.viewers):
                break
            await asyncio.sleep(0.05)
        self.target_seq = 0
        return {"synced": [v.synced_at for v in self.viewers if v.synced_at is not None],
                "have_change": [v.reached_at for v in self.viewers if v.reached_at is not None],
                "missing": sum(1 for v in self.viewers if v.synced_at is None), "resumed": self.resumed}

    async def cmd_close(self) -> dict[str, Any]:
        for viewer in self.viewers:
            if viewer.transport is not None:
                viewer.transport.close()
        self.viewers = []
        return {"closed": True}


async def main() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    client = Client()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    random.seed()
    running: set[asyncio.Task[None]] = set()

    async def run(command: dict[str, Any]) -> None:
        ident = command.pop("id")
        name = command.pop("cmd")
        if name == "target":
            client.host, client.port, client.path = command["host"], command["port"], command["path"]
            client.viewers, client.lost = [], 0
            reply: dict[str, Any] = {"ok": True}
        else:
            reply = await getattr(client, f"cmd_{name}")(**command)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        reply.update(id=ident, cpu=usage.ru_utime + usage.ru_stime)
        print(json.dumps(reply), flush=True)

    # Each command runs as its own task, so a vote burst can run while viewers wait for the totals.
    while line := await reader.readline():
        task = asyncio.create_task(run(json.loads(line)))
        running.add(task)
        task.add_done_callback(running.discard)


if __name__ == "__main__":
    uvloop.run(main())
