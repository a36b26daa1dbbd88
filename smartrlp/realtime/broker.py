"""Scale-out: several worker processes share one database and reach each other through Redis pub/sub.

Without `SMARTRLP_BROKER` there is one process and the plain in-memory `Hub`; nothing here runs.

With a broker, `ClusterHub` takes the hub's place. The crux is ordering. Sequence numbers are assigned in the
database transaction, so they are gap-free per event across all workers, but publication is not ordered: worker
A may commit seq 5 and worker B seq 6, and B's message can reach Redis (and the other workers) first. A client
that got 6 would then drop 5 for good (it ignores seq <= its last). So Redis never carries the changes
themselves, only a notification "event E has seq S now", and the change log stays the one source of truth:

- every worker remembers, per event, the last seq it handed to its local subscribers (`_delivered`);
- a change committed by this worker is delivered at once when it is the next one (the common case, no read);
  otherwise it, like a notification from another worker, only marks the event as behind;
- a catch-up task reads the missing entries from `changes` in seq order and delivers each exactly once.

Notifications that arrive late, twice, out of order or never are therefore harmless: a commit of seq S means
every seq below S is committed too (SQLite has one writer at a time), so one read after hearing of S finds all
of them. Lost notifications (Redis down, a dropped message) are caught by comparing `events.last_seq` with what
was delivered, every few seconds and right after each (re)connection.

Ephemeral messages (poll results, reaction levels) are current state, not changes; they travel as payload on a
second channel. Redis being down never stops a worker from serving its own viewers: it logs loudly, reconnects
with backoff, and in the meantime still delivers other workers' changes from the log at the re-check interval.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import secrets
from typing import Any

import anyio
import redis.asyncio as aioredis

from smartrlp.core.settings import SettingsError
from smartrlp.db.store import Database
from smartrlp.realtime import changes
from smartrlp.realtime.hub import EPHEMERAL_SEQ, Broadcast, Hub, LiveHandler

log = logging.getLogger("smartrlp.broker")

# How often the log is compared with what was delivered; the safety net for lost notifications. While Redis
# is unreachable this is the only way other workers' changes arrive, so it runs more often then.
RECHECK_SECONDS = 5.0
RECHECK_DISCONNECTED_SECONDS = 1.0
RECONNECT_MIN_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 5.0
# Messages waiting for Redis. When full, notifications are dropped (the re-check catches up from the log) and so
# are ephemeral payloads (the next one carries the current state anyway).
OUTBOX_SIZE = 10_000
# Ephemeral messages per event waiting for the changes they follow (see `publish_everywhere`); older ones are
# dropped first, as a newer result supersedes them anyway.
HELD_PER_EVENT = 64
URL_SCHEMES = ("redis://", "rediss://", "unix://")


def check_url(url: str) -> None:
    if not url.startswith(URL_SCHEMES):
        raise SettingsError(f"SMARTRLP_BROKER must be a redis://, rediss:// or unix:// address, not {url!r}")


def namespace_for(db_path: str) -> str:
    """Channel prefix: the workers of one database share it; another installation on the same Redis does not.

    Redis pub/sub ignores the database number in the URL, so the database file itself names the cluster.
    """
    digest = hashlib.sha256(os.path.realpath(db_path).encode()).hexdigest()[:16]
    return f"smartrlp:{digest}"


class ClusterHub(Hub):
    """A `Hub` whose logged changes reach every worker's subscribers once and in seq order.

    `Hub.publish` stays the local fan-out: this class calls it for each change in order. Callers keep calling
    `publish`; for logged changes (seq > 0) it goes through the sequencer here, ephemeral ones stay local
    (use `publish_everywhere` for ephemeral state that every worker's viewers should get).
    """

    def __init__(self, queue_size: int, db: Database, url: str) -> None:
        check_url(url)
        super().__init__(queue_size)
        self.db = db
        self.url = url
        self.worker = secrets.token_hex(6)
        prefix = namespace_for(db.path)
        self.changes_channel = f"{prefix}:changes"
        self.live_channel = f"{prefix}:live"
        self._claim_prefix = f"{prefix}:claim:"
        self.connected = False
        self._delivered: dict[int, int] = {}
        self._behind: dict[int, int] = {}  # event id -> highest seq known to be committed but not delivered
        self._wake = asyncio.Event()
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=OUTBOX_SIZE)
        self._client: aioredis.Redis | None = None
        self._handlers: dict[str, LiveHandler] = {}
        self._held: dict[int, list[tuple[int, Broadcast]]] = {}
        self._dropped = 0

    # ---------------------------------------------------------------- publishing

    def publish(self, broadcast: Broadcast) -> None:
        if broadcast.seq == EPHEMERAL_SEQ:
            super().publish(broadcast)
            return
        # Called after COMMIT, so the change is in the log for every worker to read.
        if broadcast.seq == self._delivered.get(broadcast.event_id, 0) + 1:
            self._deliver(broadcast)
        else:
            self._mark_behind(broadcast.event_id, broadcast.seq)
        self._send(self.changes_channel, {"w": self.worker, "e": broadcast.event_id, "s": broadcast.seq})

    def may_reach(self, event_id: int) -> bool:
        # Viewers of the event may all be connected to other workers.
        return True

    def publish_coalesced(self, broadcast: Broadcast, key: Any) -> None:
        # Every worker delivers every logged change in seq order (a gap is read back from the log), so a change
        # held back here would only be read back by the others: it goes out as any other.
        self.publish(broadcast)

    def publish_everywhere(self, broadcast: Broadcast) -> None:
        """Ephemeral state for the viewers of every worker (e.g. poll results computed once for all).

        It carries the seq this worker had delivered, and another worker holds it back until it has delivered
        that far too: results of a poll must not overtake the change that launched it.
        """
        super().publish(broadcast)
        payload = {"e": broadcast.event_id, "s": self._delivered.get(broadcast.event_id, 0), "a": broadcast.audience}
        self.send_live("broadcast", {**payload, "t": broadcast.text, "d": broadcast.device_id})

    def send_live(self, kind: str, payload: dict[str, Any]) -> None:
        self._send(self.live_channel, {"w": self.worker, "k": kind, **payload})

    def on_live(self, kind: str, handler: LiveHandler) -> None:
        """Call `handler` with each `kind` message that another worker sent with `send_live`."""
        self._handlers[kind] = handler

    async def claim(self, key: str, seconds: float) -> bool:
        """True for one worker per `seconds` and key, so that work done for all is not done by every worker.

        Without Redis every worker may go ahead: it can only reach its own viewers then anyway.
        """
        client = self._client
        if client is None:
            return True
        try:
            return bool(
                await client.set(self._claim_prefix + key, self.worker, nx=True, px=max(1, int(seconds * 1000)))
            )
        except (aioredis.RedisError, OSError):
            return True

    def _send(self, channel: str, message: dict[str, Any]) -> None:
        if self._client is None:
            return  # nobody to tell; the others catch up from the log when it is back
        try:
            self._outbox.put_nowait((channel, json.dumps(message, separators=(",", ":"))))
        except asyncio.QueueFull:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                log.warning("broker outbox full: %d messages dropped (the log re-check covers changes)", self._dropped)

    # ---------------------------------------------------------------- in-order delivery from the log

    async def load_heads(self) -> None:
        """Start from the log's current heads; call before the first subscriber can connect.

        A subscriber reads the head after subscribing and skips everything up to it, so only what is
        committed after this point needs delivering. Events created later start at 0 (the default).
        """
        rows = await self.db.fetchall("SELECT id, last_seq FROM events")
        self._delivered = {int(r["id"]): int(r["last_seq"]) for r in rows}

    def _deliver(self, broadcast: Broadcast) -> None:
        self._delivered[broadcast.event_id] = broadcast.seq
        super().publish(broadcast)
        held = self._held.get(broadcast.event_id)
        if held:
            ready = [b for after, b in held if after <= broadcast.seq]
            if ready:
                self._held[broadcast.event_id] = [(a, b) for a, b in held if a > broadcast.seq]
                for ephemeral in ready:
                    super().publish(ephemeral)

    def _received_ephemeral(self, after: int, broadcast: Broadcast) -> None:
        if after <= self._delivered.get(broadcast.event_id, 0):
            super().publish(broadcast)
            return
        held = self._held.setdefault(broadcast.event_id, [])
        held.append((after, broadcast))
        del held[:-HELD_PER_EVENT]
        self._mark_behind(broadcast.event_id, after)

    def _mark_behind(self, event_id: int, seq: int) -> None:
        if seq > self._behind.get(event_id, 0):
            self._behind[event_id] = seq
        self._wake.set()

    async def _catch_up_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            behind, self._behind = self._behind, {}
            for event_id, seq in behind.items():
                try:
                    await self._catch_up(event_id, seq)
                except Exception:
                    log.exception("reading the change log of event %d failed; trying again", event_id)
                    self._mark_behind(event_id, seq)
                    await asyncio.sleep(RECONNECT_MIN_SECONDS)

    async def _catch_up(self, event_id: int, seq: int) -> None:
        start = self._delivered.get(event_id, 0)
        if seq <= start:
            return
        for broadcast in await changes.since(self.db, event_id, start):
            # The own worker's commits may have been delivered while the read was under way.
            if broadcast.seq > self._delivered.get(event_id, 0):
                self._deliver(broadcast)

    async def recheck(self) -> None:
        """Compare the log's heads with what was delivered: the net under lost notifications."""
        for row in await self.db.fetchall("SELECT id, last_seq FROM events"):
            if int(row["last_seq"]) > self._delivered.get(int(row["id"]), 0):
                self._mark_behind(int(row["id"]), int(row["last_seq"]))

    async def _recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(RECHECK_SECONDS if self.connected else RECHECK_DISCONNECTED_SECONDS)
            try:
                await self.recheck()
            except Exception:
                log.exception("re-checking the change log failed")

    # ---------------------------------------------------------------- Redis

    async def run(self) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(self._catch_up_forever)
            group.start_soon(self._recheck_forever)
            group.start_soon(self._send_forever)
            group.start_soon(self._listen_forever)

    async def _listen_forever(self) -> None:
        delay = RECONNECT_MIN_SECONDS
        while True:
            # Timeouts: a Redis that hangs must look like one that is down, not stall the sender forever.
            client = aioredis.Redis.from_url(
                self.url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=5
            )
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.changes_channel, self.live_channel)
                self._client = client
                self.connected = True
                log.info("broker %s connected (worker %s)", self.url, self.worker)
                delay = RECONNECT_MIN_SECONDS
                # Whatever was committed while we were not listening arrives from the log now.
                await self.recheck()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None:
                        self._received(message["channel"], message["data"])
            except (aioredis.RedisError, OSError) as error:
                log.error(
                    "broker %s unreachable (%s): serving this worker's viewers only, other workers' changes "
                    "arrive from the log every %.0fs; reconnecting in %.1fs",
                    self.url,
                    error or type(error).__name__,
                    RECHECK_DISCONNECTED_SECONDS,
                    delay,
                )
            except Exception:
                # Whatever it was, this worker keeps serving; a bug here must not take the server down.
                log.exception("broker listener failed; reconnecting in %.1fs", delay)
            finally:
                self._client = None
                self.connected = False
                with anyio.move_on_after(2, shield=True):
                    await pubsub.aclose()
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    async def _send_forever(self) -> None:
        while True:
            channel, data = await self._outbox.get()
            client = self._client
            if client is None:
                continue
            try:
                await client.publish(channel, data)
            except (aioredis.RedisError, OSError) as error:
                # The listener notices the same outage and reconnects; the log re-check covers the change.
                log.warning("publishing to the broker failed: %s", error or type(error).__name__)

    def _received(self, channel: bytes | str, data: bytes | str) -> None:
        try:
            message = json.loads(data)
            if message.get("w") == self.worker:
                return
            name = channel.decode() if isinstance(channel, bytes) else channel
            if name == self.changes_channel:
                event_id, seq = int(message["e"]), int(message["s"])
                if seq > self._delivered.get(event_id, 0):
                    self._mark_behind(event_id, seq)
            elif message.get("k") == "broadcast":
                broadcast = Broadcast(int(message["e"]), EPHEMERAL_SEQ, message["a"], message["t"], message["d"])
                self._received_ephemeral(int(message["s"]), broadcast)
            else:
                handler = self._handlers.get(str(message.get("k")))
                if handler is not None:
                    handler(message)
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed broker message on %r", channel)
