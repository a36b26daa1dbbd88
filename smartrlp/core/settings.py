"""All settings, read from the environment in one place.

Every field documents its variable; `tests/test_docs.py` fails when one is missing from the README.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path

# The checkout's top level (pyproject.toml, smartrlp/, static/, templates/). In an installed package this is just
# the folder that holds smartrlp/ (site-packages), so look assets up with asset_dir, not here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def asset_dir(name: str) -> Path:
    """The folder `static` or `templates`, wherever this copy of the package keeps it.

    The repository keeps both at its top level, beside smartrlp/; the wheel carries them inside the package as
    smartrlp/static and smartrlp/templates (pyproject.toml maps them there). So an installed package (`pip install .`)
    finds them inside itself, and a checkout (PYTHONPATH, `python -m smartrlp` from the repository, or
    `pip install -e .`, whose smartrlp is the checkout's) finds them beside smartrlp/. Both must be real folders:
    StaticFiles and Jinja's loader read the file system, so a package inside a zip file is not supported.
    """
    packaged = resources.files("smartrlp").joinpath(name)
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return PROJECT_ROOT / name


TEMPLATES_DIR = asset_dir("templates")
STATIC_DIR = asset_dir("static")


class SettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Settings:
    db_path: str = field(default="smartrlp.db", metadata={"env": "SMARTRLP_DB"})
    secret_key: str = field(default="", metadata={"env": "SMARTRLP_SECRET_KEY"})
    max_body_bytes: int = field(default=64 * 1024, metadata={"env": "SMARTRLP_MAX_BODY_BYTES"})
    # Durations are seconds here; the variable counts in the unit named in its metadata, or takes a suffix
    # (s, m, h, d), so that tests can use seconds without a test-only setting.
    session_max_age: float = field(default=12 * 3600.0, metadata={"env": "SMARTRLP_SESSION_HOURS", "unit": 3600})
    session_idle: float = field(default=120 * 60.0, metadata={"env": "SMARTRLP_SESSION_IDLE_MINUTES", "unit": 60})
    secure_cookies: bool = field(default=False, metadata={"env": "SMARTRLP_SECURE_COOKIES"})
    ws_queue_size: int = field(default=512, metadata={"env": "SMARTRLP_WS_QUEUE_SIZE"})
    ws_send_buffer_bytes: int = field(default=256 * 1024, metadata={"env": "SMARTRLP_WS_SEND_BUFFER_BYTES"})
    log_level: str = field(default="info", metadata={"env": "SMARTRLP_LOG_LEVEL"})
    public_url: str = field(default="", metadata={"env": "SMARTRLP_PUBLIC_URL"})
    operator: str = field(default="", metadata={"env": "SMARTRLP_OPERATOR"})
    privacy_file: str = field(default="", metadata={"env": "SMARTRLP_PRIVACY_FILE"})
    accessibility_file: str = field(default="", metadata={"env": "SMARTRLP_ACCESSIBILITY_FILE"})
    # The explanation of the site in German Sign Language (BITV 2.0 § 4): a video file we serve (/static/…) or an
    # address elsewhere (YouTube, another host), which plays only after the visitor agreed, as the stream does.
    dgs_video_url: str = field(default="", metadata={"env": "SMARTRLP_DGS_VIDEO_URL"})
    # The Impressum (§ 5 DDG): an HTML fragment file of the operator's, or the fields below.
    imprint_file: str = field(default="", metadata={"env": "SMARTRLP_IMPRINT_FILE"})
    imprint_name: str = field(default="", metadata={"env": "SMARTRLP_IMPRINT_NAME"})
    imprint_address: str = field(default="", metadata={"env": "SMARTRLP_IMPRINT_ADDRESS"})
    imprint_representative: str = field(default="", metadata={"env": "SMARTRLP_IMPRINT_REPRESENTATIVE"})
    imprint_contact: str = field(default="", metadata={"env": "SMARTRLP_IMPRINT_CONTACT"})
    imprint_register: str = field(default="", metadata={"env": "SMARTRLP_IMPRINT_REGISTER"})
    imprint_vat_id: str = field(default="", metadata={"env": "SMARTRLP_IMPRINT_VAT_ID"})
    imprint_supervisory_authority: str = field(default="", metadata={"env": "SMARTRLP_IMPRINT_SUPERVISORY_AUTHORITY"})
    imprint_content_responsible: str = field(default="", metadata={"env": "SMARTRLP_IMPRINT_CONTENT_RESPONSIBLE"})
    retention_days: int = field(default=30, metadata={"env": "SMARTRLP_RETENTION_DAYS"})
    # redis://host:port/db: the worker processes share changes through it; empty means one process, in memory.
    broker: str = field(default="", metadata={"env": "SMARTRLP_BROKER"})
    busy_timeout_ms: int = field(default=10_000, metadata={"env": "SMARTRLP_BUSY_TIMEOUT_MS"})
    trusted_proxies: str = field(default="", metadata={"env": "SMARTRLP_TRUSTED_PROXIES"})
    allowed_origins: str = field(default="", metadata={"env": "SMARTRLP_ALLOWED_ORIGINS"})
    cors_origins: str = field(default="", metadata={"env": "SMARTRLP_CORS_ORIGINS"})
    overlay_frame_ancestors: str = field(default="", metadata={"env": "SMARTRLP_OVERLAY_FRAME_ANCESTORS"})
    limits: str = field(default="", metadata={"env": "SMARTRLP_LIMITS"})
    access_log: bool = field(default=False, metadata={"env": "SMARTRLP_ACCESS_LOG"})
    # Seconds a connection may take to send its complete request headers (web/connections.py).
    header_timeout: float = field(default=10.0, metadata={"env": "SMARTRLP_HEADER_TIMEOUT", "unit": 1})
    # Who may read /metrics: a bearer token, or client addresses and networks (web/views/operations.py).
    metrics_token: str = field(default="", metadata={"env": "SMARTRLP_METRICS_TOKEN"})
    metrics_addresses: str = field(default="", metadata={"env": "SMARTRLP_METRICS_ADDRESSES"})
    # "text" (one line per record, for people) or "json" (one object per line, for a log collector).
    log_format: str = field(default="text", metadata={"env": "SMARTRLP_LOG_FORMAT"})
    templates_dir: Path = TEMPLATES_DIR
    static_dir: Path = STATIC_DIR

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            name = f.metadata.get("env")
            if name is None or name not in environ:
                continue
            raw = environ[name].strip()
            unit = f.metadata.get("unit")
            values[f.name] = parse_duration(name, raw, unit) if unit else _parse(name, raw, type(f.default))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def env_names() -> list[str]:
    return [f.metadata["env"] for f in fields(Settings) if "env" in f.metadata]


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(name: str, raw: str, unit: float = 1) -> float:
    """Seconds from "90" (in `unit`), "30s", "15m", "12h" or "7d"."""
    text = raw.strip().lower()
    factor = float(unit)
    if text[-1:] in _DURATION_UNITS:
        factor = _DURATION_UNITS[text[-1]]
        text = text[:-1]
    try:
        value = float(text) * factor
    except ValueError:
        raise SettingsError(f"{name} must be a duration such as 90, 30s, 15m or 12h, not {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise SettingsError(f"{name} must be a positive duration, not {raw!r}")
    return value


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
