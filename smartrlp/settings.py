"""All settings, read from the environment in one place.

Every field documents its variable; `tests/test_docs.py` fails when one is missing from the README.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Settings:
    db_path: str = field(default="smartrlp.db", metadata={"env": "SMARTRLP_DB"})
    secret_key: str = field(default="", metadata={"env": "SMARTRLP_SECRET_KEY"})
    max_body_bytes: int = field(default=64 * 1024, metadata={"env": "SMARTRLP_MAX_BODY_BYTES"})
    session_hours: int = field(default=12, metadata={"env": "SMARTRLP_SESSION_HOURS"})
    secure_cookies: bool = field(default=False, metadata={"env": "SMARTRLP_SECURE_COOKIES"})
    ws_queue_size: int = field(default=512, metadata={"env": "SMARTRLP_WS_QUEUE_SIZE"})
    ws_send_buffer_bytes: int = field(default=256 * 1024, metadata={"env": "SMARTRLP_WS_SEND_BUFFER_BYTES"})
    log_level: str = field(default="info", metadata={"env": "SMARTRLP_LOG_LEVEL"})
    public_url: str = field(default="", metadata={"env": "SMARTRLP_PUBLIC_URL"})
    operator: str = field(default="", metadata={"env": "SMARTRLP_OPERATOR"})
    privacy_file: str = field(default="", metadata={"env": "SMARTRLP_PRIVACY_FILE"})
    accessibility_file: str = field(default="", metadata={"env": "SMARTRLP_ACCESSIBILITY_FILE"})
    retention_days: int = field(default=30, metadata={"env": "SMARTRLP_RETENTION_DAYS"})
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "static"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            name = f.metadata.get("env")
            if name is None or name not in environ:
                continue
            raw = environ[name].strip()
            values[f.name] = _parse(name, raw, type(f.default))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def env_names() -> list[str]:
    return [f.metadata["env"] for f in fields(Settings) if "env" in f.metadata]


def _parse(name: str, raw: str, kind: type) -> object:
    if kind is bool:
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}")
    if kind is int:
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
        if value <= 0:
            raise SettingsError(f"{name} must be positive, not {value}")
        return value
    return raw
