"""Poll results: counted from the stored ballots, and pushed to the pages coalesced.

However fast ballots come, `ResultsPublisher` tells the pages the new counts a few times a second at most; the
word cloud groups words without regard to case and shows each in the spelling most people used.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from smartrlp.core.wordfilter import word_key
from smartrlp.db.store import Database, Transaction
from smartrlp.models.polls import CHOICE_KINDS
from smartrlp.realtime import protocol
from smartrlp.realtime.changes import server_time_ms
from smartrlp.realtime.hub import EPHEMERAL_SEQ, Broadcast, Hub

log = logging.getLogger("smartrlp.results")

WORDS_SHOWN = 60
# A ballot with several words keeps them in its one `word` column, one per line (a word never holds a line break).
WORD_SEPARATOR = "\n"

Reader = Database | Transaction


def results_public(poll: sqlite3.Row | dict[str, Any]) -> bool:
    """Whether viewers may see this poll's results now."""
    if poll["state"] == "draft":
        return False
    if poll["results_visibility"] == "live":
        return True
    return poll["results_visibility"] == "after_close" and poll["state"] == "closed"


def _percent(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


async def compute_results(
    conn: Reader, poll: sqlite3.Row | dict[str, Any], option_ids: Iterable[int]
) -> dict[str, Any]:
    poll_id = poll["id"]
    # Ballots of blocked devices are stored (their sender sees its answer) but `counted = 0`: never in results.
    row = await conn.fetchone(
        "SELECT COUNT(*) AS n FROM poll_ballots WHERE poll_id = :poll_id AND counted = 1", {"poll_id": poll_id}
    )
    total = int(row["n"]) if row else 0
    kind = poll["kind"]
    if kind in CHOICE_KINDS:
        rows = await conn.fetchall(
            "SELECT option_id, COUNT(*) AS n FROM poll_ballot_options WHERE poll_id = :poll_id AND counted = 1 "
            "GROUP BY option_id",
            {"poll_id": poll_id},
        )
        counts = {r["option_id"]: int(r["n"]) for r in rows}
        options = [
            {"id": i, "count": counts.get(i, 0), "percent": _percent(counts.get(i, 0), total)} for i in option_ids
        ]
        return {"total": total, "options": options}
    if kind == "rating":
        rows = await conn.fetchall(
            "SELECT value, COUNT(*) AS n FROM poll_ballots WHERE poll_id = :poll_id AND counted = 1 GROUP BY value",
            {"poll_id": poll_id},
        )
        counts = {r["value"]: int(r["n"]) for r in rows}
        values = [
            {"value": v, "count": counts.get(v, 0), "percent": _percent(counts.get(v, 0), total)}
            for v in range(1, int(poll["scale_max"]) + 1)
        ]
        mean = round(sum(v * n for v, n in counts.items()) / total, 2) if total else None
        return {"total": total, "values": values, "mean": mean}
    rows = await conn.fetchall(
        "SELECT word FROM poll_ballots WHERE poll_id = :poll_id AND counted = 1 ORDER BY created_at, device_id",
        {"poll_id": poll_id},
    )
    return {"total": total, "words": word_cloud(row["word"] for row in rows)}


def word_cloud(ballots: Iterable[str], shown: int = WORDS_SHOWN) -> list[dict[str, Any]]:
    """The most named words: grouped without regard to case, each in the spelling most people used ("WLAN" over
    "wlan"; a tie goes to the spelling given first), a word counted once per ballot, most named first."""
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for ballot in ballots:
        for word in dict.fromkeys(ballot.split(WORD_SEPARATOR)):
            key = word_key(word)
            spellings.setdefault(key, Counter())[word] += 1
        for key in {word_key(word) for word in ballot.split(WORD_SEPARATOR)}:
            counts[key] += 1
    # Counter.most_common keeps the order of first appearance among equal counts: the earliest spelling wins a tie.
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:shown]
    return [{"text": spellings[key].most_common(1)[0][0], "count": count} for key, count in top]


@dataclass
class ResultsPublisher:
    """Coalesces result updates: at most one `poll_results` per poll every `interval` seconds (or less often
    when sending them to every viewer is costly, see `Hub.pause_after`)."""

    db: Database
    hub: Hub
    interval: float = 0.25
    _dirty: set[tuple[int, int]] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    messages_sent: int = 0
    # Per event, a number that grows whenever ballots changed its results: shared snapshots that carry results
    # are valid for one value of it (smartrlp/services/snapshot.py).
    _generations: dict[int, int] = field(default_factory=dict)
    # Per poll, how often a moderator changed it in this process (`poll_changed`): dates BallotWriter.targets.
    _poll_versions: dict[int, int] = field(default_factory=dict)

    def mark(self, event_id: int, poll_id: int) -> None:
        self._generations[event_id] = self._generations.get(event_id, 0) + 1
        self._dirty.add((event_id, poll_id))
        self._wake.set()

    def generation(self, event_id: int) -> int:
        return self._generations.get(event_id, 0)

    def poll_changed(self, event_id: int, poll_id: int) -> None:  # after commit: what was read of it is out of date
        self._poll_versions[poll_id] = self._poll_versions.get(poll_id, 0) + 1
        self.mark(event_id, poll_id)

    def poll_version(self, poll_id: int) -> int:
        return self._poll_versions.get(poll_id, 0)

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            busy_before = self.hub.busy_seconds
            dirty, self._dirty = self._dirty, set()
            for event_id, poll_id in sorted(dirty):
                try:
                    await self._publish(event_id, poll_id)
                except Exception:
                    # A failed read must not stop the results of every other poll.
                    log.exception("publishing results of poll %d failed", poll_id)
            await asyncio.sleep(self.hub.pause_after(self.interval, busy_before))

    async def _publish(self, event_id: int, poll_id: int) -> None:
        poll = await self.db.fetchone(
            "SELECT id, kind, state, results_visibility, scale_max FROM polls WHERE id = :id", {"id": poll_id}
        )
        # With several workers the viewers may all be on the others: `may_reach` is then always true.
        if poll is None or not self.hub.may_reach(event_id):
            return
        # Results are counted from the shared database, so one worker's count serves all: per tick and poll
        # only the worker that claims it publishes (in one process: always this one). The others keep the poll
        # marked and try next tick, so ballots they wrote after the winner's count are not left out.
        if not await self.hub.claim(f"results:{poll_id}", self.interval):
            self.mark(event_id, poll_id)
            return
        option_ids = await option_ids_of(self.db, poll_id)
        message = results_message(poll_id, await compute_results(self.db, poll, option_ids))
        # Hidden results still reach the studio views: the host may read them out.
        audience = protocol.AUDIENCE_PUBLIC if results_public(poll) else protocol.AUDIENCE_STUDIO
        self.hub.publish_everywhere(Broadcast(event_id, EPHEMERAL_SEQ, audience, protocol.encode(message)))
        self.messages_sent += 1


async def option_ids_of(conn: Reader, poll_id: int) -> list[int]:
    rows = await conn.fetchall("SELECT id FROM poll_options WHERE poll_id = :id ORDER BY position, id", {"id": poll_id})
    return [r["id"] for r in rows]


def results_message(poll_id: int, results: dict[str, Any]) -> dict[str, Any]:
    # `at`: when they were counted; a viewer whose video runs behind sees them when the poll's state reaches it.
    return {"type": protocol.POLL_RESULTS, "poll_id": poll_id, "at": server_time_ms(), "results": results}
