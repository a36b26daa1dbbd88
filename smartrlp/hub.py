"""In-memory pub/sub for one server process.

Publishers hand over a `Broadcast` whose text is encoded once; every subscriber of the event gets the same
object. Each subscriber has a bounded queue: a subscriber that cannot keep up is marked overflowed rather
than slowing the publisher, and its connection closes so the client resumes from its last sequence number.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

# The `seq` of a message that is current state rather than a logged change (poll results, reactions):
# it is not replayed after a reconnect, and it does not move a client's position in the change log.
EPHEMERAL_SEQ = 0


@dataclass(frozen=True, slots=True)
class Broadcast:
    event_id: int
    seq: int
    audience: str
    text: str
    device_id: str | None = None


@dataclass(eq=False)
class Subscription:
    event_id: int
    queue: asyncio.Queue[Broadcast]
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, broadcast: Broadcast) -> None:
        if self.overflowed.is_set():
            return
        try:
            self.queue.put_nowait(broadcast)
        except asyncio.QueueFull:
            self.overflowed.set()


class Hub:
    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self._subscribers: defaultdict[int, set[Subscription]] = defaultdict(set)

    def publish(self, broadcast: Broadcast) -> None:
        for subscription in self._subscribers.get(broadcast.event_id, ()):
            subscription.offer(broadcast)

    @asynccontextmanager
    async def subscribe(self, event_id: int) -> AsyncIterator[Subscription]:
        subscription = Subscription(event_id, asyncio.Queue(maxsize=self.queue_size))
        self._subscribers[event_id].add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(event_id)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[event_id]

    def subscriber_count(self, event_id: int | None = None) -> int:
        if event_id is not None:
            return len(self._subscribers.get(event_id, ()))
        return sum(len(s) for s in self._subscribers.values())
