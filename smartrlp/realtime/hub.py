"""In-memory pub/sub for one server process.

Publishers hand over a `Broadcast` whose text is encoded once. `Hub.publish` turns it into one websocket
frame (bytes) and hands that same frame to every subscriber of the event, synchronously: a subscriber
writes it to its connection's transport without awaiting anything, or holds it in a bounded list while it
is still sending its snapshot. No task per viewer sits on a queue, and a viewer that cannot keep up is
closed (4008) by its subscriber rather than slowing the publisher; it then resumes from its last sequence
number. Measured in `docs/performance.md`.

A broadcast only some may see (a pending question: moderators, the studio views and the asking device) goes to
those subscribers only, found through two small indexes, so its cost does not grow with the number of viewers.

`Hub` also offers the operations of a cluster of workers (`smartrlp.realtime.broker.ClusterHub`) with their meaning
in one process, so that callers never ask which hub they have: ClusterHub overrides them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.frames import Frame, Opcode

from smartrlp.core import metrics
from smartrlp.realtime.protocol import AUDIENCE_PUBLIC

# The `seq` of a message that is current state rather than a logged change (poll results, reactions):
# it is not replayed after a reconnect, and it does not move a client's position in the change log.
EPHEMERAL_SEQ = 0

# Publishers of coalesced state (poll results, reaction levels) wait at least this many times as long as
# their last fan-out took before the next: with 10,000 viewers a fan-out costs tens of milliseconds, and
# a fixed 4 per second would leave too little of the process for the ballots themselves.
PACE_FACTOR = 8.0


@dataclass(frozen=True, slots=True)
class Broadcast:
    event_id: int
    seq: int
    audience: str
    text: str
    device_id: str | None = None


def text_frame(text: str) -> bytes:
    """One unmasked, uncompressed websocket text frame, as a server sends it (RFC 6455 section 5.2)."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


# Takes a message another worker sent with `Hub.send_live`.
LiveHandler = Callable[[dict[str, Any]], None]


class Subscriber(Protocol):
    # Who may see what: moderators and studio views may see more than the public, a device its own questions.
    is_staff: bool
    is_studio: bool
    device: str | None

    def deliver(self, broadcast: Broadcast, frame: bytes) -> None:
        """Take one broadcast without blocking; `frame` is its text as a ready websocket frame."""


class _EventSubscribers:
    """An event's subscribers: all of them, and indexes of the few a non-public broadcast may reach."""

    __slots__ = ("all", "by_device", "privileged")

    def __init__(self) -> None:
        # Dicts keep subscription order (fairness: the same viewers are not always served last) and remove in O(1).
        self.all: dict[Subscriber, None] = {}
        self.privileged: dict[Subscriber, None] = {}  # moderators and studio views
        self.by_device: defaultdict[str, dict[Subscriber, None]] = defaultdict(dict)

    def add(self, subscriber: Subscriber) -> None:
        self.all[subscriber] = None
        if subscriber.is_staff or subscriber.is_studio:
            self.privileged[subscriber] = None
        elif subscriber.device is not None:
            self.by_device[subscriber.device][subscriber] = None

    def remove(self, subscriber: Subscriber) -> None:
        self.all.pop(subscriber, None)
        self.privileged.pop(subscriber, None)
        mine = self.by_device.get(subscriber.device) if subscriber.device is not None else None
        if mine is not None:
            mine.pop(subscriber, None)
            if not mine:
                del self.by_device[subscriber.device]  # type: ignore[arg-type]

    def reached_by(self, broadcast: Broadcast) -> tuple[Subscriber, ...]:
        # A tuple: a subscriber that falls behind unsubscribes itself while the publisher iterates.
        if broadcast.audience == AUDIENCE_PUBLIC:
            return tuple(self.all)
        mine = self.by_device.get(broadcast.device_id, {}) if broadcast.device_id is not None else {}
        return (*self.privileged, *mine)


class Hub:
    def __init__(self, queue_size: int) -> None:
        # How many broadcasts a subscriber may hold back while it sends its snapshot (see live.py).
        self.queue_size = queue_size
        self._subscribers: defaultdict[int, _EventSubscribers] = defaultdict(_EventSubscribers)
        # Seconds spent in fan-out so far, for `pause_after`.
        self.busy_seconds = 0.0

    def publish(self, broadcast: Broadcast) -> None:
        subscribers = self._subscribers.get(broadcast.event_id)
        if subscribers is None:
            return
        started = time.perf_counter()
        frame = text_frame(broadcast.text)
        for subscriber in subscribers.reached_by(broadcast):
            subscriber.deliver(broadcast, frame)
        took = time.perf_counter() - started
        self.busy_seconds += took
        metrics.BROADCASTS.inc()
        metrics.FANOUT_SECONDS.observe(took)

    def pause_after(self, interval: float, busy_before: float) -> float:
        """How long a publisher of coalesced state waits: `interval`, or longer when its fan-out was costly."""
        return max(interval, (self.busy_seconds - busy_before) * PACE_FACTOR)

    @contextmanager
    def subscribe(self, event_id: int, subscriber: Subscriber) -> Iterator[Subscriber]:
        self._subscribers[event_id].add(subscriber)
        try:
            yield subscriber
        finally:
            self.unsubscribe(event_id, subscriber)

    def unsubscribe(self, event_id: int, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(event_id)
        if subscribers is not None:
            subscribers.remove(subscriber)
            if not subscribers.all:
                del self._subscribers[event_id]

    def subscriber_count(self, event_id: int | None = None) -> int:
        if event_id is not None:
            subscribers = self._subscribers.get(event_id)
            return len(subscribers.all) if subscribers is not None else 0
        return sum(len(s.all) for s in self._subscribers.values())

    def connected_by_event(self) -> dict[int, tuple[int, int]]:
        """event id -> (viewers, moderators and studio views) connected to this process now."""
        return {
            event_id: (len(subs.all) - len(subs.privileged), len(subs.privileged))
            for event_id, subs in self._subscribers.items()
        }

    def may_reach(self, event_id: int) -> bool:
        """Whether a broadcast for the event may reach anyone, so that costly state need not be computed for none.

        In one process: whether it has subscribers. ClusterHub: always (the other workers' are not counted here).
        """
        return self.subscriber_count(event_id) > 0

    # ---------------------------------------------------------------- cluster operations, for one process

    async def run(self) -> None:
        """The hub's background work. One process has none: this returns at once, and the lifespan's task group,
        which starts it for any hub, simply has one task fewer to cancel (ClusterHub runs until cancelled)."""

    def publish_everywhere(self, broadcast: Broadcast) -> None:
        """Ephemeral state for the viewers of every worker; in one process, those of this one."""
        self.publish(broadcast)

    def send_live(self, kind: str, payload: dict[str, Any]) -> None:
        """Tell the other workers' `on_live(kind)` handlers; in one process there are none to tell."""

    def on_live(self, kind: str, handler: LiveHandler) -> None:
        """Call `handler` with each `kind` message another worker sends; in one process none ever comes."""

    async def claim(self, key: str, seconds: float) -> bool:
        """True for one worker per `seconds` and key, so work done for all is done once; a lone process always may."""
        return True
