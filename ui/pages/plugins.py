"""Plugin projects: the folders this computer packages for the marketplace, and their details."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from portal.i18n import _, format_datetime, format_number
from ui.dialogs import ask
from ui.operations import CoreOp
from ui.pages.base import Page
from ui.state import AppState
from ui.widgets import EmptyState, RecordTable

if TYPE_CHECKING:
    from portal.db.store import Store
    from portal.plugins.projects import ProjectSummary
    from ui.pages.plugin_detail import ProjectDetail


class PluginsPage(Page):
    """Lists plugin projects; Enter or a double-click opens one, Back returns to the list."""

    def __init__(self, state: AppState) -> None:
        super().__init__(state, _("Plugins"))
        self.new_action = self._action(
            _("New from template…"), QKeySequence.StandardKey.New, self.new_from_template
        )
        self.add_action = self._action(
            _("Add plugin folder…"), QKeySequence.StandardKey.Open, self.choose_folder
        )
        self.open_action = self._action(_("Open"), None, self.open_selected)
        self.show_action = self._action(_("Show folder"), None, self.show_selected)
        self.remove_action = self._action(_("Remove from list"), None, self.remove_selected)
        self._buttons = []
        for action in (
            self.new_action,
            self.add_action,
            self.open_action,
            self.show_action,
            self.remove_action,
        ):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            self.actions_bar.addWidget(button)
            self._buttons.append(button)
        self.table = RecordTable([_("Name"), _("Folder"), _("Packaged versions"), _("Added")])
        self.table.setObjectName("projects")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.activated.connect(lambda _index: self.open_selected())
        remove = QAction(self.table)
        remove.setShortcut(QKeySequence.StandardKey.Delete)
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self.remove_selected)
        self.table.addAction(remove)
        self.list = QWidget()
        column = QVBoxLayout(self.list)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table, 1)
        hint = QLabel(
            _("Double-click a project, or press Enter, to edit, lint, pack and publish it.")
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        column.addWidget(hint)
        self.views = QStackedWidget()
        self.views.addWidget(self.list)
        self.detail: ProjectDetail | None = None
        self._projects: dict[int, ProjectSummary] = {}
        self.install(
            empty=EmptyState(
                _("No plugin projects yet"),
                _(
                    "A plugin project is a folder with your plugin's code and its plugin.yaml "
                    "manifest. Start one from a template, or add a folder you already have, to "
                    "package it, sign it and publish it to the marketplace."
                ),
                action=_("New from template…"),
                on_action=self.new_from_template,
            ),
            content=self.views,
            load=_load,
            show=self._show,
        )
        if self.empty is not None:
            self.empty.add_button(_("Add plugin folder…"), self.choose_folder)
        self._selection_changed()

    def _action(
        self, text: str, keys: QKeySequence.StandardKey | None, slot: Callable[[], object]
    ) -> QAction:
        action = QAction(text, self)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

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
        for action in (self.remove_action, self.open_action, self.show_action):
            action.setEnabled(selected)

    def showing_detail(self) -> bool:
        """Whether a project is open, rather than the list."""
        return self.detail is not None and self.views.currentWidget() is self.detail

    def has_unsaved_work(self) -> bool:
        """Whether the open project's manifest has changes that are not saved."""
        return self.detail is not None and self.detail.editor.is_modified()

    def maybe_leave(self, then: Callable[[], None]) -> None:
        """Run `then` once the open project's unsaved changes are saved or dropped."""
        if self.detail is not None:
            self.detail.maybe_leave(then)
        else:
            then()

    def new_from_template(self) -> None:
        """Ask for a template, a name and a place; make the folder and add it as a project."""
        from ui.pages.new_plugin import NewPluginDialog

        dialog = NewPluginDialog(self, location=self._default_location())
        dialog.accepted.connect(lambda: self.create_plugin(*dialog.chosen()))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _default_location(self) -> Path:
        """Beside the last project added, else the user's documents folder."""
        if self._projects:
            newest = max(self._projects.values(), key=lambda p: p.created_at)
            return newest.folder.parent
        return Path(
            QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        )

    def create_plugin(self, template: str, folder: Path, name: str) -> None:
        """Copy a template into `folder` on a worker, then add it as a project and open it."""
        from portal.plugins.templates import create_plugin

        CoreOp(
            self, lambda _ctx: create_plugin(template, folder, name=name), name="new plugin"
        ).success(lambda _manifest: self.add_folder(folder, open_it=True)).run_in_background()

    def choose_folder(self) -> None:
        """Ask for a folder and add it as a plugin project."""
        folder = QFileDialog.getExistingDirectory(self, _("Choose a plugin folder"))
        if folder:
            self.add_folder(Path(folder), open_it=True)

    def add_folder(self, folder: Path, *, open_it: bool = False) -> None:
        """Add `folder` as a plugin project on the write worker, and open it if asked."""
        store = self.state.store
        if store is None:
            return
        from portal.plugins.projects import add_project

        def added(project: ProjectSummary) -> None:
            self._changed(_("Added {name}.").format(name=project.name))
            if open_it:
                self.open_project(project)

        CoreOp(self, lambda _ctx: add_project(store, folder), writes=True).success(
            added
        ).run_in_background()

    def open_selected(self) -> None:
        """Open the selected project's manifest, lint and versions."""
        key = self.table.selected_key()
        if isinstance(key, int) and key in self._projects:
            self.open_project(self._projects[key])

    def open_project(self, project: ProjectSummary) -> None:
        """Show a project's detail, after dealing with unsaved changes to the one open before."""
        detail = self._detail()
        if detail.project_id == project.id and self.showing_detail():
            return
        detail.maybe_leave(lambda: self._show_detail(project))

    def _show_detail(self, project: ProjectSummary) -> None:
        detail = self._detail()
        detail.open_project(project.id, project.name, project.folder)
        self.views.setCurrentWidget(detail)
        self.stack.setCurrentWidget(self.views)
        for button in self._buttons:
            button.hide()
        detail.tabs.setFocus()

    def _detail(self) -> ProjectDetail:
        """The detail view, built the first time a project is opened."""
        if self.detail is None:
            from ui.pages.plugin_detail import ProjectDetail

            self.detail = ProjectDetail(self.state)
            self.detail.sig_back.connect(self.show_list)
            self.views.addWidget(self.detail)
        return self.detail

    def show_list(self) -> None:
        """Back to the list of projects."""
        self.views.setCurrentWidget(self.list)
        for button in self._buttons:
            button.show()
        self.table.setFocus()

    def remove_selected(self) -> None:
        """Forget the selected project after asking; its folder stays on disk."""
        key = self.table.selected_key()
        store = self.state.store
        if not isinstance(key, int) or store is None or key not in self._projects:
            return
        project = self._projects[key]
        from portal.plugins.projects import remove_project

        def remove() -> None:
            CoreOp(self, lambda _ctx: remove_project(store, key), writes=True).success(
                lambda _none: self._changed(_("Removed {name}.").format(name=project.name))
            ).run_in_background()

        ask(
            self,
            _("Remove plugin project"),
            _("Remove {name} from the list? The folder {path} and its files stay on disk.").format(
                name=project.name, path=project.folder
            ),
            remove,
            name="removeQuestion",
        )

    def show_selected(self) -> None:
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
