"""Schema upgrades at start, with a backup taken first and put back if the upgrade fails."""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from portal.errors import StorageError
from portal.i18n import _

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
KEEP_BACKUPS = 5
# The newest revision in migrations/versions; a test keeps it equal to Alembic's head, so that a
# start with a current database reads one row with sqlite3 and never imports Alembic.
HEAD_REVISION = "0006"


def alembic_config(*, script_location: Path = MIGRATIONS) -> Config:
    """An Alembic config that needs no alembic.ini, so migrations ship inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    return config


def current_revision(database: Path) -> str | None:
    """The schema revision of the database file, or None for a new or empty one."""
    if not database.exists():
        return None
    try:
        with closing(sqlite3.connect(database)) as db:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc):
            return None
        raise StorageError(
            _("The database {path} cannot be read: {problem}").format(path=database, problem=exc)
        ) from exc
    return None if row is None else str(row[0])


def head_revision(*, script_location: Path = MIGRATIONS) -> str:
    """The newest schema revision in the migration scripts (Alembic reads them all)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(
        alembic_config(script_location=script_location)
    ).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head


def upgrade_database(
    database: Path,
    *,
    backups: Path,
    target: str = "head",
    script_location: Path = MIGRATIONS,
) -> Path | None:
    """Bring `database` to `target`; returns the backup taken, or None when none was needed."""
    current = current_revision(database)
    if current == HEAD_REVISION and target == "head" and script_location == MIGRATIONS:
        return None
    from alembic import command
    from alembic.script import ScriptDirectory

    from portal.db.engine import create_sqlite_engine

    config = alembic_config(script_location=script_location)
    scripts = ScriptDirectory.from_config(config)
    if current is not None and current not in {s.revision for s in scripts.walk_revisions()}:
        raise StorageError(
            _(
                "The database {path} was written by a newer version of AIC Partner Portal "
                "(schema {revision}). Install that version, or start with another data dir."
            ).format(path=database, revision=current)
        )
    wanted = scripts.get_current_head() if target == "head" else target
    if current == wanted:
        return None
    existed = database.exists()
    backup = _backup(database, backups, current) if existed and current else None
    engine = create_sqlite_engine(database)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, target)
    except Exception as exc:
        engine.dispose()
        log.exception("schema upgrade of %s from %s failed", database, current)
        if backup is not None:
            _restore(backup, database)
            message = _(
                "The database {path} could not be upgraded ({problem}). It was restored from "
                "the backup taken just before, {backup}; nothing was changed."
            ).format(path=database, problem=exc, backup=backup)
        else:
            if not existed:
                _remove_database(database)
            message = _("The database {path} could not be created ({problem}).").format(
                path=database, problem=exc
            )
        raise StorageError(message) from exc
    finally:
        engine.dispose()
    log.info("database %s upgraded from %s to %s", database, current, wanted)
    return backup


def _backup(database: Path, backups: Path, revision: str) -> Path:
    """Copy the live database (WAL included) with SQLite's online backup, then prune old copies."""
    backups.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = backups / f"{database.stem}-{revision}-{stamp}.sqlite3"
    with sqlite3.connect(database) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    for old in sorted(backups.glob(f"{database.stem}-*.sqlite3"))[:-KEEP_BACKUPS]:
        old.unlink()
    log.info("database %s backed up to %s", database, target)
    return target


def _restore(backup: Path, database: Path) -> None:
    """Put the backup back in place of a half-upgraded database."""
    staging = database.with_name(database.name + ".restore")
    with sqlite3.connect(backup) as source, sqlite3.connect(staging) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    _remove_database(database)
    os.replace(staging, database)
    log.warning("database %s restored from %s", database, backup)


def _remove_database(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
