"""What a service needs of the running app, in one small object: never a `Request` or `WebSocket`.

Routes, the websocket handler, the command line and tests build or receive one `Context` and call the same service
functions with it; who acts (a moderator, a device) is passed beside it, explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from smartrlp.core.settings import Settings
from smartrlp.core.wordfilter import WordFilter
from smartrlp.db.store import Database, utcnow
from smartrlp.realtime.changes import ChangeLog
from smartrlp.realtime.hub import Hub


@dataclass(frozen=True, slots=True)
class Context:
    db: Database
    hub: Hub
    settings: Settings
    word_filter: WordFilter
    log: ChangeLog = field(init=False)
    # The clock as the database stores times (ISO 8601, UTC, milliseconds); tests may pass their own.
    now: Callable[[], str] = utcnow

    def __post_init__(self) -> None:
        object.__setattr__(self, "log", ChangeLog(self.hub))

    @classmethod
    def offline(cls, db: Database, settings: Settings | None = None) -> Context:
        """For the command line and tests: the database alone, with a hub nobody listens to."""
        settings = settings or Settings()
        hub = Hub(queue_size=settings.ws_queue_size)
        return cls(db=db, hub=hub, settings=settings, word_filter=WordFilter.shipped())
