"""In-memory pub/sub for one server process.

Publishers hand over a `Broadcast` whose text is encoded once. `Hub.publish` turns it into one websocket
frame (bytes) and hands that same frame to every subscriber of the event, synchronously: a subscriber
writes it to its connection's transport without awaiting anything, or holds it in a bounded list while it
is still sending its snapshot. No task per viewer sits on a queue, and a viewer that cannot keep up is
closed (4008) by its subscriber rather than slowing the publisher; it then resumes from its last sequence
number. Measured in `docs/performance.md`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from websockets.frames import Frame, Opcode

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


class Subscriber(Protocol):
    def deliver(self, broadcast: Broadcast, frame: bytes) -> None:
        """Take one broadcast without blocking; `frame` is its text as a ready websocket frame."""


class Hub:
    def __init__(self, queue_size: int) -> None:
        # How many broadcasts a subscriber may hold back while it sends its snapshot (see live.py).
        self.queue_size = queue_size
        # A dict keeps subscription order (fairness: the same viewers are not always served last) and
        # removes in O(1).
        self._subscribers: defaultdict[int, dict[Subscriber, None]] = defaultdict(dict)
        # Seconds spent in fan-out so far, for `pause_after`.
        self.busy_seconds = 0.0

    def publish(self, broadcast: Broadcast) -> None:
        subscribers = self._subscribers.get(broadcast.event_id)
        if not subscribers:
            return
        started = time.perf_counter()
        frame = text_frame(broadcast.text)
        # A copy: a subscriber that falls behind unsubscribes itself while we iterate.
        for subscriber in tuple(subscribers):
            subscriber.deliver(broadcast, frame)
        self.busy_seconds += time.perf_counter() - started

    def pause_after(self, interval: float, busy_before: float) -> float:
        """How long a publisher of coalesced state waits: `interval`, or longer when its fan-out was costly."""
        return max(interval, (self.busy_seconds - busy_before) * PACE_FACTOR)

    @contextmanager
    def subscribe(self, event_id: int, subscriber: Subscriber) -> Iterator[Subscriber]:
        self._subscribers[event_id][subscriber] = None
        try:
            yield subscriber
        finally:
            self.unsubscribe(event_id, subscriber)

    def unsubscribe(self, event_id: int, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(event_id)
        if subscribers is not None:
            subscribers.pop(subscriber, None)
            if not subscribers:
                del self._subscribers[event_id]

    def subscriber_count(self, event_id: int | None = None) -> int:
        if event_id is not None:
            return len(self._subscribers.get(event_id, ()))
        return sum(len(s) for s in self._subscribers.values())
