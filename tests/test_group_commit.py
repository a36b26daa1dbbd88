"""Group commit in the one writer: transactions queued meanwhile share a COMMIT, each answered only after it.

In process, on a real database file with the real migrations and the real service functions (questions, upvotes,
ballots). What is checked is what a caller relies on: when `async with db.transaction()` (and so the service call)
returns, the change is committed (a second connection reads it); a failing transaction in a group is undone alone;
a caller that goes away leaves nobody waiting; broadcasts go out in seq order.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from typing import Any

import pytest
from fixtures import HubPage

from smartrlp.core.errors import ApiError
from smartrlp.db.store import GROUP_MAX_MEMBERS
from smartrlp.models.base import parse
from smartrlp.models.questions import AskQuestion
from smartrlp.services import events, questions
from smartrlp.services.context import Context

pytestmark = pytest.mark.anyio


class Listener(HubPage):
    """A page that can be waited on: `await page.until(condition)` (10 s at most)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrived = asyncio.Event()

    def deliver(self, broadcast: Any, frame: bytes) -> None:
        super().deliver(broadcast, frame)
        self.arrived.set()

    async def until(self, condition: Any) -> None:
        async with asyncio.timeout(10):
            while not (self.messages and condition(self.messages[-1])):
                self.arrived.clear()
                await self.arrived.wait()


async def _event(ctx: Context, **flags: Any) -> int:
    async with ctx.db.transaction() as tx:
        event_id = await events.create_event(tx, {"slug": "smart-rlp", "title": "Smart RLP"}, [])
        for name, value in flags.items():
            await tx.execute(f"UPDATE events SET {name} = :value WHERE id = :id", {"value": value, "id": event_id})
    return int(event_id)


def _committed(path: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """What another connection (another process, after a crash) reads: only committed data."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql, params).fetchall()


async def test_a_burst_of_questions_and_upvotes_shares_commits_and_each_is_committed_when_answered(
    ctx: Context,
) -> None:
    event_id = await _event(ctx, moderation_mode="post")
    path = ctx.db.path
    target = await questions.ask(ctx, event_id, parse(AskQuestion, {"text": "Die Frage zum Abstimmen"}), device="a")
    commits_before, grouped_before = ctx.db.commits, ctx.db.grouped_transactions
    moderator = Listener(staff=True)
    not_yet: list[str] = []

    async def ask(n: int) -> None:
        reply = await questions.ask(ctx, event_id, parse(AskQuestion, {"text": f"Frage {n}"}), device=f"d{n}")
        # Answered: another connection must see it now.
        if not _committed(path, "SELECT 1 FROM questions WHERE id = ?", (reply["id"],)):
            not_yet.append(f"question {n}")

    async def upvote(n: int) -> None:
        await questions.upvote(ctx, event_id, target["id"], device=f"v{n}")
        if not _committed(path, "SELECT 1 FROM question_votes WHERE device_id = ?", (f"v{n}",)):
            not_yet.append(f"vote {n}")

    with ctx.hub.subscribe(event_id, moderator):
        await asyncio.gather(*(ask(n) for n in range(150)), *(upvote(n) for n in range(150)))
        # Vote counts go out coalesced, the last one a moment later.
        await moderator.until(lambda m: m.get("votes") == 150)
    assert not_yet == []
    transactions = ctx.db.grouped_transactions - grouped_before
    commits = ctx.db.commits - commits_before
    assert transactions == 300
    assert commits < transactions / 3, f"{commits} commits for {transactions} transactions: no grouping"
    assert _committed(path, "SELECT votes FROM questions WHERE id = ?", (target["id"],)) == [(150,)]
    seqs = [m["seq"] for m in moderator.messages if m["type"] == "question"]
    assert seqs == sorted(seqs)
    assert len(seqs) == 150


async def test_a_failing_transaction_in_a_group_is_undone_alone(ctx: Context) -> None:
    event_id = await _event(ctx)
    started = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        # Holds the writer so that the others queue up and form one group behind it.
        async with ctx.db.transaction() as tx:
            await tx.execute("UPDATE events SET title = 'gehalten' WHERE id = :id", {"id": event_id})
            started.set()
            await release.wait()

    async def writes(n: int, fail: bool) -> None:
        async with ctx.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO questions (event_id, text, device_id, status, created_at, updated_at) "
                "VALUES (:e, :t, 'x', 'pending', 'now', 'now')",
                {"e": event_id, "t": f"Frage {n}"},
            )
            if fail:
                raise ApiError(409, "refused", "this one is refused after it wrote")

    first = asyncio.create_task(holder())
    await started.wait()
    others = [asyncio.create_task(writes(n, fail=n % 3 == 1)) for n in range(9)]
    await asyncio.sleep(0)  # let them queue behind the holder
    commits = ctx.db.commits
    release.set()
    results = await asyncio.gather(first, *others, return_exceptions=True)
    refused = [n for n, result in enumerate(results[1:]) if isinstance(result, ApiError)]
    assert refused == [1, 4, 7]
    assert all(result is None for n, result in enumerate(results[1:]) if n not in refused)
    stored = {text for (text,) in _committed(ctx.db.path, "SELECT text FROM questions")}
    assert stored == {f"Frage {n}" for n in range(9) if n not in refused}
    assert _committed(ctx.db.path, "SELECT title FROM events WHERE id = ?", (event_id,)) == [("gehalten",)]
    assert ctx.db.commits - commits <= 2


async def test_a_caller_that_goes_away_leaves_no_one_waiting(ctx: Context) -> None:
    event_id = await _event(ctx)
    started, release = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with ctx.db.transaction() as tx:
            await tx.execute("UPDATE events SET title = 'eins' WHERE id = :id", {"id": event_id})
            started.set()
            await release.wait()

    async def later(title: str) -> None:
        async with ctx.db.transaction() as tx:
            await tx.execute("UPDATE events SET description = :t WHERE id = :id", {"t": title, "id": event_id})

    first = asyncio.create_task(holder())
    await started.wait()
    gone = asyncio.create_task(later("nie"))  # queued for the writer, then cancelled (its client went away)
    await asyncio.sleep(0)
    release.set()
    await asyncio.sleep(0)
    gone.cancel()
    async with asyncio.timeout(10):
        await first
        await later("danach")
    assert _committed(ctx.db.path, "SELECT title, description FROM events WHERE id = ?", (event_id,)) == [
        ("eins", "danach")
    ]


async def test_groups_are_bounded(ctx: Context) -> None:
    event_id = await _event(ctx, moderation_mode="post")
    commits = ctx.db.commits
    count = GROUP_MAX_MEMBERS * 2 + 10
    await asyncio.gather(
        *(questions.ask(ctx, event_id, parse(AskQuestion, {"text": f"F{n}"}), device=f"d{n}") for n in range(count))
    )
    assert ctx.db.commits - commits >= 3


async def test_a_burst_of_upvotes_reaches_viewers_coalesced_and_ends_at_the_exact_count(ctx: Context) -> None:
    event_id = await _event(ctx, moderation_mode="post")
    target = await questions.ask(ctx, event_id, parse(AskQuestion, {"text": "Beliebt"}), device="a")
    page = Listener()
    with ctx.hub.subscribe(event_id, page):
        await asyncio.gather(*(questions.upvote(ctx, event_id, target["id"], device=f"v{n}") for n in range(300)))
        await page.until(lambda m: m.get("votes") == 300)
    votes = [m for m in page.messages if m["type"] == "votes"]
    assert [m["votes"] for m in votes] == sorted(m["votes"] for m in votes)  # never backwards
    assert len(votes) < 30, f"{len(votes)} vote messages for 300 upvotes: not coalesced"
    # Every change is in the log all the same, for those who resume.
    assert _committed(ctx.db.path, "SELECT COUNT(*) FROM changes WHERE type = 'votes'") == [(300,)]


async def test_batched_upvotes_answer_as_one_by_one_would(ctx: Context) -> None:
    from smartrlp.services.upvotes import UpvoteBatcher

    event_id = await _event(ctx, moderation_mode="post")
    target = await questions.ask(ctx, event_id, parse(AskQuestion, {"text": "Die Frage"}), device="asker")
    troll = await questions.ask(ctx, event_id, parse(AskQuestion, {"text": "Vom Troll"}), device="troll")
    async with ctx.db.transaction() as tx:  # held, as the moderators' block would do it
        await tx.execute("UPDATE questions SET status = 'pending' WHERE id = :id", {"id": troll["id"]})
    batcher = UpvoteBatcher()
    await abuse_block(ctx, event_id, "blocked-device")

    async def vote(question_id: int, device: str) -> Any:
        try:
            return await batcher.upvote(ctx, event_id, question_id, device=device)
        except ApiError as error:
            return error.code

    devices = [f"d{n}" for n in range(200)]
    calls = [(target["id"], d) for d in devices] + [(target["id"], d) for d in devices[:20]]  # twice: not counted
    calls += [(troll["id"], "d1"), (999_999, "d2"), (target["id"], "blocked-device")]
    answers = await asyncio.gather(*(vote(q, d) for q, d in calls))
    assert batcher.batches_written < len(calls) / 5
    first, again, rest = answers[:200], answers[200:220], answers[220:]
    assert all(a["counted"] and a["voted"] for a in first)
    assert not any(a["counted"] for a in again)
    assert rest[:2] == ["not_votable", "question_not_found"]
    assert rest[2]["counted"] is True
    assert _committed(ctx.db.path, "SELECT votes FROM questions WHERE id = ?", (target["id"],)) == [(200,)]
    assert rest[2]["votes"] == 201  # the blocked device sees its vote, nobody else counts it


async def abuse_block(ctx: Context, event_id: int, device: str) -> None:
    async with ctx.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO device_blocks (event_id, device_id, created_at) VALUES (:e, :d, 'now')",
            {"e": event_id, "d": device},
        )
