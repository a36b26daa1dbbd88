"""Which store a setting names: a `postgresql://` URL is PostgreSQL, anything else a SQLite file (or `:memory:`)."""

from __future__ import annotations

from smartrlp.db.postgres import PostgresDatabase, is_postgres_url
from smartrlp.db.store import DEFAULT_BUSY_TIMEOUT_MS, Database

Store = Database | PostgresDatabase


def database_for(target: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Store:
    if is_postgres_url(target):
        return PostgresDatabase(target, busy_timeout_ms=busy_timeout_ms)
    return Database(target, busy_timeout_ms=busy_timeout_ms)


def is_postgres(target: str) -> bool:
    return is_postgres_url(target)
