"""Load shedding: more requests at once than the process can work through are answered 503 at once, not queued.

After a stall (a frozen process continued with SIGCONT, a garbage-collection pause, a burst at the moderator's call)
every waiting client's request arrives in the same moment. Queueing them all would let the wait of each grow with
the number of others, until every one of them times out; answering those beyond `requests_in_flight` (SMARTRLP_LIMITS)
with `503 overloaded` and `Retry-After` keeps the ones admitted fast and tells the rest when to come back. Websockets
are not counted (they are long-lived; `ws_address` limits them), nor `/healthz` and `/metrics`, so that monitoring
sees the server while it sheds.
"""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from smartrlp.core import metrics
from smartrlp.core.errors import ApiError

RETRY_AFTER_SECONDS = 2
_EXEMPT = frozenset({"/healthz", "/metrics"})


class Overloaded(ApiError):
    def __init__(self) -> None:
        super().__init__(
            503,
            "overloaded",
            "The server has more requests than it can handle right now; please try again in a moment.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            details={"retry_after": RETRY_AFTER_SECONDS},
        )


class LoadShedding:
    def __init__(self, app: ASGIApp, most_in_flight: int | None) -> None:
        self.app = app
        self.most_in_flight = most_in_flight
        self.in_flight = 0

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Hands a websocket over without a frame of its own (see DeviceCookie).
        if scope["type"] != "http" or self.most_in_flight is None or scope["path"] in _EXEMPT:
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.in_flight >= self.most_in_flight:
            metrics.REFUSED.labels("overloaded").inc()
            error = Overloaded()
            await JSONResponse(error.body(), status_code=503, headers=error.headers)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
