"""SQLite engines set up the same way everywhere: WAL, foreign keys, a busy timeout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event


def create_sqlite_engine(path: Path) -> Engine:
    """An engine on the SQLite file at `path` with WAL and enforced foreign keys."""
    engine = create_engine(f"sqlite+pysqlite:///{path}")
    event.listen(engine, "connect", sqlite_pragmas)
    return engine


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Connect hook: WAL, a crash-safe sync level, enforced foreign keys, a busy timeout."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL survives any crash of the app and loses at most the last commits to a
    # power cut; the outbox re-sends those with the same Idempotency-Key, so nothing doubles.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
