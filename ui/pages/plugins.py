"""Plugin projects: the folders this computer packages for the marketplace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QToolButton

from portal.i18n import _, format_datetime, format_number
from ui.operations import CoreOp
from ui.pages.base import Page
from ui.state import AppState
from ui.widgets import EmptyState, RecordTable

if TYPE_CHECKING:
    from portal.db.store import Store
    from portal.plugins.projects import ProjectSummary


class PluginsPage(Page):
    """Lists plugin projects; adds and removes them through the write worker."""

    def __init__(self, state: AppState) -> None:
        super().__init__(state, _("Plugins"))
        self.add_action = QAction(_("Add plugin folder…"), self)
        self.add_action.setShortcut(QKeySequence.StandardKey.New)
        self.add_action.triggered.connect(self.choose_folder)
        self.remove_action = QAction(_("Remove from list"), self)
        self.remove_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.remove_action.triggered.connect(self.remove_selected)
        self.open_action = QAction(_("Open folder"), self)
        self.open_action.triggered.connect(self.open_selected)
        for action in (self.add_action, self.open_action, self.remove_action):
            self.addAction(action)
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            self.actions_bar.addWidget(button)
        self.table = RecordTable([_("Name"), _("Folder"), _("Packaged versions"), _("Added")])
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(self.open_selected)
        self._projects: dict[int, ProjectSummary] = {}
        self.install(
            empty=EmptyState(
                _("No plugin projects yet"),
                _(
                    "A plugin project is a folder with your plugin's code and its plugin.yaml "
                    "manifest. Add one to package it, sign it and publish it to the marketplace."
                ),
                action=_("Add plugin folder…"),
                on_action=self.choose_folder,
            ),
            content=self.table,
            load=_load,
            show=self._show,
        )
        self._selection_changed()

    def _show(self, projects: list[ProjectSummary]) -> bool:
        self._projects = {p.id: p for p in projects}
        self.table.set_rows(
            [
                [
                    p.name,
                    str(p.folder),
                    (format_number(p.versions), p.versions),
                    (format_datetime(p.created_at), p.created_at),
                ]
                for p in projects
            ],
            keys=[p.id for p in projects],
        )
        self._selection_changed()
        return bool(projects)

    def _selection_changed(self) -> None:
        selected = self.table.selected_key() is not None
        self.remove_action.setEnabled(selected)
        self.open_action.setEnabled(selected)

    def choose_folder(self) -> None:
        """Ask for a folder and add it as a plugin project."""
        folder = QFileDialog.getExistingDirectory(self, _("Choose a plugin folder"))
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, folder: Path) -> None:
        """Add `folder` as a plugin project on the write worker."""
        store = self.state.store
        if store is None:
            return
        from portal.plugins.projects import add_project

        CoreOp(self, lambda _ctx: add_project(store, folder), writes=True).success(
            lambda project: self._changed(_("Added {name}.").format(name=project.name))
        ).run_in_background()

    def remove_selected(self) -> None:
        """Forget the selected project after asking; its folder stays on disk."""
        key = self.table.selected_key()
        store = self.state.store
        if not isinstance(key, int) or store is None or key not in self._projects:
            return
        project = self._projects[key]
        answer = QMessageBox.question(
            self,
            _("Remove plugin project"),
            _("Remove {name} from the list? The folder {path} and its files stay on disk.").format(
                name=project.name, path=project.folder
            ),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        from portal.plugins.projects import remove_project

        CoreOp(self, lambda _ctx: remove_project(store, key), writes=True).success(
            lambda _none: self._changed(_("Removed {name}.").format(name=project.name))
        ).run_in_background()

    def open_selected(self) -> None:
        """Show the selected project's folder in the file manager."""
        key = self.table.selected_key()
        if isinstance(key, int) and key in self._projects:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._projects[key].folder)))

    def _changed(self, message: str) -> None:
        window = self.window()
        status = getattr(window, "statusBar", None)
        if status is not None:
            status().showMessage(message, 5000)
        self.state.sig_changed.emit()


def _load(store: Store) -> list[ProjectSummary]:
    from portal.plugins.projects import list_projects

    return list_projects(store)
