"""The fan-out and the vote burst on PostgreSQL beside SQLite, and with two hosts beside one (issue 17).

Used by run.py after its SQLite columns (`--postgres`, on where PostgreSQL's initdb is installed): a PostgreSQL
server with its default durability (fsync, synchronous commit) from tests/pgserver.py in a temporary directory,
then

- one host on it: the fan-out at the run's sizes and the vote bursts, as run.py measures them on SQLite;
- two hosts on the same database and one `redis-server` (SMARTRLP_BROKER): the viewers and the ballots split
  between the hosts by load client, the approval made through the first host, so every broadcast to the second
  host's viewers goes database -> host A -> Redis note -> host B -> its change log read -> viewers.

Everything runs on this machine's cores, load clients included, so two hosts here share the CPU one host had:
the column shows what the second hop costs, not what a second machine adds.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pgserver import PostgresServer, available


async def _point(clients: list[Any], hosts: list[Any], path: str) -> None:
    for index, client in enumerate(clients):
        host = hosts[index % len(hosts)]
        await client.call("target", host="127.0.0.1", port=host.port, path=path)


async def fanout_hosts(run: Any, hosts: list[Any], clients: list[Any], sizes: list[int], rounds: int) -> list[Any]:
    """run.fanout_sweep with the load clients spread over `hosts`; the change is made through the first."""
    first = hosts[0]
    await _point(clients, hosts, first.path)
    share = -(-max(sizes) // len(clients))
    await asyncio.gather(*(c.call("devices", n=share) for c in clients))
    await run.settle()
    connected = 0
    results = []
    for size in sizes:
        add = size - connected
        shares = [add // len(clients) + (1 if i < add % len(clients) else 0) for i in range(len(clients))]
        replies = await asyncio.gather(*(c.call("connect", n=n) for c, n in zip(clients, shares, strict=True)))
        connected = sum(r["connected"] for r in replies)
        fan = run.Fanout(viewers=connected, connect_failed=sum(r["failed"] for r in replies))
        await run.settle(2.0)
        cpu0 = sum(run.cpu(h.process.pid) for h in hosts)
        for r in range(rounds):
            marker = f"m{r}x{secrets.token_hex(4)}"
            await first.prepare_round(marker)
            sent = [c.send("expect", marker=marker, timeout=15.0) for c in clients]
            await asyncio.gather(*(armed for _, armed in sent))
            t0 = time.monotonic()
            await first.trigger()
            replies = await asyncio.gather(*(done for done, _ in sent))
            times = [t - t0 for reply in replies for t in reply["times"]]
            fan.latencies += times
            fan.round_max.append(max(times) if times else float("nan"))
            fan.lost += sum(reply["missing"] for reply in replies)
            fan.closed = sum(reply["closed"] for reply in replies)
            await asyncio.sleep(0.2)
        fan.server_cpu = sum(run.cpu(h.process.pid) for h in hosts) - cpu0
        results.append(fan)
        print(f"  two hosts {connected:>6} viewers: p50 {run.pct(fan.latencies, .5) * 1000:.1f} ms, "
              f"p99 {run.pct(fan.latencies, .99) * 1000:.1f} ms, lost {fan.lost}", flush=True)
    return results


async def measure(run: Any, args: Any, clients: list[Any], sizes: list[int], workdir: Path) -> dict[str, Any]:
    """Every PostgreSQL figure of the run: {"one": fan-outs, "bursts": ..., "two": fan-outs, "two_bursts": ...}."""
    found: dict[str, Any] = {"one": [], "bursts": [], "two": [], "two_bursts": []}
    if not available():
        print("  PostgreSQL is not installed: no PostgreSQL columns", flush=True)
        return found
    workdir.mkdir()
    pg = PostgresServer(durable=True).start()
    redis = run.Redis(workdir)
    env = dict(e.split("=", 1) for e in args.server_env)
    try:
        await redis.wait_ready()
        pg.psql('CREATE DATABASE "one"')
        pg.psql('CREATE DATABASE "two"')
        one = run.Smartrlp(run.free_port(), args.server_args, env)
        one.name, one.db_target = "smartrlp on PostgreSQL", pg.url("one")
        (workdir / "one").mkdir()
        await one.start(workdir / "one")
        try:
            found["one"] = await run.fanout_sweep(one, clients, sizes, args.rounds, devices=True)
            for seconds in args.burst_seconds:
                for pool in (0, args.proxy_connections // args.clients):
                    found["bursts"].append(
                        await run.vote_burst(one, clients, min(args.ballots, max(sizes)), seconds, pool))
                print(f"  vote burst on PostgreSQL: {found['bursts'][-1]}", flush=True)
            await asyncio.gather(*(c.call("close") for c in clients))
        finally:
            one.stop()
        shared = {**env, "SMARTRLP_BROKER": redis.url}
        hosts = []
        for name in ("a", "b"):
            host = run.Smartrlp(run.free_port(), args.server_args, shared)
            host.name, host.db_target, host.account = f"host {name}", pg.url("two"), f"bench-{name}"
            (workdir / name).mkdir()
            await host.start(workdir / name)
            hosts.append(host)
        try:
            found["two"] = await fanout_hosts(run, hosts, clients, sizes, args.rounds)
            for seconds in args.burst_seconds:
                pool = args.proxy_connections // args.clients
                found["two_bursts"].append(
                    await run.vote_burst(hosts[0], clients, min(args.ballots, max(sizes)), seconds, pool))
                print(f"  vote burst on two hosts: {found['two_bursts'][-1]}", flush=True)
            await asyncio.gather(*(c.call("close") for c in clients))
        finally:
            for host in hosts:
                host.stop()
    finally:
        redis.stop()
        pg.stop()
    return found


def report(run: Any, sqlite: list[Any], sqlite_bursts: list[dict[str, Any]], found: dict[str, Any]) -> list[str]:
    """The section of docs/performance.md with the PostgreSQL and two-host columns beside SQLite's."""
    if not found.get("one"):
        return []
    ms = run.ms
    lines = [
        "", "## PostgreSQL and two hosts", "",
        "The same fan-out and vote burst on PostgreSQL (a local server with its default durability: fsync and "
        "synchronous commit on) beside SQLite, and with two hosts on that database and one `redis-server` "
        "(viewers and ballots split between the hosts, the approval made through the first). All on this "
        "machine's cores, load clients included (bench/stores.py).", "",
        "| viewers | store | p50 ms | p99 ms | max ms | last ms | lost | server CPU s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [("SQLite, one host", f) for f in sqlite] + [("PostgreSQL, one host", f) for f in found["one"]]
    rows += [("PostgreSQL, two hosts + Redis", f) for f in found["two"]]
    for name, f in sorted(rows, key=lambda r: r[1].viewers):
        last = sorted(f.round_max)[len(f.round_max) // 2] if f.round_max else float("nan")
        lines.append(f"| {f.viewers} | {name} | {ms(run.pct(f.latencies, .5))} | {ms(run.pct(f.latencies, .99))} | "
                     f"{ms(max(f.latencies, default=float('nan')))} | {ms(last)} | {f.lost} | {f.server_cpu:.1f} |")
    lines += ["", "| within | store | connections | acknowledged | p50 ms | p99 ms | ballots/s | totals exact |",
              "|---:|---|---|---:|---:|---:|---:|---|"]
    bursts = [("SQLite, one host", b) for b in sqlite_bursts] + [("PostgreSQL, one host", b) for b in found["bursts"]]
    bursts += [("PostgreSQL, two hosts", b) for b in found["two_bursts"]]
    for name, b in bursts:
        how = f"via proxy ({b['pool']} keep-alive)" if b["pool"] else "new per ballot"
        lines.append(f"| {b['seconds']:g} s | {name} | {how} | {b['acknowledged']} of {b['ballots']} | "
                     f"{ms(b['p50'])} | {ms(b['p99'])} | {b['rate']:.0f} | {'yes' if b['exact'] else 'NO'} |")
    lines += ["", WHEN_TO_MOVE]
    return lines


WHEN_TO_MOVE = """**What each costs, and when to move.** SQLite is in the server's process: a write is a few calls into
a library and one fsync. PostgreSQL is a server: every statement of a transaction is a round trip to another process
(here on the same cores, over loopback; across a network add its latency per statement), and the commit waits for
PostgreSQL's fsync. So on one machine SQLite is the faster store, for the fan-out (which starts with the moderator's
committed change) and for the vote burst, and it stays the default. The fan-out itself does not touch the database
per viewer on either store: each broadcast is one pre-encoded frame. A second host adds one hop to every broadcast
(the note through Redis, then a read of the change log by the other host) and takes the other half of the viewers'
CPU, which on this two-core machine it has to share with the first host and the load clients.

Move to PostgreSQL and several hosts when one machine is not enough, not for speed: more viewers than one machine's
cores carry at the wanted latency (about 10,000 per two cores above), several events of a whole network at once, or
an event that must survive the loss of a machine (a viewer of a killed host resumes on another: test_multihost.py).
Start with `--workers N` and Redis on one machine (SQLite still), which uses every core of it; then PostgreSQL and a
second host. Give PostgreSQL its own machine (or a managed service) with fast fsync: the vote burst's rate is bound by
how many commits per second it takes (each host has one writer connection; ballots are grouped per transaction)."""
