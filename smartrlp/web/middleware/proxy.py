"""The real client address and scheme behind trusted reverse proxies."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("smartrlp")


def parse_networks(setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    from smartrlp.core.settings import SettingsError

    networks = []
    for part in setting.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(f"SMARTRLP_TRUSTED_PROXIES: {part!r} is not an address or network") from None
    return tuple(networks)


class TrustedProxy:
    """The real client address and scheme behind reverse proxies, believed only from `SMARTRLP_TRUSTED_PROXIES`.

    Anyone can send `X-Forwarded-For`; believing it from everybody would let a viewer pick the address their limits
    count under. From a trusted proxy, the client is the right-most address in the chain that is not itself a
    trusted proxy. Uvicorn's own proxy handling is turned off (`cmd_serve`), so this is the one place that decides.
    """

    def __init__(self, app: ASGIApp, trusted: str = "") -> None:
        self.app = app
        self.trusted = parse_networks(trusted)
        self._warned = False

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    # A plain function: it only rewrites the scope, and a websocket keeps no frame of ours alive (see DeviceCookie).
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] in {"http", "websocket"}:
            self._rewrite(scope)
        return self.app(scope, receive, send)

    def _rewrite(self, scope: Scope) -> None:
        headers = {n.decode("latin-1"): v.decode("latin-1") for n, v in scope["headers"] if n in _PROXY_HEADERS}
        peer = scope["client"][0] if scope.get("client") else ""
        if headers and not self._is_trusted(peer):
            if not self._warned and self.trusted == () and ("x-forwarded-for" in headers or "forwarded" in headers):
                self._warned = True
                log.warning(
                    "ignoring X-Forwarded-For/Forwarded from %s: if the server runs behind a reverse proxy, "
                    "set SMARTRLP_TRUSTED_PROXIES to its address, or every visitor counts as one address",
                    peer,
                )
        elif headers:
            chain, proto = _forwarded(headers)
            client = next((a for a in reversed(chain) if not self._is_trusted(a)), chain[0] if chain else None)
            # In place, as uvicorn's own proxy middleware does, so that its access log names the real client too.
            if client:
                scope["client"] = (client, 0)
            if proto in {"http", "https"}:
                secure = proto == "https"
                scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto


_PROXY_HEADERS = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"forwarded"})


def _forwarded(headers: dict[str, str]) -> tuple[list[str], str | None]:
    """(client chain, left to right; the scheme the last proxy saw) from X-Forwarded-* or RFC 7239 Forwarded."""
    if "x-forwarded-for" in headers:
        chain = [a.strip() for a in headers["x-forwarded-for"].split(",") if a.strip()]
        proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower() or None
        return [_bare_address(a) for a in chain], proto
    chain, proto = [], None
    for element in headers.get("forwarded", "").split(","):
        for pair in element.split(";"):
            key, _, value = pair.strip().partition("=")
            value = value.strip().strip('"')
            if key.lower() == "for" and value:
                chain.append(_bare_address(value))
            elif key.lower() == "proto" and value:
                proto = value.lower()
    if proto is None and "x-forwarded-proto" in headers:
        proto = headers["x-forwarded-proto"].split(",")[-1].strip().lower()
    return chain, proto


def _bare_address(value: str) -> str:
    """ "[2001:db8::1]:4711" -> "2001:db8::1", "192.0.2.1:4711" -> "192.0.2.1"."""
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        return value.partition(":")[0]
    return value
