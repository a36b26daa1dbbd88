"""The scenarios of issue 16, run by bench/run.py on the same server and load clients as the rest:

- actions over the open websockets: ballots and upvotes in a burst, a storm of questions, each answered by a
  `reply` after its commit, with the server's CPU per action beside the HTTP keep-alive path's in the same run;
- a join storm: every viewer connects anew within a few seconds to an event with hundreds of public questions;
- a restart: SIGTERM with every viewer connected, start again, all back (`synced`) and a change made at once
  reaches all of them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import subprocess
import time
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from run import LoadClient, Smartrlp

SLUG = "smart-rlp"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds == seconds else "–"


def cpu_of(pid: int) -> float:
    from run import cpu

    return cpu(pid)


def _shares(total: int, clients: list[LoadClient]) -> list[int]:
    return [total // len(clients) + (1 if i < total % len(clients) else 0) for i in range(len(clients))]


async def _approved_question(target: Smartrlp, text: str) -> dict[str, Any]:
    response = await target.asker.post(f"/api/events/{SLUG}/questions", json={"text": text})
    assert response.status_code == 201, response.text
    question = response.json()
    response = await target.staff.patch(f"/api/events/{SLUG}/questions/{question['id']}", json={"status": "approved"})
    assert response.status_code == 200, response.text
    return response.json()


async def ws_burst(
    target: Smartrlp, clients: list[LoadClient], kind: str, count: int, seconds: float
) -> dict[str, Any]:
    """`count` viewers (each its own device, already connected) send one `ballot` or `upvote` within `seconds`."""
    assert target.process is not None
    tag = secrets.token_hex(3)
    expected: list[int] = []
    if kind == "ballot":
        poll = (await target.staff.post(f"/api/events/{SLUG}/polls", json={
            "title": f"Wie kommen Sie zur Arbeit? {tag}", "kind": "single",
            "options": ["Bus", "Rad", "Auto"], "results_visibility": "live"})).json()
        response = await target.staff.patch(f"/api/events/{SLUG}/polls/{poll['id']}", json={"state": "open"})
        assert response.status_code == 200, response.text
        option_ids = [o["id"] for o in poll["options"]]
        expected = [0] * len(option_ids)
        marker = f'"poll_id":{poll["id"]},"results":{{"total":{count},'
    else:
        question = await _approved_question(target, f"Frage zum Unterstützen {tag}: Wann kommt der Radweg?")
        marker = f'"question_id":{question["id"]},"votes":{count}}}'
    start = time.monotonic() + 1.0
    commands = []
    number = 0
    for client, n in zip(clients, _shares(count, clients), strict=True):
        messages = []
        for _ in range(n):
            number += 1
            if kind == "ballot":
                choice = secrets.randbelow(len(option_ids))
                expected[choice] += 1
                messages.append(json.dumps({"type": "ballot", "ref": f"b{number}", "poll_id": poll["id"],
                                            "options": [option_ids[choice]]}))
            else:
                messages.append(json.dumps({"type": "upvote", "ref": f"u{number}", "question_id": question["id"]}))
        at = sorted(start + secrets.randbelow(int(seconds * 1e6)) / 1e6 for _ in range(n))
        commands.append((client, messages, at))
    watch = [c.send("expect", marker=marker, timeout=60.0) for c in clients]
    await asyncio.gather(*(armed for _, armed in watch))
    pid = target.process.pid
    cpu0, clients_cpu0 = cpu_of(pid), sum(c.cpu for c in clients)
    replies = await asyncio.gather(*(c.call("act", messages=m, at=a) for c, m, a in commands))
    shown = await asyncio.gather(*(done for done, _ in watch))
    server_cpu = cpu_of(pid) - cpu0
    client_cpu = sum(c.cpu for c in clients) - clients_cpu0
    results = [r for reply in replies for r in reply["results"]]
    good = 201 if kind == "ballot" else 200
    ok = [r for r in results if r[0] == good]
    latencies = [r[2] - r[1] for r in ok]
    statuses: dict[int, int] = {}
    for r in results:
        statuses[r[0]] = statuses.get(r[0], 0) + 1
    last_ack = max((r[2] for r in results), default=float("nan"))
    wall = last_ack - min((r[1] for r in results), default=float("nan"))
    if kind == "ballot":
        final = (await target.staff.get(f"/api/events/{SLUG}/polls/{poll['id']}")).json()["results"]
        counts = [o["count"] for o in final["options"]]
        exact = final["total"] == len(ok) == count and counts == expected
        total = final["total"]
    else:
        listed = (await target.staff.get(f"/api/events/{SLUG}/questions")).json()["questions"]
        total = next(q["votes"] for q in listed if q["id"] == question["id"])
        counts = [total]
        exact = total == len(ok) == count
    shown_times = [t for s in shown for t in s["times"]]
    return {
        "kind": kind, "count": count, "seconds": seconds, "acknowledged": len(ok), "statuses": statuses,
        "unanswered": sum(r["unanswered"] for r in replies),
        "p50": pct(latencies, .5), "p99": pct(latencies, .99), "max": max(latencies, default=float("nan")),
        "exact": exact, "total": total, "counts": counts, "expected": expected or [count],
        "viewers": sum(len(s["times"]) + s["missing"] for s in shown),
        "not_shown": sum(s["missing"] for s in shown),
        "all_shown_after_last_ack": (max(shown_times) - last_ack) if shown_times else float("nan"),
        "server_cpu": server_cpu, "client_cpu": client_cpu, "cpu_per_action_ms": server_cpu / max(count, 1) * 1000,
        # How much of one core the server got from the first send to the last reply (others share the machine).
        "cpu_share": server_cpu / wall if wall > 0 else float("nan"),
    }


async def ws_question_storm(target: Smartrlp, clients: list[LoadClient], count: int, seconds: float,
                            ) -> dict[str, Any]:
    """`count` devices each ask one question over their websocket within `seconds`; the moderators' socket."""
    from websockets.asyncio.client import connect

    prefix = f"WS-Sturm {secrets.token_hex(3)}"
    seen: list[tuple[int, int]] = []
    headers = {"Authorization": f"Bearer {target.token}"}
    async with connect(f"ws://127.0.0.1:{target.port}/ws/events/{SLUG}", additional_headers=headers,
                       compression=None, max_size=2**26) as moderator:
        assert json.loads(await moderator.recv())["role"] == "moderator"

        async def listen() -> None:
            async for raw in moderator:
                message = json.loads(raw)
                if message.get("type") == "question" and message["question"]["text"].startswith(prefix):
                    seen.append((message["seq"], message["question"]["id"]))

        listener = asyncio.create_task(listen())
        start = time.monotonic() + 0.5
        jobs, number = [], 0
        for client, n in zip(clients, _shares(count, clients), strict=True):
            messages = []
            for _ in range(n):
                number += 1
                messages.append(json.dumps({"type": "ask", "ref": f"q{number}",
                                            "text": f"{prefix} Frage {number}: Wie wird der Nahverkehr besser?"}))
            at = sorted(start + secrets.randbelow(int(seconds * 1e6)) / 1e6 for _ in range(n))
            jobs.append(client.call("act", messages=messages, at=at))
        cpu0 = cpu_of(target.process.pid) if target.process else 0.0
        replies = await asyncio.gather(*jobs)
        server_cpu = (cpu_of(target.process.pid) if target.process else 0.0) - cpu0
        results = [r for reply in replies for r in reply["results"]]
        created = sum(1 for r in results if r[0] == 201)
        deadline = time.monotonic() + 15
        while len(seen) < created and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        listener.cancel()
    listing = (await target.staff.get(f"/api/events/{SLUG}/questions",
                                      params={"sort": "newest", "status": "pending"})).json()["questions"]
    listed = [q["id"] for q in listing if q["text"].startswith(prefix)]
    latencies = [r[2] - r[1] for r in results if r[0] == 201]
    statuses: dict[int, int] = {}
    for r in results:
        statuses[r[0]] = statuses.get(r[0], 0) + 1
    return {
        "questions": count, "seconds": seconds, "created": created, "statuses": statuses,
        "p50": pct(latencies, .5), "p99": pct(latencies, .99), "moderator_got": len({q for _, q in seen}),
        "socket_in_order": [s for s, _ in seen] == sorted(s for s, _ in seen) and len(seen) == len(set(seen)),
        "listed": len(listed), "all_kept": len(listed) == created == count,
        "server_cpu": server_cpu, "cpu_per_action_ms": server_cpu / max(count, 1) * 1000,
    }


async def join_storm(target: Smartrlp, clients: list[LoadClient], viewers: int, seconds: float,
                     questions: int) -> dict[str, Any]:
    """Every viewer gone, the event given `questions` public questions; then `viewers` connect within `seconds`."""
    assert target.process is not None
    await asyncio.gather(*(c.call("close") for c in clients))
    public = (await target.staff.get(f"/api/events/{SLUG}/questions", params={"status": "approved"})).json()
    for n in range(max(0, questions - len(public["questions"]))):
        await _approved_question(target, f"Öffentliche Frage {n + 1} für den Ansturm: Wie geht es mit dem "
                                         "Glasfaserausbau in den kleinen Orten des Landkreises weiter?")
    await asyncio.sleep(1.0)
    cpu0 = cpu_of(target.process.pid)
    start = time.monotonic() + 0.5
    replies = await asyncio.gather(*(c.call("join", n=n, seconds=seconds, start=start)
                                     for c, n in zip(clients, _shares(viewers, clients), strict=True)))
    server_cpu = cpu_of(target.process.pid) - cpu0
    joined = [j for r in replies for j in r["joined"]]
    first_connect = min((b for b, _ in joined), default=float("nan"))
    waits = [got - began for began, got in joined]
    snapshot_bytes = len((await target.asker.get(f"/api/events/{SLUG}/questions")).content)
    return {
        "viewers": viewers, "seconds": seconds, "questions": questions, "joined": len(joined),
        "failed": sum(r["failed"] for r in replies),
        "all_within": max((got for _, got in joined), default=float("nan")) - first_connect,
        "p50": pct(waits, .5), "p99": pct(waits, .99),
        "server_cpu": server_cpu, "cpu_per_join_ms": server_cpu / max(len(joined), 1) * 1000,
        "questions_bytes": snapshot_bytes,
    }


async def restart(target: Smartrlp, clients: list[LoadClient]) -> dict[str, Any]:
    """SIGTERM with every viewer connected, start again; all back with `synced`, and a change made at once."""
    assert target.process is not None
    counts = await asyncio.gather(*(c.call("track", on=True) for c in clients))
    viewers = sum(c["viewers"] for c in counts)
    stopped = time.monotonic()
    target.process.send_signal(signal.SIGTERM)
    target.process.wait(60)
    down = time.monotonic() - stopped
    target.process = subprocess.Popen(target.command, cwd=target.cwd, env=target.env, stdout=target.log,
                                      stderr=target.log)
    async with httpx.AsyncClient(timeout=2) as probe:
        while True:
            try:
                if (await probe.get(f"{target.base}/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.02)
    healthy = time.monotonic()
    # The old process's keep-alive connections are gone: new clients, with the same headers and device cookie.
    for name in ("asker", "staff"):
        old = getattr(target, name)
        setattr(target, name, httpx.AsyncClient(base_url=target.base, headers=old.headers, cookies=old.cookies,
                                                timeout=30))
        await old.aclose()
    question = await _approved_question(target, f"Gleich nach dem Neustart {secrets.token_hex(3)}")
    changed = time.monotonic()
    head = (await target.asker.get(f"/api/events/{SLUG}")).json()["seq"]
    synced = await asyncio.gather(*(c.call("synced", timeout=60.0, at_least=head) for c in clients))
    times = [t for s in synced for t in s["synced"]]
    have_change = [t for s in synced for t in s["have_change"]]
    await asyncio.gather(*(c.call("track", on=False) for c in clients))
    return {
        "viewers": viewers, "down_seconds": down,
        "synced": len(times), "missing": sum(s["missing"] for s in synced),
        "all_synced_after_healthz": (max(times) - healthy) if times else float("nan"),
        "p50_synced_after_healthz": pct([t - healthy for t in times], .5),
        "change_made_after_healthz": changed - healthy, "question_id": question["id"],
        "all_have_change_after_healthz": (max(have_change) - healthy) if have_change else float("nan"),
        "have_change": len(have_change),
    }


# --------------------------------------------------------------------------- report


def report_lines(live: dict[str, Any], http_bursts: list[dict[str, Any]]) -> list[str]:
    if not live:
        return []
    lines = ["", "## Actions over the websocket (issue 16)", "",
             "Each viewer's action is one text frame on the websocket it holds open (`ballot`, `upvote`, `ask`, "
             "bench/loadclient.py `act`), answered with a `reply` after its transaction committed (group commit). "
             "Latency: from the frame's send to the reply's receipt. *Shown*: until every connected viewer had the "
             "final count (`poll_results` / `votes`), after the last reply. CPU: the server's (user+system) over "
             "the burst, divided by the actions.", "",
             "*Core share*: the server's CPU seconds over the wall-clock seconds from the first send to the last "
             "reply; below 1.0 the server waited for a core (other processes on the machine), not for itself.", "",
             "| action | count within | acknowledged | p50 ms | p99 ms | max ms | totals exact | all viewers show "
             "it, ms after the last ack | server CPU s | CPU per action ms | core share |",
             "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for b in live.get("bursts", []):
        never = f" ({b['not_shown']} never)" if b["not_shown"] else ""
        lines.append(f"| {b['kind']} | {b['count']} in {b['seconds']:g} s | {b['acknowledged']} | {ms(b['p50'])} "
                     f"| {ms(b['p99'])} | {ms(b['max'])} | {'yes' if b['exact'] else 'NO'} ({b['total']}) "
                     f"| {ms(b['all_shown_after_last_ack'])}{never} | {b['server_cpu']:.1f} "
                     f"| {b['cpu_per_action_ms']:.2f} | {b['cpu_share']:.2f} |")
    for b in http_bursts:
        how = f"HTTP, {b['pool']} keep-alive" if b["pool"] else "HTTP, new connection each"
        lines.append(f"| ballot ({how}) | {b['ballots']} in {b['seconds']:g} s | {b['acknowledged']} "
                     f"| {ms(b['p50'])} | {ms(b['p99'])} | {ms(b['max'])} | {'yes' if b['exact'] else 'NO'} "
                     f"({b['total']}) | {ms(b['all_shown_after_last_ack'])} | {b['server_cpu']:.1f} "
                     f"| {b['server_cpu'] / max(b['ballots'], 1) * 1000:.2f} | – |")
    storm = live.get("storm")
    if storm:
        lines += ["", f"Questions over the websocket: {storm['questions']} from as many devices within "
                      f"{storm['seconds']:g} s: {storm['created']} created (statuses {storm['statuses']}), "
                      f"p50 {ms(storm['p50'])} ms, p99 {ms(storm['p99'])} ms, {storm['cpu_per_action_ms']:.2f} ms "
                      f"CPU each; the moderator's websocket got {storm['moderator_got']}, in seq order: "
                      f"{'yes' if storm['socket_in_order'] else 'NO'}; all kept: "
                      f"{'yes' if storm['all_kept'] else 'NO'}."]
    join = live.get("join")
    if join:
        lines += ["", "## Join storm", "",
                  f"{join['viewers']} viewers (each its own device) connect within {join['seconds']:g} s to the event "
                  f"with {join['questions']} public questions (the question list alone is "
                  f"{join['questions_bytes'] / 1000:.0f} kB). Each gets its snapshot: the event's shared public part "
                  "with its own part spliced in (smartrlp/services/snapshot.py `SharedOpenings`).", "",
                  f"- joined {join['joined']} ({join['failed']} failed); every one had its snapshot "
                  f"{join['all_within']:.1f} s after the first connect; per viewer, connect to snapshot p50 "
                  f"{ms(join['p50'])} ms, p99 {ms(join['p99'])} ms",
                  f"- server CPU {join['server_cpu']:.1f} s, {join['cpu_per_join_ms']:.2f} ms per join"]
    again = live.get("restart")
    if again:
        lines += ["", "## Restart", "",
                  f"{again['viewers']} viewers connected; `SIGTERM` (every connection closed with 1001, the server "
                  f"down for {again['down_seconds']:.1f} s until it exited), started again on the same database. "
                  "The load clients reconnect as the page does (`since` = the last seq, every 0.5–2 s, jittered, "
                  "30 times before a backoff). A question is approved right after `/healthz` answers.", "",
                  f"- back with `synced`: {again['synced']} ({again['missing']} not); all "
                  f"{again['all_synced_after_healthz']:.1f} s after `/healthz` answered (p50 "
                  f"{again['p50_synced_after_healthz']:.1f} s)",
                  f"- the change, made {again['change_made_after_healthz']:.2f} s after `/healthz`, had reached "
                  f"{again['have_change']} viewers, all {again['all_have_change_after_healthz']:.1f} s after "
                  "`/healthz`"]
    return lines


def target_rows(live: dict[str, Any], http_bursts: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    rows = []
    keep_alive = [b for b in http_bursts if b["pool"]]
    http_cpu = (keep_alive[0]["server_cpu"] / max(keep_alive[0]["ballots"], 1) * 1000) if keep_alive else None
    for b in live.get("bursts", []):
        limit = 0.25 if b["count"] >= 10_000 else 0.1
        ok = b["acknowledged"] == b["count"] and b["exact"] and b["p99"] <= limit and b["not_shown"] == 0 \
            and b["all_shown_after_last_ack"] <= 1.0
        rows.append((f"{b['count']} {b['kind']}s within {b['seconds']:g} s over websockets: all acknowledged, exact, "
                     f"p99 ≤ {limit * 1000:.0f} ms, all viewers show it within 1 s",
                     f"{b['acknowledged']} acknowledged, exact: {'yes' if b['exact'] else 'no'}, p99 "
                     f"{ms(b['p99'])} ms, shown {ms(b['all_shown_after_last_ack'])} ms after", ok))
        if b["kind"] == "ballot" and http_cpu:
            rows.append((f"CPU per ballot over websockets ≤ ¼ of HTTP keep-alive ({b['count']})",
                         f"{b['cpu_per_action_ms']:.2f} ms vs {http_cpu:.2f} ms "
                         f"({b['cpu_per_action_ms'] / http_cpu:.2f}×)", b["cpu_per_action_ms"] <= http_cpu / 4))
    storm = live.get("storm")
    if storm:
        rows.append((f"{storm['questions']} questions within {storm['seconds']:g} s over websockets, all kept, in "
                     "order", f"{storm['created']} created, in order: {'yes' if storm['socket_in_order'] else 'no'}",
                     storm["all_kept"] and storm["socket_in_order"]))
    join = live.get("join")
    if join:
        rows.append((f"join storm: {join['viewers']} within {join['seconds']:g} s, all have their snapshot within "
                     "15 s", f"{join['all_within']:.1f} s, {join['cpu_per_join_ms']:.2f} ms CPU per join",
                     join["failed"] == 0 and join["all_within"] <= 15))
    again = live.get("restart")
    if again:
        rows.append((f"restart: all {again['viewers']} synced within 10 s of /healthz, a change reaches all",
                     f"{again['all_synced_after_healthz']:.1f} s; change at all "
                     f"{again['all_have_change_after_healthz']:.1f} s ({again['have_change']})",
                     again["missing"] == 0 and again["all_synced_after_healthz"] <= 10
                     and again["have_change"] == again["viewers"]))
    return rows
