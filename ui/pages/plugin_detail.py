"""One plugin project: its manifest, its lint findings and its packaged versions, in tabs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QStyle,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from portal.i18n import _, format_number
from portal.plugins.manifest import MANIFEST_NAME
from ui.code_view import FileViewer
from ui.pages.lint_panel import LintPanel
from ui.pages.plugin_editor import ManifestEditor
from ui.pages.plugin_versions import VersionsPanel
from ui.state import AppState
from ui.widgets import heading


class ProjectDetail(QWidget):
    """Ties the editor, lint and versions together: a save lints, a lint finding opens its line."""

    sig_back = Signal()
    """The user asked for the list of projects (unsaved changes were dealt with)."""

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.setObjectName("projectDetail")
        self.project_id: int | None = None
        self.folder: Path | None = None
        self.back_action = QAction(_("All projects"), self)
        self.back_action.setShortcut(QKeySequence.StandardKey.Back)
        self.back_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.back_action.triggered.connect(self.go_back)
        back = QToolButton()
        back.setDefaultAction(self.back_action)
        back.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        # The style mirrors "back" for right-to-left languages.
        self.back_action.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_ArrowBack))
        self.title = heading("", level=2)
        self.title.setObjectName("projectTitle")
        self.folder_label = QLabel()
        self.folder_label.setObjectName("projectFolder")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.folder_label.linkActivated.connect(self._show_folder)
        header = QHBoxLayout()
        header.addWidget(back)
        header.addWidget(self.title)
        header.addWidget(self.folder_label, 1)

        self.editor = ManifestEditor()
        self.lint = LintPanel()
        self.versions = VersionsPanel(state, before_pack=self._save_first)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("projectTabs")
        self.tabs.addTab(self.editor, _("Manifest"))
        self.tabs.addTab(self.lint, _("Lint"))
        self.tabs.addTab(self.versions, _("Versions"))
        for action in (self.editor.save_action, self.lint.run_action, self.versions.pack_action):
            self.addAction(action)  # these shortcuts work from every tab of the project

        self.editor.sig_saved.connect(self.lint.run)
        self.lint.sig_open.connect(self.open_file)
        self.lint.sig_counted.connect(self._counted)
        self.versions.sig_linted.connect(self.lint.show_findings)
        self.versions.sig_blocked.connect(lambda: self.tabs.setCurrentWidget(self.lint))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.tabs, 1)

    def open_project(self, project_id: int, name: str, folder: Path) -> None:
        """Show a project; the caller has already dealt with unsaved changes to the last one."""
        self.project_id, self.folder = project_id, folder
        self.title.setText(name)
        self.folder_label.setText(f'<a href="folder">{_html(str(folder))}</a>')
        self.folder_label.setToolTip(_("Show the folder in the file manager"))
        self.tabs.setCurrentWidget(self.editor)
        self.tabs.setTabText(self.tabs.indexOf(self.lint), _("Lint"))
        self.tabs.setTabIcon(self.tabs.indexOf(self.lint), QIcon())
        self.editor.open(folder / MANIFEST_NAME)
        self.lint.set_folder(folder)
        self.versions.set_project(project_id, folder)

    def maybe_leave(self, then: Callable[[], None]) -> None:
        """Run `then` once unsaved manifest changes are saved or dropped, as the user says."""
        self.editor.maybe_leave(then)

    def go_back(self) -> None:
        """Back to the list, asking first if the manifest has unsaved changes."""
        self.maybe_leave(self.sig_back.emit)

    def open_file(self, file: str, line: int, column: int) -> None:
        """plugin.yaml opens in the editor's YAML view; other files in a read-only viewer."""
        if self.folder is None:
            return
        if file == MANIFEST_NAME:
            self.tabs.setCurrentWidget(self.editor)
            self.editor.show_line(line, column)
        else:
            FileViewer(self, self.folder / file, line, column).open()

    def _show_folder(self, _link: str) -> None:
        if self.folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder)))

    def _save_first(self, then: Callable[[], None]) -> None:
        """Pack reads the files on disk: save the manifest first, as a build saves all."""
        if self.editor.is_modified():
            self.editor.save(then)
        else:
            then()

    def _counted(self, errors: int, warnings: int) -> None:
        index = self.tabs.indexOf(self.lint)
        count = errors + warnings
        self.tabs.setTabText(
            index, _("Lint ({n})").format(n=format_number(count)) if count else _("Lint")
        )
        pixmap = (
            QStyle.StandardPixmap.SP_MessageBoxCritical
            if errors
            else QStyle.StandardPixmap.SP_MessageBoxWarning
            if warnings
            else QStyle.StandardPixmap.SP_DialogApplyButton
        )
        self.tabs.setTabIcon(index, self.style().standardIcon(pixmap))


def _html(text: str) -> str:
    from html import escape

    return escape(text)
