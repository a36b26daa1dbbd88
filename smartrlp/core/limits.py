"""Rate limits: how often one device, one address or one connection may do something.

Every limit is a count per period ("5/5m": at most 5 at once, then one more every minute), kept as a generic cell
rate algorithm (GCRA): one number per key, the moment the key's budget is full again, so a limit costs a few bytes
per device or address whatever its count. Keys live in a bounded LRU map: when it is full, keys whose budget has
refilled go first (forgetting them changes nothing), then the least recently used.

The counters are in this process's memory. With several server processes each keeps its own, so the effective
limits multiply by the number of processes (documented in the README). Login failures per account are kept in the
database instead (`accounts.py`), because they must survive a restart.

Per-address limits must let a whole school class or town hall behind one NAT address take part, so they are
generous; per-device limits are tight, because one person needs few. The defaults and their reasons are in the
README under `SMARTRLP_LIMITS`.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from smartrlp.core.errors import ApiError
from smartrlp.core.settings import SettingsError, parse_duration

# Sums of float seconds are off by a few ulps; less than this is no wait at all.
ROUNDING = 1e-6


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    period: float  # seconds

    @property
    def interval(self) -> float:
        return self.period / self.count

    @property
    def burst(self) -> float:
        """How far ahead of now a key's "full again" moment may be before the next one must wait."""
        # period - interval, never `full_at + interval - period`: with a large clock value that sum rounds, and
        # a budget of exactly one (1/1h) then refused even its first request by a rounding error of 1e-12 s.
        return self.period - self.interval

    def __str__(self) -> str:
        return f"{self.count}/{_format_period(self.period)}"


def _format_period(seconds: float) -> str:
    for suffix, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{suffix}"
    return f"{seconds:g}s"


# name -> (default, what it counts). A period of 0 means a number of things open at once (no period).
DEFAULTS: dict[str, tuple[str, str]] = {
    "question_device": ("5/5m", "questions one device may ask"),
    "question_address": ("200/5m", "questions from one address"),
    "vote_device": ("60/1m", "upvotes from one device"),
    "vote_address": ("3000/1m", "upvotes from one address"),
    "ballot_device": ("30/1m", "poll answers from one device"),
    "ballot_address": ("1500/1m", "poll answers from one address"),
    "reaction_device": ("60/1m", "reactions sent over HTTP by one device"),
    "reaction_address": ("3000/1m", "reactions sent over HTTP from one address"),
    "device_address": ("1000/10m", "new devices (first visits without the device cookie) from one address"),
    "login_account": ("10/15m", "failed logins for one account name before it is locked for the period"),
    "login_address": ("30/15m", "failed logins from one address before it is locked for the period"),
    "ws_address": ("1000", "websocket connections open at once from one address"),
    "http_address": ("1000", "HTTP connections open at once from one address (websockets count under ws_address)"),
    "requests_in_flight": ("2000", "HTTP requests one server process works on at once; more are answered 503"),
    "ws_messages": ("30/10s", "messages one websocket connection may send"),
}


# Limits that are a number of things open at once rather than a rate.
AT_ONCE = frozenset({"ws_address", "http_address", "requests_in_flight"})


def parse_rate(name: str, raw: str) -> Rate | int | None:
    """ "5/5m" -> Rate(5, 300); "1000" -> 1000 (connections at once); "off" -> None."""
    text = raw.strip().lower()
    if text == "off":
        return None
    count_text, slash, period_text = text.partition("/")
    try:
        count = int(count_text)
    except ValueError:
        raise SettingsError(f"SMARTRLP_LIMITS: {name} must be like 5/5m or off, not {raw!r}") from None
    if count <= 0:
        raise SettingsError(f"SMARTRLP_LIMITS: {name} must allow at least 1, not {raw!r}")
    if not slash:
        if name not in AT_ONCE:
            raise SettingsError(f"SMARTRLP_LIMITS: {name} needs a period, like {DEFAULTS[name][0]}")
        return count
    if name in AT_ONCE:
        raise SettingsError(f"SMARTRLP_LIMITS: {name} is a number of things at once, without a period")
    return Rate(count, parse_duration(f"SMARTRLP_LIMITS {name}", period_text, 1))


def parse_limits(setting: str) -> dict[str, Rate | int | None]:
    """The defaults, changed by `SMARTRLP_LIMITS` ("name=5/5m, other=off", or just "off" for none at all)."""
    text = setting.strip()
    if text.lower() == "off":
        return dict.fromkeys(DEFAULTS)
    limits = {name: parse_rate(name, default) for name, (default, _) in DEFAULTS.items()}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, equals, value = part.partition("=")
        name = name.strip()
        if not equals or name not in DEFAULTS:
            raise SettingsError(f"SMARTRLP_LIMITS: {part!r} is not name=value with a name from {', '.join(DEFAULTS)}")
        limits[name] = parse_rate(name, value)
    return limits


def address_key(address: str) -> str:
    """The key an address counts under: IPv4 as it is, IPv6 by its /64, which one household or phone gets whole."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class RateLimited(ApiError):
    def __init__(self, retry_after: float, what: str) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(
            429,
            "rate_limited",
            f"Too many {what}; try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
            details={"retry_after": seconds, "limit": what},
        )
        self.retry_after = seconds


class Buckets:
    """GCRA state per key for one rate, in a bounded LRU map."""

    def __init__(self, rate: Rate, max_keys: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.max_keys = max_keys
        self.clock = clock
        self._full_at: OrderedDict[str, float] = OrderedDict()  # key -> when its budget is full again

    def wait(self, key: str, now: float) -> float:
        """Seconds until one more is allowed for `key` (0: allowed now)."""
        full_at = max(self._full_at.get(key, now), now)
        wait = (full_at - now) - self.rate.burst
        return wait if wait > ROUNDING else 0.0

    def take(self, key: str, now: float) -> None:
        full_at = max(self._full_at.pop(key, now), now)
        self._full_at[key] = full_at + self.rate.interval
        if len(self._full_at) > self.max_keys:
            self._prune(now)

    def _prune(self, now: float) -> None:
        for key, full_at in list(self._full_at.items())[: max(1, self.max_keys // 10)]:
            if full_at <= now:
                del self._full_at[key]
        while len(self._full_at) > self.max_keys:
            # Forgetting a busy key gives it a fresh budget; only reached when more keys are active than fit.
            self._full_at.popitem(last=False)

    def __len__(self) -> int:
        return len(self._full_at)


class Limiter:
    """All in-memory limits of one server process."""

    def __init__(self, limits: dict[str, Rate | int | None], *, max_keys: int = 100_000) -> None:
        self.limits = limits
        self.clock: Callable[[], float] = time.monotonic
        self._buckets = {
            name: Buckets(rate, max_keys, self.clock) for name, rate in limits.items() if isinstance(rate, Rate)
        }
        self._open: dict[str, int] = {}  # address -> websocket connections open now; only keys above 0

    @classmethod
    def from_setting(cls, setting: str) -> Limiter:
        return cls(parse_limits(setting))

    def hit(self, what: str, **keys: str | None) -> None:
        """Count one for every `name=key` given (e.g. question_device=..., question_address=...), or raise
        `RateLimited` and count none, so a refused request does not use up another of the budgets."""
        now = self.clock()
        wanted = [
            (self._buckets[name], address_key(key) if name.endswith("_address") else key)
            for name, key in keys.items()
            if key is not None and name in self._buckets
        ]
        wait = max((buckets.wait(key, now) for buckets, key in wanted), default=0.0)
        if wait > 0:
            raise RateLimited(wait, what)
        for buckets, key in wanted:
            buckets.take(key, now)

    def message_budget(self) -> MessageBudget | None:
        rate = self.limits.get("ws_messages")
        return MessageBudget(rate, self.clock) if isinstance(rate, Rate) else None

    def open_connection(self, address: str) -> bool:
        """Count a websocket connection from `address`; False (and not counted) when it has too many open."""
        most = self.limits.get("ws_address")
        key = address_key(address)
        if isinstance(most, int) and self._open.get(key, 0) >= most:
            return False
        self._open[key] = self._open.get(key, 0) + 1
        return True

    def close_connection(self, address: str) -> None:
        key = address_key(address)
        left = self._open.get(key, 0) - 1
        if left > 0:
            self._open[key] = left
        else:
            self._open.pop(key, None)


class MessageBudget:
    """One websocket connection's budget of client messages (the same algorithm, one key)."""

    def __init__(self, rate: Rate, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.clock = clock
        self._full_at = 0.0

    def take(self) -> float:
        """0 when the message may be handled (and counts), else the seconds until one more may."""
        now = self.clock()
        full_at = max(self._full_at, now)
        wait = (full_at - now) - self.rate.burst
        if wait > ROUNDING:
            return wait
        self._full_at = full_at + self.rate.interval
        return 0.0


@dataclass(slots=True)
class Failures:
    """Login failures of one account or address: counted in a window, slowing down, then locking."""

    failures: int = 0
    window_start: float = 0.0
    blocked_until: float = 0.0


# From the third failure in a row each attempt waits 1, 2, 4 ... seconds (at most 30) before the next may be made,
# which stops fast guessing without bothering someone who mistyped twice; at the limit the key locks for the period.
SLOW_AFTER = 3
MAX_DELAY = 30.0


def after_failure(state: Failures, rate: Rate, now: float, slow_after: int = SLOW_AFTER) -> Failures:
    if now - state.window_start > rate.period:
        state = Failures(0, now, state.blocked_until)
    failures = state.failures + 1
    if failures >= rate.count:
        # Locked for the period; afterwards counting starts again, so the real user gets in once it is over.
        return Failures(0, now + rate.period, now + rate.period)
    blocked = state.blocked_until
    if failures >= slow_after:
        blocked = now + min(2.0 ** (failures - slow_after), MAX_DELAY, rate.period)
    return Failures(failures, state.window_start, blocked)


class AddressFailures:
    """Login failures per address, in memory (addresses are not written to the database), bounded."""

    def __init__(self, rate: Rate | None, max_keys: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self.rate = rate
        self.max_keys = max_keys
        self.clock = clock
        self._states: OrderedDict[str, Failures] = OrderedDict()

    def wait(self, address: str) -> float:
        state = self._states.get(address_key(address))
        return max(0.0, state.blocked_until - self.clock()) if state is not None else 0.0

    def failed(self, address: str) -> None:
        if self.rate is None:
            return
        key = address_key(address)
        now = self.clock()
        # Several people may log in from one address (an office behind NAT): it slows down only at half its limit.
        slow_after = max(SLOW_AFTER, self.rate.count // 2)
        self._states[key] = after_failure(self._states.pop(key, Failures(0, now)), self.rate, now, slow_after)
        while len(self._states) > self.max_keys:
            self._states.popitem(last=False)
