"""The application factory and its lifespan: nothing happens at import time."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypedDict

import anyio
from itsdangerous import Signer, TimestampSigner
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from smartrlp import (
    accounts,
    admin,
    admin_users,
    agenda,
    events,
    export,
    legal,
    live,
    moderation,
    openapi,
    polls,
    questions,
    reactions,
    retention,
    studio,
)
from smartrlp.ballots import BallotWriter, ResultsPublisher
from smartrlp.db import Database
from smartrlp.errors import ApiError
from smartrlp.hub import Hub
from smartrlp.i18n import Catalogues, LanguageSelector
from smartrlp.reactions import ReactionMeter
from smartrlp.settings import Settings
from smartrlp.web import (
    BodySizeLimit,
    DeviceCookie,
    DeviceSigner,
    SecurityHeaders,
    app_state,
    handle_api_error,
    handle_http_exception,
    handle_unexpected,
    json_response,
    make_templates,
    render,
)
from smartrlp.wordfilter import WordFilter

log = logging.getLogger("smartrlp")


@dataclass
class AppState:
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


class LifespanState(TypedDict):
    app: AppState


async def _secret_key(db: Database, configured: str) -> str:
    if configured:
        return configured
    # Kept in the database so that cookies stay valid across restarts without any set-up.
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT OR IGNORE INTO app_secrets (name, value) VALUES ('secret_key', :value)",
            {"value": secrets.token_urlsafe(32)},
        )
        row = await tx.fetchone("SELECT value FROM app_secrets WHERE name = 'secret_key'")
    assert row is not None
    return str(row["value"])


async def healthz(request: Request) -> Response:
    if not app_state(request).db.is_open:
        return json_response({"status": "starting"}, status=503)
    return json_response({"status": "ok"})


async def home(request: Request) -> Response:
    rows = await app_state(request).db.fetchall(
        "SELECT slug, title, starts_at FROM events WHERE archived_at IS NULL ORDER BY starts_at DESC, id DESC"
    )
    return render(request, "home.html", events=[dict(r) for r in rows])


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[LifespanState]:
        db = Database(settings.db_path)
        await db.open()
        secret = await _secret_key(db, settings.secret_key)
        await events.ensure_join_codes(db)
        hub = Hub(queue_size=settings.ws_queue_size)
        results = ResultsPublisher(db, hub)
        state = AppState(
            settings=settings,
            db=db,
            hub=hub,
            templates=make_templates(str(settings.templates_dir), Catalogues.load()),
            device_signer=DeviceSigner(Signer(secret, salt="smartrlp.device")),
            session_signer=accounts.make_session_signer(secret),
            word_filter=WordFilter.shipped(),
            results=results,
            ballots=BallotWriter(db, results),
            reactions=ReactionMeter(hub),
        )
        log.info("database %s open", settings.db_path)
        # The task group holds a reference to every background task and cancels them all on the way out.
        try:
            async with anyio.create_task_group() as background:
                background.start_soon(state.ballots.run)
                background.start_soon(state.results.run)
                background.start_soon(state.reactions.run)
                # The first purge finishes before requests are served, so no expired personal data is shown.
                await background.start(retention.run_daily, db, settings.retention_days)
                live.tune_garbage_collector()
                try:
                    yield {"app": state}
                finally:
                    background.cancel_scope.cancel()
            # Ballots queued when the cancel came are still written and answered.
            await state.ballots.drain()
        finally:
            await db.close()

    routes = [
        Route("/", home, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi.schema_endpoint, methods=["GET"]),
        *accounts.routes,
        *admin.routes,
        *admin_users.routes,
        *agenda.routes,
        *events.routes,
        *export.routes,
        *legal.routes,
        *questions.routes,
        *moderation.routes,
        *polls.routes,
        *reactions.routes,
        *studio.routes,
        *live.routes,
        Mount("/static", app=StaticFiles(directory=str(settings.static_dir)), name="static"),
    ]
    middleware = [
        # First, so it sees uvicorn's own websocket `send` before any middleware wraps it.
        Middleware(live.WebSocketTap),
        Middleware(SecurityHeaders),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        Middleware(DeviceCookie, secure=settings.secure_cookies),
        Middleware(LanguageSelector, secure=settings.secure_cookies),
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
