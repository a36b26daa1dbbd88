"""The per-event change log: every change gets the next sequence number in the transaction that makes it.

A change is written to `changes` together with the data it describes and is published to the hub only
after COMMIT (inside the writer lock, so publication order is sequence order). A client that reconnects
replays the log from its last sequence number. With several workers (`smartrlp.broker.ClusterHub`) the
publication goes through the broker, which delivers every worker's changes to every worker in seq order.
"""

from __future__ import annotations

import time
from typing import Any

from smartrlp.db.store import Database, Transaction, utcnow
from smartrlp.realtime import protocol
from smartrlp.realtime.hub import Broadcast, Hub


class ChangeLog:
    """The change log bound to the hub that publishes it: services record changes and never publish themselves.

    Built once in the lifespan with the app's hub (in-process or clustered), so no service needs to know which.
    """

    __slots__ = ("hub",)

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def record(
        self,
        tx: Transaction,
        event_id: int,
        message_type: str,
        body: dict[str, Any],
        *,
        audience: str = protocol.AUDIENCE_PUBLIC,
        device_id: str | None = None,
    ) -> int:
        """Log the change in `tx` with the event's next seq; it is published after COMMIT, in seq order."""
        row = await tx.fetchone(
            "UPDATE events SET last_seq = last_seq + 1 WHERE id = :id RETURNING last_seq", {"id": event_id}
        )
        assert row is not None
        seq = int(row["last_seq"])
        # `at`: when the studio made the change. A viewer page whose video runs behind shows it at `at` + the delay.
        text = protocol.encode({"type": message_type, "seq": seq, "at": server_time_ms(), **body})
        await tx.execute(
            "INSERT INTO changes (event_id, seq, type, audience, device_id, message, created_at) "
            "VALUES (:event_id, :seq, :type, :audience, :device_id, :message, :now)",
            {
                "event_id": event_id,
                "seq": seq,
                "type": message_type,
                "audience": audience,
                "device_id": device_id,
                "message": text,
                "now": utcnow(),
            },
        )
        broadcast = Broadcast(event_id, seq, audience, text, device_id)
        tx.after_commit(lambda: self.hub.publish(broadcast))
        return seq


def server_time_ms() -> int:
    """The server's clock in milliseconds since the epoch: `at` of changes and results, `now` of `pong`."""
    return time.time_ns() // 1_000_000


def visible_to(broadcast: Broadcast, *, is_staff: bool, device: str | None, is_studio: bool = False) -> bool:
    if broadcast.audience == protocol.AUDIENCE_PUBLIC or is_staff:
        return True
    if broadcast.audience == protocol.AUDIENCE_STUDIO:
        return is_studio
    return device is not None and broadcast.device_id == device


async def since(db: Database, event_id: int, seq: int) -> list[Broadcast]:
    rows = await db.fetchall(
        "SELECT seq, audience, device_id, message FROM changes WHERE event_id = :event_id AND seq > :seq ORDER BY seq",
        {"event_id": event_id, "seq": seq},
    )
    return [Broadcast(event_id, r["seq"], r["audience"], r["message"], r["device_id"]) for r in rows]
