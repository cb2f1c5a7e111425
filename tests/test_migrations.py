"""Schema migrations: data survives upgrades, a failed upgrade is rolled back from the backup."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from portal.db.engine import create_sqlite_engine
from portal.db.migrate import (
    HEAD_REVISION,
    MIGRATIONS,
    current_revision,
    head_revision,
    upgrade_database,
)
from portal.db.models import Base, OutboxItem, PartnerOrganisation, PluginProject
from portal.db.store import Store
from portal.errors import StorageError
from portal.paths import DataDir

FIRST = "0001"


def _fill_first_revision(database: Path) -> None:
    """Rows in every table of the first revision, written with plain SQL as that version would."""
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(
            "INSERT INTO partner_organisations (id, remote_id, name, partner_type, tier, regions,"
            " revenue_share, updated_at) VALUES (1, 'org-7', 'Lagos AI Integrators',"
            " 'system_integrator', 'gold', '[\"africa-west1\"]', 0.2, '2026-11-01 10:00:00')"
        )
        db.execute(
            "INSERT INTO partner_profiles (organisation_id, remote_id, display_name, email,"
            " updated_at) VALUES (1, 'user-3', 'Ada Obi', 'ada@example.com',"
            " '2026-11-01 10:00:00')"
        )
        db.execute(
            "INSERT INTO plugin_projects (id, name, folder, created_at)"
            " VALUES (1, 'ocr-connector', '/home/ada/ocr', '2026-11-02 08:00:00')"
        )
        db.execute(
            "INSERT INTO plugin_versions (project_id, version, package_path, package_sha256,"
            " signed, review_status, created_at) VALUES (1, '1.2.0', '/tmp/ocr-1.2.0.aicpkg',"
            f" '{'ab' * 32}', 1, 'submitted', '2026-11-02 09:00:00')"
        )
        for n in range(3):
            db.execute(
                "INSERT INTO outbox_items (idempotency_key, resource, action, payload, state,"
                " attempts, created_at) VALUES (?, 'plugin/ocr-connector', 'publish', ?,"
                " 'pending', ?, '2026-11-03 12:00:00')",
                (f"key-{n}", f'{{"n": {n}}}', n),
            )


def test_upgrade_from_first_revision_keeps_every_row(data_dir: DataDir) -> None:
    upgrade_database(data_dir.database, backups=data_dir.backups, target=FIRST)
    assert current_revision(data_dir.database) == FIRST
    _fill_first_revision(data_dir.database)

    backup = upgrade_database(data_dir.database, backups=data_dir.backups)

    assert current_revision(data_dir.database) == head_revision()
    assert backup is not None and current_revision(backup) == FIRST
    store = Store(data_dir, create_sqlite_engine(data_dir.database))
    try:
        with store.session() as session:
            org = session.get(PartnerOrganisation, 1)
            assert org is not None
            assert (org.name, org.partner_type, org.regions) == (
                "Lagos AI Integrators",
                "system_integrator",
                ["africa-west1"],
            )
            assert [p.display_name for p in org.profiles] == ["Ada Obi"]
            project = session.get(PluginProject, 1)
            assert project is not None
            assert [(v.version, v.signed, v.review_status) for v in project.versions] == [
                ("1.2.0", True, "submitted")
            ]
            items = session.query(OutboxItem).order_by(OutboxItem.id).all()
            assert [(i.idempotency_key, i.payload, i.attempts) for i in items] == [
                ("key-0", {"n": 0}, 0),
                ("key-1", {"n": 1}, 1),
                ("key-2", {"n": 2}, 2),
            ]
            assert all(i.not_before is None for i in items)
            assert items[0].created_at.tzinfo is not None
    finally:
        store.close()


def test_failed_upgrade_restores_the_backup(data_dir: DataDir, tmp_path: Path) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_broken.py").write_text(
        "from alembic import op\n"
        f"revision = '9999'\ndown_revision = '{head_revision()}'\n"
        "branch_labels = None\ndepends_on = None\n"
        "def upgrade():\n"
        "    op.execute('DELETE FROM plugin_projects')\n"
        "    op.execute('ALTER TABLE plugin_projects RENAME TO gone')\n"
        "    raise RuntimeError('disk on fire')\n"
        "def downgrade():\n    pass\n"
    )
    upgrade_database(data_dir.database, backups=data_dir.backups, target=FIRST)
    _fill_first_revision(data_dir.database)
    upgrade_database(data_dir.database, backups=data_dir.backups)
    before = _dump(data_dir.database)

    with pytest.raises(StorageError) as caught:
        upgrade_database(data_dir.database, backups=data_dir.backups, script_location=scripts)

    assert "restored from the backup" in caught.value.message
    assert str(data_dir.database) in caught.value.message
    assert current_revision(data_dir.database) == head_revision()
    assert _dump(data_dir.database) == before


def test_failed_creation_leaves_no_half_database(data_dir: DataDir, tmp_path: Path) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    first = scripts / "versions" / "0001_partners_plugins_outbox.py"
    first.write_text(
        first.read_text().replace(
            "def upgrade() -> None:\n",
            "def upgrade() -> None:\n    raise RuntimeError('no space left')\n",
        )
    )

    with pytest.raises(StorageError, match="could not be created"):
        upgrade_database(data_dir.database, backups=data_dir.backups, script_location=scripts)
    assert not data_dir.database.exists()


def test_database_from_a_newer_app_is_refused_untouched(data_dir: DataDir) -> None:
    upgrade_database(data_dir.database, backups=data_dir.backups)
    with sqlite3.connect(data_dir.database) as db:
        db.execute("UPDATE alembic_version SET version_num = '7777'")
    before = data_dir.database.read_bytes()

    with pytest.raises(StorageError, match="newer version"):
        Store.open(data_dir)
    assert data_dir.database.read_bytes() == before


def test_head_constant_matches_the_scripts() -> None:
    assert HEAD_REVISION == head_revision()


def test_a_current_database_is_opened_without_alembic(data_dir: DataDir) -> None:
    upgrade_database(data_dir.database, backups=data_dir.backups)
    code = (
        "import sys; from pathlib import Path; from portal.db.store import Store;"
        "from portal.paths import DataDir;"
        f"Store.open(DataDir(Path({str(data_dir.root)!r}))).close();"
        "print('alembic' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


def test_models_match_the_migrations(data_dir: DataDir) -> None:
    upgrade_database(data_dir.database, backups=data_dir.backups)
    engine = create_sqlite_engine(data_dir.database)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_store_uses_wal_and_enforces_foreign_keys(data_dir: DataDir) -> None:
    store = Store.open(data_dir)
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            with pytest.raises(Exception, match="FOREIGN KEY"):
                connection.exec_driver_sql(
                    "INSERT INTO partner_profiles (organisation_id, display_name, updated_at)"
                    " VALUES (42, 'nobody', '2026-01-01')"
                )
    finally:
        store.close()


def test_backups_are_pruned(data_dir: DataDir) -> None:
    for _round in range(7):
        data_dir.database.unlink(missing_ok=True)
        upgrade_database(data_dir.database, backups=data_dir.backups, target=FIRST)
        upgrade_database(data_dir.database, backups=data_dir.backups)
    assert len(list(data_dir.backups.glob("*.sqlite3"))) == 5


def _dump(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return list(db.iterdump())
