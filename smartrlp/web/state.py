"""What every request and websocket reaches as `request.state.app`: the shared parts, built once in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

from itsdangerous import TimestampSigner
from jinja2 import Environment

from smartrlp.core.device_ids import DeviceSigner
from smartrlp.core.limits import AddressFailures, Limiter
from smartrlp.core.settings import Settings
from smartrlp.core.wordfilter import WordFilter
from smartrlp.db.store import Database
from smartrlp.realtime.hub import Hub
from smartrlp.services.ballots import BallotWriter
from smartrlp.services.context import Context
from smartrlp.services.reactions import ReactionMeter
from smartrlp.services.results import ResultsPublisher
from smartrlp.services.snapshot import SharedOpenings
from smartrlp.services.upvotes import UpvoteBatcher


@dataclass
class AppState:
    # What services get: the database, the hub bound to the change log, settings, the word filter, the clock.
    ctx: Context
    settings: Settings
    db: Database
    hub: Hub
    templates: Environment
    device_signer: DeviceSigner
    session_signer: TimestampSigner
    word_filter: WordFilter
    results: ResultsPublisher
    ballots: BallotWriter
    reactions: ReactionMeter
    limiter: Limiter
    login_addresses: AddressFailures
    origins: frozenset[str]  # besides the site's own: where pages that may open websockets and send changes live
    # What joining viewers share: snapshots' public part per event and seq, the recent change log (issue 16).
    openings: SharedOpenings = field(default_factory=SharedOpenings)
    upvotes: UpvoteBatcher = field(default_factory=UpvoteBatcher)


class LifespanState(TypedDict):
    app: AppState
