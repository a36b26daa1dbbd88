"""The application factory and its lifespan: nothing happens at import time."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import redis.asyncio as aioredis
from itsdangerous import Signer
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from smartrlp.core.device_ids import DeviceSigner
from smartrlp.core.errors import ApiError
from smartrlp.core.i18n import Catalogues
from smartrlp.core.limits import AddressFailures, Limiter, Rate, SharedAddressFailures, SharedLimiter
from smartrlp.core.logs import check_format
from smartrlp.core.settings import Settings
from smartrlp.core.wordfilter import WordFilter
from smartrlp.db.stores import Store, database_for, is_postgres
from smartrlp.realtime.broker import ClusterHub
from smartrlp.realtime.hub import Hub
from smartrlp.services import (
    accounts,
    closing,
    events,
    retention,
)
from smartrlp.services.ballots import BallotWriter
from smartrlp.services.context import Context
from smartrlp.services.reactions import ReactionMeter
from smartrlp.services.results import ResultsPublisher
from smartrlp.web import transport
from smartrlp.web.endpoint import by_path
from smartrlp.web.errors import handle_api_error, handle_http_exception, handle_unexpected
from smartrlp.web.middleware.assets import Compression, StaticCaching
from smartrlp.web.middleware.body_size import BodySizeLimit
from smartrlp.web.middleware.devices import DeviceCookie
from smartrlp.web.middleware.language import LanguageSelector
from smartrlp.web.middleware.overload import LoadShedding
from smartrlp.web.middleware.proxy import TrustedProxy, parse_networks
from smartrlp.web.middleware.retry import RetryConflicts
from smartrlp.web.middleware.security import CrossSiteGuard, SecurityHeaders, allowed_origins
from smartrlp.web.middleware.worker import NoVisitorAddresses, WorkerHeader
from smartrlp.web.pages import make_templates
from smartrlp.web.state import AppState, LifespanState
from smartrlp.web.views import (
    abuse,
    access,
    admin_users,
    agenda,
    export,
    home,
    legal,
    live,
    login,
    moderation,
    operations,
    polls,
    questions,
    reactions,
    stream_delays,
    studio,
)
from smartrlp.web.views import admin_events as admin
from smartrlp.web.views import events as event_pages

log = logging.getLogger("smartrlp")


async def _secret_key(db: Store, configured: str) -> str:
    if configured:
        return configured
    # Kept in the database so that cookies stay valid across restarts without any set-up. Read first: a restart
    # on a full disk or a read-only database must still come up and serve what is stored.
    row = await db.fetchone("SELECT value FROM app_secrets WHERE name = 'secret_key'")
    if row is not None:
        return str(row["value"])
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO app_secrets (name, value) VALUES ('secret_key', :value) ON CONFLICT DO NOTHING",
            {"value": secrets.token_urlsafe(32)},
        )
        row = await tx.fetchone("SELECT value FROM app_secrets WHERE name = 'secret_key'")
    assert row is not None
    return str(row["value"])


def _most_in_flight(limiter: Limiter) -> int | None:
    most = limiter.limits.get("requests_in_flight")
    return most if isinstance(most, int) else None


def create_app(settings: Settings) -> Starlette:
    # Parsed here, so that a mistyped limit or proxy stops `smartrlp serve` at once with a clear message.
    limiter = Limiter.from_setting(settings.limits)
    login_rate = limiter.limits.get("login_address")
    login_addresses = AddressFailures(login_rate if isinstance(login_rate, Rate) else None)
    if settings.broker:
        # The budgets are shared by every process and host through the broker's Redis (core/limits.py).
        limits_client = aioredis.Redis.from_url(settings.broker, socket_timeout=2)
        limiter = SharedLimiter(limiter.limits, limits_client)
        login_addresses = SharedAddressFailures(login_addresses.rate, limits_client)
    origins = allowed_origins(settings)
    parse_networks(settings.trusted_proxies)
    parse_networks(settings.metrics_addresses)
    check_format(settings.log_format)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[LifespanState]:
        if not settings.access_log:
            # Here, after the server configured its logging, so that the filter is not replaced.
            logging.getLogger("uvicorn.error").addFilter(NoVisitorAddresses())
        db = database_for(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
        await db.open()
        secret = await _secret_key(db, settings.secret_key)
        await events.ensure_join_codes(db)
        hub: Hub
        if settings.broker:
            hub = ClusterHub(settings.ws_queue_size, db, settings.broker)
            # Before the first subscriber: from here on every committed change is delivered in order.
            await hub.load_heads()
        else:
            hub = Hub(queue_size=settings.ws_queue_size)
        results = ResultsPublisher(db, hub)
        word_filter = WordFilter.shipped()
        state = AppState(
            ctx=Context(db=db, hub=hub, settings=settings, word_filter=word_filter),
            settings=settings,
            db=db,
            hub=hub,
            templates=make_templates(str(settings.templates_dir), Catalogues.load(), settings.static_dir),
            device_signer=DeviceSigner(Signer(secret, salt="smartrlp.device")),
            session_signer=accounts.make_session_signer(secret),
            word_filter=word_filter,
            results=results,
            ballots=BallotWriter(db, results),
            reactions=ReactionMeter(hub),
            limiter=limiter,
            login_addresses=login_addresses,
            origins=origins,
        )
        log.info("database %s open", db.path)
        # The task group holds a reference to every background task and cancels them all on the way out.
        try:
            async with anyio.create_task_group() as background:
                # Started for any hub: a lone process's returns at once, a cluster's runs until cancelled.
                background.start_soon(hub.run)
                background.start_soon(db.watch_storage)
                background.start_soon(state.ballots.run)
                background.start_soon(state.results.run)
                background.start_soon(state.reactions.run)
                background.start_soon(closing.run_closer, state.ctx, results)
                # The first purge finishes before requests are served, so no expired personal data is shown.
                await background.start(retention.run_daily, db, settings.retention_days)
                transport.tune_garbage_collector()
                try:
                    yield {"app": state}
                finally:
                    background.cancel_scope.cancel()
            # Ballots queued when the cancel came are still written and answered.
            await state.ballots.drain()
        finally:
            await db.close()
            if isinstance(limiter, SharedLimiter):
                await limiter.client.aclose()

    routes = by_path(
        [
            *home.routes,
            *login.routes,
            *admin.routes,
            *admin_users.routes,
            *agenda.routes,
            *event_pages.routes,
            *export.routes,
            *legal.routes,
            *access.routes,
            *questions.routes,
            *abuse.routes,
            *moderation.routes,
            *polls.routes,
            *reactions.routes,
            *studio.routes,
            *stream_delays.routes,
            *operations.routes,
            *live.routes,
            Mount("/static", app=StaticFiles(directory=str(settings.static_dir)), name="static"),
        ]
    )
    cors = settings.cors_origins.replace(",", " ").split()
    middleware = [
        # First, so it sees uvicorn's own websocket `send` before any middleware wraps it.
        Middleware(transport.WebSocketTap),
        Middleware(Compression),
        Middleware(StaticCaching),
        Middleware(TrustedProxy, trusted=settings.trusted_proxies),
        Middleware(
            SecurityHeaders,
            overlay_frame_ancestors=settings.overlay_frame_ancestors,
            sign_video_url=settings.dgs_video_url,
        ),
        # Before anything reads a body: a request over the limit costs next to nothing.
        Middleware(LoadShedding, most_in_flight=_most_in_flight(limiter)),
        # No CORS unless configured, and then without cookies: other sites' scripts use bearer tokens.
        *(
            [Middleware(CORSMiddleware, allow_origins=cors, allow_methods=["*"], allow_headers=["*"], max_age=600)]
            if cors
            else []
        ),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        Middleware(CrossSiteGuard, allowed=origins),
        Middleware(DeviceCookie, secure=settings.secure_cookies),
        Middleware(LanguageSelector, secure=settings.secure_cookies),
        # Innermost: a request whose transaction lost to another host's is run again from here.
        *([Middleware(RetryConflicts)] if is_postgres(settings.db_path) else []),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
    )


def app_from_env() -> ASGIApp:
    """The app of one worker process of `smartrlp serve --workers N` (uvicorn `factory=True`).

    uvicorn starts the workers as new processes that import this; `cmd_serve` passes the command-line
    options on through the environment, so every worker reads the same settings.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return WorkerHeader(create_app(Settings.from_env()))
