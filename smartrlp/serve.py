"""Running the app under uvicorn: one process, or several workers, each saying goodbye to its live connections.

uvicorn ends open websockets on shutdown with 1012 ("service restart"), cut off mid-stream. Our websocket protocol
class sends 1001 ("going away") instead, so that clients know to reconnect and resume from their last seq. The
protocol class travels in the uvicorn config, so every worker process uses it without further set-up.
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.types import ASGIApp
from uvicorn.supervisors import Multiprocess

from smartrlp.core.logs import check_format, json_logging_config
from smartrlp.realtime import protocol
from smartrlp.web.connections import GuardedHttpProtocol
from smartrlp.web.transport import LiveWebSocketProtocol

# Open websockets must not hold up a restart for long: clients resume from their last seq.
GRACEFUL_SHUTDOWN_SECONDS = 5
STARTUP_FAILURE = 3  # uvicorn's own exit code when the server could not start
# Each worker builds its app from the environment (settings.Settings.from_env); see app.app_from_env.
WORKER_APP = "smartrlp.app:app_from_env"




def config(
    app: ASGIApp | str,
    *,
    host: str,
    port: int,
    log_level: str,
    access_log: bool,
    log_format: str = "text",
    **options: object,
) -> uvicorn.Config:
    if check_format(log_format) == "json":
        options["log_config"] = json_logging_config(log_level)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        # Measured in docs/performance.md: uvloop and httptools are the fastest loop and parser uvicorn has; the
        # sans-I/O websockets protocol needs no task per connection, and live.py writes broadcasts to its transport
        # directly. No per-message deflate: it doubled fan-out latency for our small messages and costs a
        # compressor per connection.
        loop="uvloop",
        # httptools, with a time limit for request headers and a cap of connections per address (web.connections).
        http=GuardedHttpProtocol,
        ws=LiveWebSocketProtocol,
        ws_per_message_deflate=False,
        # A larger frame closes the connection with 1009 before it is read into memory; frames up to it but over
        # protocol.MAX_CLIENT_MESSAGE_BYTES get an `error` message (uvicorn's default would read 16 MiB).
        ws_max_size=protocol.MAX_FRAME_BYTES,
        # The access log writes every visitor's address; off unless the operator wants it (SMARTRLP_ACCESS_LOG).
        access_log=access_log,
        # Forwarded addresses are believed only from SMARTRLP_TRUSTED_PROXIES, by the app (web.TrustedProxy), the
        # one place that decides; uvicorn's own handling would trust 127.0.0.1 by default.
        proxy_headers=False,
        forwarded_allow_ips="",
        **options,  # type: ignore[arg-type]
    )


def run(app: ASGIApp, *, host: str, port: int, log_level: str, access_log: bool, log_format: str = "text") -> None:
    """Serve `app` in this process."""
    options = {"log_level": log_level, "access_log": access_log, "log_format": log_format}
    server = uvicorn.Server(config(app, host=host, port=port, **options))  # type: ignore[arg-type]
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def run_workers(
    workers: int, *, host: str, port: int, log_level: str, access_log: bool, log_format: str = "text"
) -> None:
    """Start `workers` processes on one listening socket; each builds its app from the environment."""
    options = {"log_level": log_level, "access_log": access_log, "log_format": log_format}
    worker_config = config(WORKER_APP, host=host, port=port, factory=True, workers=workers, **options)  # type: ignore[arg-type]
    sock = worker_config.bind_socket()
    Multiprocess(worker_config, sockets=[sock]).run()
