"""Log records as one JSON object per line (`SMARTRLP_LOG_FORMAT=json`), for a log collector (journald, Loki, ELK).

The text format stays uvicorn's own. Either way the server logs no visitor addresses unless `SMARTRLP_ACCESS_LOG` is
on (then the access records carry `client`), and no traceback for anything a client can cause: tracebacks appear
only for faults of the server itself, as one `exception` field, never as extra lines a collector would split.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

from smartrlp.core.settings import SettingsError

LOG_FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        entry: dict[str, Any] = {
            "time": when.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": os.getpid(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, http_version, status = args
            entry.update(client=client, method=method, path=path, http_version=http_version, status=status)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def check_format(log_format: str) -> str:
    if log_format not in LOG_FORMATS:
        raise SettingsError(f"SMARTRLP_LOG_FORMAT must be text or json, not {log_format!r}")
    return log_format


def json_logging_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` (uvicorn's `log_config`) writing every logger, ours and uvicorn's, as JSON."""
    level = level.upper()
    handler = {"class": "logging.StreamHandler", "formatter": "json"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {**handler, "stream": "ext://sys.stderr"},
            "stdout": {**handler, "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # Only written with SMARTRLP_ACCESS_LOG; on stdout, as uvicorn writes it.
            "uvicorn.access": {"handlers": ["stdout"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": level},
    }
