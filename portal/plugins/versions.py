"""Packaged versions of a plugin project, kept in the store so the GUI and the CLI agree."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db.enums import OutboxState, ReviewStatus
from portal.db.models import PluginProject, PluginVersion
from portal.db.store import Store
from portal.errors import InputError
from portal.i18n import _
from portal.plugins.publish import publish_items


@dataclass(frozen=True)
class VersionSummary:
    """One packaged version as the versions table shows it."""

    id: int
    project_id: int
    version: str
    package_path: Path | None
    package_sha256: str | None
    size: int | None
    """Bytes of the package file, or None when it is no longer on disk."""
    signed: bool
    review_status: ReviewStatus
    created_at: datetime
    published_at: datetime | None
    refused: str | None = None
    """Why the marketplace refused this version's publish item, while it waits on the user."""
    sendable: bool = True
    """Whether it may be packed again and published: the marketplace cannot have it."""


def project_for_folder(store: Store, folder: Path) -> int | None:
    """The id of the project kept for `folder`, so `plugin pack` can record what it made."""
    folder = folder.expanduser().resolve()
    with store.session() as session:
        return session.scalar(select(PluginProject.id).where(PluginProject.folder == str(folder)))


def ensure_packable(store: Store, project_id: int, version: str) -> None:
    """Refuse to pack over a version the marketplace may have: its package must not change.

    A version whose publish was refused, or given up before it went, may be packed again.
    """
    with store.session() as session:
        row = session.scalar(
            select(PluginVersion).where(
                PluginVersion.project_id == project_id, PluginVersion.version == version
            )
        )
        if row is None or _sendable(session, row):
            return
    raise InputError(
        _(
            "Version {version} was already sent to the marketplace, so its package must not "
            "change. Raise metadata.version in plugin.yaml, then pack again."
        ).format(version=version)
    )


def _sendable(session: Session, row: PluginVersion) -> bool:
    """Whether the marketplace cannot have this version: never sent, refused, or given up."""
    if row.review_status is ReviewStatus.DRAFT:
        return True
    if row.published_at is not None or row.review_status is not ReviewStatus.SUBMITTED:
        return False
    item = publish_items(session, {row.project.name}).get((row.project.name, row.version))
    if item is None:
        return True  # given up before it went
    refused = item.state == OutboxState.FAILED
    return refused and not (item.last_error or "").startswith("HTTP 409")  # 409: it has it


def record_package(
    store: Store, project_id: int, *, name: str, version: str, package_path: Path, sha256: str
) -> VersionSummary:
    """Remember a package made for the project; packing a version again replaces its draft.

    The project takes the plugin's `name` from its manifest: the name the marketplace knows it by.
    """
    ensure_packable(store, project_id, version)
    path = str(package_path.absolute())
    with store.session() as session, session.begin():
        project = session.get(PluginProject, project_id)
        if project is not None:
            project.name = name
        row = session.scalar(
            select(PluginVersion).where(
                PluginVersion.project_id == project_id, PluginVersion.version == version
            )
        )
        if row is None:
            row = PluginVersion(project_id=project_id, version=version, signed=False)
            session.add(row)
        elif row.package_sha256 != sha256 or row.package_path != path:
            row.signed = False  # the signature beside the old package vouches for other bytes
        row.package_path, row.package_sha256 = path, sha256
        session.flush()
        return _summary(row)


def mark_signed(store: Store, version_id: int) -> None:
    """Note that the version's package now has a signature beside it."""
    with store.session() as session, session.begin():
        row = session.get(PluginVersion, version_id)
        if row is not None:
            row.signed = True


def list_versions(store: Store, project_id: int) -> list[VersionSummary]:
    """The project's packaged versions, newest first, with each package's size on disk."""
    query = (
        select(PluginVersion)
        .where(PluginVersion.project_id == project_id)
        .order_by(PluginVersion.created_at.desc(), PluginVersion.id.desc())
    )
    with store.session() as session:
        project = session.get(PluginProject, project_id)
        items = publish_items(session, {project.name}) if project is not None else {}
        found = []
        for row in session.scalars(query):
            item = items.get((project.name, row.version)) if project is not None else None
            stuck = item is not None and item.state in (OutboxState.FAILED, OutboxState.CONFLICT)
            refused = item.last_error if item is not None and stuck else None
            found.append(replace(_summary(row), refused=refused, sendable=_sendable(session, row)))
        return found


def _summary(row: PluginVersion) -> VersionSummary:
    path = Path(row.package_path) if row.package_path else None
    try:
        size = path.stat().st_size if path is not None else None
    except OSError:
        size = None
    return VersionSummary(
        row.id,
        row.project_id,
        row.version,
        path,
        row.package_sha256,
        size,
        row.signed,
        row.review_status,
        row.created_at,
        row.published_at,
    )
