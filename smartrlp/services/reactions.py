"""Reactions (applause and a few emoji): counted per device in a sliding window, pushed as a level, never stored.

A reaction is a momentary signal, not a record: keeping it in memory only means there is nothing personal to
store or delete, and a tap costs no disk write. Each device counts at most once per kind within the window, so
the level says how many devices are applauding, not how fast someone can tap.

With several workers each counts the devices connected to it and tells the others its own level (when it
changes, and every `SHARE_SECONDS` while it is not zero); every worker shows its viewers the sum. A device that
reacts through two workers within one window counts twice, which a level can afford; in exchange a tap never
waits for Redis, and a worker that stops sending (crashed, or Redis down) drops out after `REMOTE_TTL`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smartrlp.models.reactions import React
from smartrlp.realtime import protocol
from smartrlp.realtime.hub import EPHEMERAL_SEQ, Broadcast, Hub
from smartrlp.services import phases
from smartrlp.services.context import Context

log = logging.getLogger("smartrlp.reactions")

WINDOW_SECONDS = 10.0
# Per event and kind; beyond it a burst is already "everyone", and memory stays bounded.
MAX_DEVICES_PER_KIND = 100_000
SHARE_SECONDS = 2.0
REMOTE_TTL = 3 * SHARE_SECONDS
LIVE_KIND = "reactions"


@dataclass
class ReactionMeter:
    hub: Hub
    window: float = WINDOW_SECONDS
    interval: float = 0.25
    clock: Callable[[], float] = time.monotonic
    # event id -> kind -> device -> when it last counted (insertion order is time order)
    _seen: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)
    _published: dict[int, dict[str, int]] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Other workers' own levels: event id -> worker -> (counts, until when they count).
    _remote: dict[int, dict[str, tuple[dict[str, int], float]]] = field(default_factory=dict)
    # What this worker last told the others: event id -> (counts, when).
    _shared: dict[int, tuple[dict[str, int], float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Other workers' levels (in one process the hub never calls this).
        self.hub.on_live(LIVE_KIND, self._received)

    def react(self, event_id: int, device: str, kind: str) -> bool:
        """Count the reaction unless this device already counted for `kind` within the window."""
        now = self.clock()
        by_device = self._seen.setdefault(event_id, defaultdict(dict))[kind]
        last = by_device.get(device)
        if last is not None and now - last < self.window:
            return False
        if len(by_device) >= MAX_DEVICES_PER_KIND and last is None:
            self._expire(by_device, now)
            if len(by_device) >= MAX_DEVICES_PER_KIND:
                return False
        by_device.pop(device, None)
        by_device[device] = now
        self._wake.set()
        return True

    def _expire(self, by_device: dict[str, float], now: float) -> None:
        for device, when in list(by_device.items()):
            if now - when < self.window:
                break
            del by_device[device]

    def _local_counts(self, event_id: int) -> dict[str, int]:
        now = self.clock()
        kinds = self._seen.get(event_id, {})
        for by_device in kinds.values():
            self._expire(by_device, now)
        return {kind: len(kinds.get(kind, ())) for kind in protocol.REACTION_KINDS}

    def counts(self, event_id: int) -> dict[str, int]:
        """The level viewers see: this worker's devices plus what the other workers last reported."""
        counts = self._local_counts(event_id)
        peers = self._remote.get(event_id)
        if peers is not None:
            now = self.clock()
            for worker, (theirs, until) in list(peers.items()):
                if until < now:
                    del peers[worker]
                    continue
                for kind in counts:
                    counts[kind] += theirs.get(kind, 0)
            if not peers:
                del self._remote[event_id]
        return counts

    def message(self, event_id: int) -> dict[str, Any]:
        return {"type": protocol.REACTIONS, "counts": self.counts(event_id), "window_seconds": int(self.window)}

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            busy_before = self.hub.busy_seconds
            for event_id in set(self._seen) | set(self._remote):
                try:
                    self._publish(event_id)
                except Exception:
                    log.exception("publishing reactions of event %d failed", event_id)
            if self._seen or self._remote:
                # Levels fall as the window slides, so keep ticking while anything is counted.
                self._wake.set()
            await asyncio.sleep(self.hub.pause_after(self.interval, busy_before))

    def _publish(self, event_id: int) -> None:
        self._share(event_id, self._local_counts(event_id))
        counts = self.counts(event_id)
        if not any(self._local_counts(event_id).values()):
            self._seen.pop(event_id, None)
        if counts == self._published.get(event_id):
            return
        self._published[event_id] = counts
        if not any(counts.values()):
            self._published.pop(event_id, None)
        message = {"type": protocol.REACTIONS, "counts": counts, "window_seconds": int(self.window)}
        # Local fan-out only: every worker sums the levels for its own viewers.
        self.hub.publish(Broadcast(event_id, EPHEMERAL_SEQ, protocol.AUDIENCE_PUBLIC, protocol.encode(message)))

    def _share(self, event_id: int, local: dict[str, int]) -> None:
        """Tell the other workers this worker's own level (the hub drops it when there are none)."""
        now = self.clock()
        last = self._shared.get(event_id)
        if last is None and not any(local.values()):
            return
        if last is not None and last[0] == local and (not any(local.values()) or now - last[1] < SHARE_SECONDS):
            return
        self._shared[event_id] = (local, now)
        self.hub.send_live(LIVE_KIND, {"e": event_id, "c": local})

    def _received(self, message: dict[str, Any]) -> None:
        event_id, worker, raw = int(message["e"]), str(message["w"]), message["c"]
        if not isinstance(raw, dict):
            return
        counts = {kind: int(raw.get(kind, 0)) for kind in protocol.REACTION_KINDS}
        # An empty entry stays until the next tick, so the lower level still reaches the viewers.
        peers = self._remote.setdefault(event_id, {})
        if any(counts.values()):
            peers[worker] = (counts, self.clock() + REMOTE_TTL)
        else:
            peers.pop(worker, None)
        self._wake.set()


async def react(ctx: Context, meter: ReactionMeter, event_id: int, body: React, *, device: str) -> dict[str, bool]:
    """A viewer's reaction, from `POST …/reactions` or the websocket: counted once per device and kind per window,
    while the event is live (409 before the start and after the end)."""
    starts_at, ends_at = await phases.event_times(ctx.db, event_id)
    phases.refuse_unless_live(starts_at, ends_at, phases.now_of(ctx), "reactions")
    return {"counted": meter.react(event_id, device, body.kind)}
