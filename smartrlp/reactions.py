"""Reactions (applause and a few emoji): counted per device in a sliding window, pushed as a level, never stored.

A reaction is a momentary signal, not a record: keeping it in memory only means there is nothing personal to
store or delete, and a tap costs no disk write. Each device counts at most once per kind within the window, so
the level says how many devices are applauding, not how fast someone can tap.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartrlp import protocol
from smartrlp.errors import invalid
from smartrlp.events import event_by_slug
from smartrlp.hub import EPHEMERAL_SEQ, Broadcast, Hub
from smartrlp.web import app_state, json_response, read_json, require_device

log = logging.getLogger("smartrlp.reactions")

WINDOW_SECONDS = 10.0
# Per event and kind; beyond it a burst is already "everyone", and memory stays bounded.
MAX_DEVICES_PER_KIND = 100_000


def check_kind(kind: object) -> str:
    if kind not in protocol.REACTION_KINDS:
        raise invalid(f"'kind' must be one of {', '.join(protocol.REACTION_KINDS)}.", "kind")
    return str(kind)


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

    def counts(self, event_id: int) -> dict[str, int]:
        now = self.clock()
        kinds = self._seen.get(event_id, {})
        for by_device in kinds.values():
            self._expire(by_device, now)
        return {kind: len(kinds.get(kind, ())) for kind in protocol.REACTION_KINDS}

    def message(self, event_id: int) -> dict[str, object]:
        return {"type": protocol.REACTIONS, "counts": self.counts(event_id), "window_seconds": int(self.window)}

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            busy_before = self.hub.busy_seconds
            for event_id in list(self._seen):
                try:
                    self._publish(event_id)
                except Exception:
                    log.exception("publishing reactions of event %d failed", event_id)
            if any(any(kinds.values()) for kinds in self._seen.values()):
                # Levels fall as the window slides, so keep ticking while anything is counted.
                self._wake.set()
            await asyncio.sleep(self.hub.pause_after(self.interval, busy_before))

    def _publish(self, event_id: int) -> None:
        counts = self.counts(event_id)
        if counts == self._published.get(event_id):
            return
        self._published[event_id] = counts
        if not any(counts.values()):
            del self._seen[event_id]
            self._published.pop(event_id, None)
        message = {"type": protocol.REACTIONS, "counts": counts, "window_seconds": int(self.window)}
        self.hub.publish(Broadcast(event_id, EPHEMERAL_SEQ, protocol.AUDIENCE_PUBLIC, protocol.encode(message)))


async def react(request: Request) -> Response:
    state = app_state(request)
    event = await event_by_slug(state.db, request.path_params["slug"])
    body = await read_json(request)
    kind = check_kind(body.get("kind"))
    counted = state.reactions.react(event["id"], require_device(request), kind)
    return json_response({"counted": counted}, status=202)


routes = [Route("/api/events/{slug}/reactions", react, methods=["POST"])]
