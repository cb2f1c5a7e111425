"""Packaged versions in the store: recorded by Pack (GUI and CLI), signed, frozen once sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, update

from portal.db.enums import OutboxState, ReviewStatus
from portal.db.models import OutboxItem, PluginVersion
from portal.db.store import Store
from portal.errors import InputError
from portal.paths import DataDir
from portal.plugins.projects import add_project, list_projects
from portal.plugins.versions import (
    ensure_packable,
    list_versions,
    mark_signed,
    project_for_folder,
    record_package,
)
from portal.sync.outbox import enqueue
from tests.plugins.conftest import MakePlugin
from tests.test_cli import aic


def test_record_sign_repack_and_freeze(data_dir: DataDir, tmp_path: Path) -> None:
    package = tmp_path / "p-1.0.0.aicpkg"
    package.write_bytes(b"zip")
    with Store.open(data_dir) as store:
        project = add_project(store, tmp_path).id
        assert project_for_folder(store, tmp_path) == project
        first = record_package(
            store, project, name="ocr", version="1.0.0", package_path=package, sha256="a"
        )
        mark_signed(store, first.id)
        # the project is known by the plugin's name from now on, not by its folder's
        assert [p.name for p in list_projects(store)] == ["ocr"]
        same = record_package(
            store, project, name="ocr", version="1.0.0", package_path=package, sha256="a"
        )
        assert same.id == first.id and same.signed and same.size == 3
        changed = record_package(
            store, project, name="ocr", version="1.0.0", package_path=package, sha256="b"
        )
        assert not changed.signed  # the old signature is for other bytes
        package.unlink()
        [listed] = list_versions(store, project)
        assert listed.size is None and listed.review_status is ReviewStatus.DRAFT
        with store.session() as session, session.begin():
            session.execute(update(PluginVersion).values(review_status=ReviewStatus.SUBMITTED))
            item = enqueue(
                session,
                resource="plugin/ocr",
                method="POST",
                path="/v1/marketplace/plugins/ocr/versions",
                body={"version": "1.0.0"},
            )
        with pytest.raises(InputError, match="already sent to the marketplace"):
            ensure_packable(store, project, "1.0.0")  # on its way
        ensure_packable(store, project, "1.0.1")
        for state, error, packable in (
            (OutboxState.FAILED, "HTTP 422: lint found 1 error", True),  # refused: not there
            (OutboxState.FAILED, "HTTP 409: already submitted", False),  # it is there
            (OutboxState.DELIVERED, None, False),
        ):
            with store.session() as session, session.begin():
                stored = session.get(OutboxItem, item.id)
                assert stored is not None
                stored.state, stored.last_error = state, error
            assert [v.sendable for v in list_versions(store, project)] == [packable]
        with store.session() as session, session.begin():
            session.execute(delete(OutboxItem))
        ensure_packable(store, project, "1.0.0")  # given up before it went


def test_cli_pack_records_the_version_of_a_known_project(
    make_plugin: MakePlugin, data_dir: DataDir, tmp_path: Path
) -> None:
    folder = make_plugin()
    with Store.open(data_dir) as store:
        project = add_project(store, folder).id
    package = tmp_path / "demo.aicpkg"
    done = aic("--data-dir", str(data_dir.root), "plugin", "pack", str(folder), "-o", str(package))
    assert done.returncode == 0, done.stderr
    with Store.open(data_dir) as store:
        [version] = list_versions(store, project)
    assert (version.version, version.package_path, version.signed) == ("0.1.0", package, False)
