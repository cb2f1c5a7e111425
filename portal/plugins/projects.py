"""The plugin folders this computer knows, kept in the store so every page and the CLI agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from portal.db.models import PluginProject, PluginVersion
from portal.db.store import Store
from portal.errors import InputError
from portal.i18n import _


@dataclass(frozen=True)
class ProjectSummary:
    """A plugin project as lists show it."""

    id: int
    name: str
    folder: Path
    versions: int
    created_at: datetime


def add_project(store: Store, folder: Path) -> ProjectSummary:
    """Register an existing plugin folder; the same folder twice is refused, not duplicated."""
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise InputError(_("The folder {path} does not exist.").format(path=folder))
    with store.session() as session, session.begin():
        if session.scalar(select(PluginProject.id).where(PluginProject.folder == str(folder))):
            raise InputError(
                _("The folder {path} is already a plugin project.").format(path=folder)
            )
        project = PluginProject(name=folder.name, folder=str(folder))
        session.add(project)
        session.flush()
        return ProjectSummary(project.id, project.name, folder, 0, project.created_at)


def remove_project(store: Store, project_id: int) -> None:
    """Forget a plugin project and its packaged versions; the folder on disk is left alone."""
    with store.session() as session, session.begin():
        project = session.get(PluginProject, project_id)
        if project is not None:
            session.delete(project)


def list_projects(store: Store) -> list[ProjectSummary]:
    """All plugin projects with their number of packaged versions, by name."""
    versions = (
        select(func.count()).where(PluginVersion.project_id == PluginProject.id).scalar_subquery()
    )
    query = select(PluginProject, versions).order_by(
        func.lower(PluginProject.name), PluginProject.id
    )
    with store.session() as session:
        return [
            ProjectSummary(p.id, p.name, Path(p.folder), n, p.created_at)
            for p, n in session.execute(query)
        ]
