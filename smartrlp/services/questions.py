"""Questions from viewers: asking, listing and upvoting, with screening and the change log."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from smartrlp.core.errors import ApiError, conflict, invalid
from smartrlp.db.store import Database, Transaction
from smartrlp.models.questions import PUBLIC_STATUSES, AskQuestion, QuestionQuery
from smartrlp.realtime import protocol
from smartrlp.services import phases, screening
from smartrlp.services.context import Context

# Rows per INSERT of a batch of upvotes: 4 parameters each, far below SQLite's 32,766.
VOTE_INSERT_CHUNK = 500

QUESTION_COLUMNS = (
    "q.id, q.event_id, q.text, q.name, q.device_id, q.status, q.votes, q.version, q.created_at, "
    "q.updated_at, q.answered_at, q.panelist_id, q.answer"
)


def question_json(row: sqlite3.Row, on_air_id: int | None, *, device: str | None = None) -> dict[str, Any]:
    data = {
        "id": row["id"],
        "text": row["text"],
        "name": row["name"],
        "status": row["status"],
        "votes": row["votes"],
        "version": row["version"],
        "created_at": row["created_at"],
        "answered_at": row["answered_at"],
        "highlighted": row["id"] == on_air_id,
        "panelist_id": row["panelist_id"],
        "answer": row["answer"],
    }
    if device is not None:
        data["mine"] = row["device_id"] == device
    return data


def audience_of(old_status: str | None, new_status: str) -> str:
    # Viewers must hear of a change to anything they could see, including its disappearance.
    if new_status in PUBLIC_STATUSES or old_status in PUBLIC_STATUSES:
        return protocol.AUDIENCE_PUBLIC
    return protocol.AUDIENCE_STAFF


async def question_in_event(conn: Transaction | Database, event_id: int, question_id: int) -> sqlite3.Row:
    row = await conn.fetchone(
        f"SELECT {QUESTION_COLUMNS} FROM questions q WHERE q.id = :id AND q.event_id = :event_id",
        {"id": question_id, "event_id": event_id},
    )
    if row is None:
        raise question_not_found(question_id)
    return row


def question_not_found(question_id: int) -> ApiError:
    return ApiError(404, "question_not_found", f"There is no question {question_id} in this event.")


def not_votable() -> ApiError:
    return conflict("not_votable", "Only approved questions that are not yet answered take votes.")


async def visible_questions(
    db: Database,
    event_id: int,
    *,
    statuses: tuple[str, ...] | None,
    device: str | None,
    sort: str = "popular",
) -> list[sqlite3.Row]:
    """Questions in the given states, plus (for a viewer) every question this device asked."""
    order = "q.votes DESC, q.id ASC" if sort == "popular" else "q.id DESC"
    status_filter = "TRUE" if statuses is None else f"q.status IN ({','.join('?' * len(statuses))})"
    mine = " OR q.device_id = ?" if device is not None else ""
    params: list[Any] = [event_id, *(statuses or ()), *([device] if device is not None else [])]
    # Placeholders are positional here because the IN list varies in length.
    return await db.fetchall(
        f"SELECT {QUESTION_COLUMNS} FROM questions q WHERE q.event_id = ? AND ({status_filter}{mine}) ORDER BY {order}",
        tuple(params),
    )


async def list_for(
    ctx: Context, event: sqlite3.Row, query: QuestionQuery, *, staff: bool, device: str | None
) -> dict[str, Any]:
    """Moderators see the states they ask for (all by default); anyone else the public ones and their own."""
    if staff:
        rows = await visible_questions(ctx.db, event["id"], statuses=query.statuses(), device=None, sort=query.sort)
        questions = [question_json(r, event["on_air_question_id"]) for r in rows]
    else:
        rows = await visible_questions(ctx.db, event["id"], statuses=PUBLIC_STATUSES, device=device, sort=query.sort)
        questions = [question_json(r, event["on_air_question_id"], device=device) for r in rows]
    return {"questions": questions, "seq": event["last_seq"]}


async def ask(
    ctx: Context, event_id: int, body: AskQuestion, *, device: str, client_key: str | None = None
) -> dict[str, Any]:
    """A viewer's question, stored and logged; held for a moderator when the event, its filter or a block says so.

    `client_key` is the page's name for this ask: the same key from the same device again (the page repeats an ask
    over HTTP whose websocket reply never came) is answered with the question stored the first time."""
    name = body.name
    async with ctx.db.transaction() as tx:
        if client_key is not None:
            asked = await tx.fetchone(
                f"SELECT {QUESTION_COLUMNS}, e.on_air_question_id FROM questions q JOIN events e ON e.id = q.event_id "
                "WHERE q.event_id = :event_id AND q.device_id = :device AND q.client_key = :key",
                {"event_id": event_id, "device": device, "key": client_key},
            )
            if asked is not None:
                return {**question_json(asked, asked["on_air_question_id"]), "mine": True}
        current = await tx.fetchone(
            "SELECT questions_open, on_air_question_id, moderation_mode, names_allowed, archived_at, "
            "starts_at, ends_at, questions_until, published_at FROM events WHERE id = :id",
            {"id": event_id},
        )
        if current is None or current["published_at"] is None:  # a draft takes no questions, from anyone
            raise ApiError(404, "event_not_found", "The event no longer exists.")
        phases.refuse_questions(current, phases.now_of(ctx))
        if body.panelist_id is not None:
            panelist = await tx.fetchone(
                "SELECT id FROM panelists WHERE id = :id AND event_id = :event_id",
                {"id": body.panelist_id, "event_id": event_id},
            )
            if panelist is None:
                raise invalid("There is no such panelist in this event.", "panelist_id")
        if not current["names_allowed"]:
            # A page loaded before the organisers turned names off may still send one: it is not kept.
            name = None
        # Post-moderation shows a question at once, unless the word filter (shipped and the event's own words)
        # or a block of the asking device holds it for a moderator. Both are noted in either mode, so moderators
        # see why; the asker only sees its question waiting, as any question waits in pre-moderation.
        word_filter = await screening.filter_for(tx, ctx.word_filter, event_id)
        held_words = word_filter.matches(body.text) + (word_filter.matches(name) if name else [])
        held_device = await screening.is_blocked(tx, event_id, device)
        status = "pending"
        if current["moderation_mode"] == "post" and not held_words and not held_device:
            status = "approved"
        now = ctx.now()
        row = await tx.fetchone(
            "INSERT INTO questions (event_id, text, name, device_id, status, panelist_id, created_at, updated_at, "
            "held_words, held_device, client_key) "
            "VALUES (:event_id, :text, :name, :device, :status, :panelist_id, :now, :now, :held_words, :held_device, "
            ":client_key) "
            f"RETURNING {QUESTION_COLUMNS.replace('q.', '')}",
            {
                "event_id": event_id,
                "text": body.text,
                "name": name,
                "device": device,
                "status": status,
                "panelist_id": body.panelist_id,
                "now": now,
                "held_words": screening.held_words_json(held_words),
                "held_device": int(held_device),
                "client_key": client_key,
            },
        )
        assert row is not None
        question = question_json(row, current["on_air_question_id"])
        await ctx.log.record(
            tx,
            event_id,
            protocol.QUESTION,
            {"question": question},
            audience=audience_of(None, status),
            device_id=device,
        )
        if held_words or held_device:
            await screening.record_notes(ctx.log, tx, event_id, [row["id"]])
    return {**question, "mine": True}


async def record_votes(ctx: Context, tx: Transaction, event_id: int, question_id: int, votes: int) -> None:
    # Coalesced: in a burst of thousands of upvotes only the latest count of a few per second reaches the viewers.
    body = {"question_id": question_id, "votes": votes}
    await ctx.log.record(tx, event_id, protocol.VOTES, body, coalesce=("votes", question_id))


@dataclass(frozen=True, slots=True)
class Upvote:
    event_id: int
    question_id: int
    device: str


async def upvote(ctx: Context, event_id: int, question_id: int, *, device: str) -> dict[str, Any]:
    """One vote per device for an approved question (alone; the routes batch them with UpvoteBatcher)."""
    async with ctx.db.transaction() as tx:
        (answer,) = await store_upvotes(ctx, tx, [Upvote(event_id, question_id, device)])
    if isinstance(answer, ApiError):
        raise answer
    return answer


async def store_upvotes(ctx: Context, tx: Transaction, batch: list[Upvote]) -> list[dict[str, Any] | ApiError]:
    """Upvotes as if one after the other, in a few statements for all (smartrlp/services/upvotes.py batches them):
    one vote per device, only for approved questions of the event; a blocked device's vote is kept (so it cannot
    vote again) and answered like any other, count included, but not added. One logged `votes` change per question.
    """
    ids = sorted({v.question_id for v in batch})
    rows = await tx.fetchall(
        "SELECT id, event_id, status, votes FROM questions WHERE id IN (SELECT value FROM json_each(:ids))",
        {"ids": json.dumps(ids)},
    )
    questions = {int(r["id"]): r for r in rows}
    blocked: set[tuple[int, str]] = set()
    for event_id in {v.event_id for v in batch}:
        found = await tx.fetchall(
            "SELECT device_id FROM device_blocks WHERE event_id = :event_id "
            "AND device_id IN (SELECT value FROM json_each(:devices))",
            {"event_id": event_id, "devices": json.dumps(sorted({v.device for v in batch if v.event_id == event_id}))},
        )
        blocked.update((event_id, r["device_id"]) for r in found)
    outcomes: list[ApiError | None] = []
    wanted: list[dict[str, Any]] = []
    for vote in batch:
        question = questions.get(vote.question_id)
        if question is None or int(question["event_id"]) != vote.event_id:
            outcomes.append(question_not_found(vote.question_id))
        elif question["status"] != "approved":
            outcomes.append(not_votable())
        else:
            outcomes.append(None)
            counts_it = (vote.event_id, vote.device) not in blocked
            wanted.append({"q": vote.question_id, "d": vote.device, "c": int(counts_it)})
    inserted: set[tuple[int, str]] = set()
    if wanted:
        # ON CONFLICT: a device's second vote (earlier, or in this batch) is not stored; RETURNING names the new ones.
        # Multi-row VALUES, not json_each: one text for SQLite and PostgreSQL; chunks keep under SQLite's
        # parameter limit.
        for start in range(0, len(wanted), VOTE_INSERT_CHUNK):
            chunk = wanted[start : start + VOTE_INSERT_CHUNK]
            params: dict[str, Any] = {"now": ctx.now()}
            values = []
            for i, row in enumerate(chunk):
                params[f"q{i}"], params[f"d{i}"], params[f"c{i}"] = row["q"], row["d"], row["c"]
                values.append(f"(:q{i}, :d{i}, :now, :c{i})")
            rows = await tx.fetchall(
                "INSERT INTO question_votes (question_id, device_id, created_at, counted) "
                f"VALUES {', '.join(values)} ON CONFLICT DO NOTHING RETURNING question_id, device_id",
                params,
            )
            inserted.update((int(r["question_id"]), r["device_id"]) for r in rows)
    added: dict[int, int] = {}
    counted_keys: set[tuple[int, str]] = set()
    for row in wanted:
        key = (row["q"], row["d"])
        if key in inserted and row["c"] and key not in counted_keys:  # a device twice in a batch counts once
            counted_keys.add(key)
            added[row["q"]] = added.get(row["q"], 0) + 1
    counts = {qid: int(q["votes"]) for qid, q in questions.items()}
    for question_id, n in sorted(added.items()):
        row = await tx.fetchone(
            "UPDATE questions SET votes = votes + :n WHERE id = :id RETURNING votes", {"n": n, "id": question_id}
        )
        assert row is not None
        counts[question_id] = int(row["votes"])
        await record_votes(ctx, tx, int(questions[question_id]["event_id"]), question_id, counts[question_id])
    answers: list[dict[str, Any] | ApiError] = []
    first_of: set[tuple[int, str]] = set()
    for vote, outcome in zip(batch, outcomes, strict=True):
        if outcome is not None:
            answers.append(outcome)
            continue
        key = (vote.question_id, vote.device)
        counted = key in inserted and key not in first_of
        first_of.add(key)
        votes = counts[vote.question_id]
        if counted and (vote.event_id, vote.device) in blocked:
            votes += 1  # as questions.upvote: the blocked device sees its vote counted, nobody else does
        answers.append({"question_id": vote.question_id, "votes": votes, "counted": counted, "voted": True})
    return answers


async def unvote(ctx: Context, event_id: int, question_id: int, *, device: str) -> dict[str, Any]:
    """Take back this device's vote (idempotent: without a vote, the count as it is)."""
    async with ctx.db.transaction() as tx:
        question = await question_in_event(tx, event_id, question_id)
        if question["status"] != "approved":
            raise not_votable()
        row = await tx.fetchone(
            "DELETE FROM question_votes WHERE question_id = :question_id AND device_id = :device RETURNING counted",
            {"question_id": question_id, "device": device},
        )
        votes = int(question["votes"])
        removed = row is not None
        if removed and row["counted"]:
            updated = await tx.fetchone(
                "UPDATE questions SET votes = CASE WHEN votes > 0 THEN votes - 1 ELSE 0 END "
                "WHERE id = :id RETURNING votes",
                {"id": question_id},
            )
            assert updated is not None
            votes = int(updated["votes"])
            await record_votes(ctx, tx, event_id, question_id, votes)
        elif removed:
            votes = max(votes - 1, 0)  # a blocked device sees its own vote go, as it saw it come
    return {"question_id": question_id, "votes": votes, "counted": removed, "voted": False}
