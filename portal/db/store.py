"""The open local store: one engine per data dir, sessions for each unit of work."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from portal.db.engine import create_sqlite_engine
from portal.db.migrate import current_revision, upgrade_database
from portal.paths import DataDir


class Store:
    """The data dir's database, upgraded to the current schema before anything reads it."""

    def __init__(self, data_dir: DataDir, engine: Engine) -> None:
        self.data_dir = data_dir
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, data_dir: DataDir) -> Store:
        """Create or upgrade the database in `data_dir` and open it."""
        data_dir.ensure()
        upgrade_database(data_dir.database, backups=data_dir.backups)
        return cls(data_dir, create_sqlite_engine(data_dir.database))

    def session(self) -> Session:
        """A new session; use it in a `with` block, and `session.begin()` for writes."""
        return self._sessions()

    def revision(self) -> str | None:
        """The schema revision of the open database."""
        return current_revision(self.data_dir.database)

    def close(self) -> None:
        """Release every connection, so the file can be copied or removed."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
