"""The figures `/metrics` shows in the Prometheus text format, counted where things happen.

The counters live in this process (each worker of `serve --workers N` has its own, told apart by the scrape's
`instance`). What is a state rather than a count (viewers connected, the broker) is read at scrape time by
`web/views/metrics.py`. Labels are only ever names from the code (endpoint, error code, reason), never anything a
visitor sends, so their number stays small.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
# process_resident_memory_bytes, process_open_fds, process_max_fds, process_cpu_seconds_total, ...
ProcessCollector(registry=REGISTRY)

# Milliseconds matter for live updates: a fan-out to 10,000 viewers takes tens of them (docs/performance.md).
_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

BROADCASTS = Counter("smartrlp_broadcasts", "Broadcasts handed to the live connections of an event", registry=REGISTRY)
FANOUT_SECONDS = Histogram(
    "smartrlp_broadcast_fanout_seconds",
    "Time to hand one broadcast to every live connection it reaches",
    buckets=_FAST_BUCKETS,
    registry=REGISTRY,
)
SLOW_VIEWERS = Counter(
    "smartrlp_slow_viewers_closed",
    "Live connections closed because they fell behind; their messages were dropped and they resume from the log",
    registry=REGISTRY,
)
ACTIONS = Counter(
    "smartrlp_actions",
    "Requests that change something, by endpoint (kind) and outcome (ok or the error code)",
    ["kind", "outcome"],
    registry=REGISTRY,
)
COMMIT_SECONDS = Histogram(
    "smartrlp_commit_seconds", "Time of one database COMMIT (its fsync)", buckets=_FAST_BUCKETS, registry=REGISTRY
)
REFUSED = Counter(
    "smartrlp_refused",
    "Requests and connections refused: rate_limited, busy, overloaded, storage_unavailable, too_many_connections, "
    "header_timeout, and on websockets ws_rate_limited, ws_too_many_connections",
    ["reason"],
    registry=REGISTRY,
)
STORAGE_WRITABLE = Gauge(
    "smartrlp_storage_writable", "1 while the database can be written, 0 during a storage fault", registry=REGISTRY
)
STORAGE_WRITABLE.set(1)
