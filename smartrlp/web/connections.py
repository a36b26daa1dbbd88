"""Slow and hostile HTTP connections: a time limit for request headers and a cap per address.

uvicorn's HTTP protocols close idle keep-alive connections (`timeout_keep_alive`) but give a connection that trickles
its request headers, one line every few seconds, all the time it wants: 2,000 such connections held 2,000 file
descriptors for as long as the sender liked (issue 19). `GuardedHttpProtocol` is uvicorn's httptools protocol with
two additions, at the level where connections exist (the ASGI app only ever sees complete requests):

- a connection that has not sent its complete request headers, and its body, within `SMARTRLP_HEADER_TIMEOUT` of
  its first byte (or of connecting) is closed; the timer starts again for each request on a kept-alive connection;
- at most `http_address` (`SMARTRLP_LIMITS`) HTTP connections are open at once from one address (an IPv6 address by
  its /64); one more is answered `503` with `Retry-After` and closed. A websocket leaves this count when it is
  upgraded and counts under `ws_address` instead. Connections from `SMARTRLP_TRUSTED_PROXIES` are not capped: behind
  a proxy every visitor arrives from its address, and the proxy limits per visitor itself (docs/deploy.md).

Each worker process counts its own connections. The settings come from the environment, read once per process, so
that the workers of `serve --workers N` (new processes that import this class by name) use the same ones.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from smartrlp.core import metrics
from smartrlp.core.limits import address_key, parse_limits
from smartrlp.core.settings import Settings
from smartrlp.web.middleware.proxy import parse_networks

TOO_MANY_RETRY_AFTER_SECONDS = 10


def _refusal() -> bytes:
    body = json.dumps(
        {
            "error": {
                "code": "too_many_connections",
                "message": "Too many connections from your address at once; try again in a few seconds.",
            }
        }
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
        f"retry-after: {TOO_MANY_RETRY_AFTER_SECONDS}\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


_REFUSAL = _refusal()


@dataclass
class ConnectionGuard:
    """This process's rules and counts of HTTP connections per address."""

    header_timeout: float
    most_per_address: int | None
    trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    open_by_address: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionGuard:
        most = parse_limits(settings.limits).get("http_address")
        cap = most if isinstance(most, int) else None
        return cls(settings.header_timeout, cap, parse_networks(settings.trusted_proxies))

    def is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def admit(self, address: str) -> str | None:
        """The key the connection counts under, None when `address` has as many open as it may (not counted)."""
        if self.most_per_address is None or self.is_trusted(address):
            return ""
        key = address_key(address)
        count = self.open_by_address.get(key, 0)
        if count >= self.most_per_address:
            return None
        self.open_by_address[key] = count + 1
        return key

    def release(self, key: str) -> None:
        if not key:
            return
        left = self.open_by_address.get(key, 0) - 1
        if left > 0:
            self.open_by_address[key] = left
        else:
            self.open_by_address.pop(key, None)


_guard: ConnectionGuard | None = None


def configure(settings: Settings) -> ConnectionGuard:
    """Use these settings in this process (serve.py); a worker process reads its environment on first use."""
    global _guard
    _guard = ConnectionGuard.from_settings(settings)
    return _guard


def guard() -> ConnectionGuard:
    return _guard if _guard is not None else configure(Settings.from_env())


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout and a cap on connections per address."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = guard()
        self._counted: str | None = None  # the key this connection counts under while it does
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        key = self._guard.admit(self.client[0]) if self.client else ""
        if key is None:
            metrics.REFUSED.labels("too_many_connections").inc()
            transport.write(_REFUSAL)
            transport.close()
            return
        self._counted = key
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        self._release()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._counted is None:
            return  # refused: nothing it sends is read
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:  # the next request on a kept-alive connection
            self._start_header_timer()

    def on_message_complete(self) -> None:
        # The body too: a request trickling its body would hold its place among the requests in flight
        # (web/middleware/overload.py) as long as it liked. Bodies are small (SMARTRLP_MAX_BODY_BYTES).
        self._stop_header_timer()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        # From here on the connection is a websocket, counted under ws_address, and its protocol is another object.
        self._stop_header_timer()
        self._release()
        super().handle_websocket_upgrade()

    def _start_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self._guard.header_timeout, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            metrics.REFUSED.labels("header_timeout").inc()
            # abort, not close: a sender that trickles headers may not read either, and close would wait for it.
            self.transport.abort()

    def _release(self) -> None:
        if self._counted is not None:
            self._guard.release(self._counted)
            self._counted = None
