"""The main window: a navigation rail, the pages, menus and a status bar that tells sync state."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QStyle,
    QWidget,
)

from portal.i18n import _, format_number, ngettext
from portal.sync.connectivity import Reachability
from ui.state import AppState

if TYPE_CHECKING:
    from ui.pages.plugins import PluginsPage

PAGES = ("dashboard", "plugins", "conformance", "exams", "sync", "settings")


class MainWindow(QMainWindow):
    """One per language: switching language builds a new one on the same AppState."""

    def __init__(self, state: AppState, *, on_language: Callable[[str], None]) -> None:
        super().__init__()
        self.state = state
        self.setObjectName("mainWindow")
        self.setWindowTitle(_("AIC Partner Portal"))
        self.resize(1100, 720)
        style = self.style()
        icon = QStyle.StandardPixmap
        self._on_language = on_language
        self._may_close = False
        entries = [
            (_("Dashboard"), icon.SP_ComputerIcon),
            (_("Plugins"), icon.SP_DirIcon),
            (_("Conformance"), icon.SP_DialogApplyButton),
            (_("Exams"), icon.SP_FileDialogDetailedView),
            (_("Sync"), icon.SP_BrowserReload),
            (_("Settings"), icon.SP_FileDialogInfoView),
        ]
        self.rail = QListWidget()
        self.rail.setObjectName("navigationRail")
        self.rail.setIconSize(QSize(22, 22))
        self.rail.setSpacing(2)
        self.stack = QStackedWidget()
        self._built: dict[str, QWidget] = {}
        go_menu_actions = []
        for number, (key, (label, pixmap)) in enumerate(zip(PAGES, entries, strict=True), start=1):
            self.rail.addItem(QListWidgetItem(style.standardIcon(pixmap), label))
            self.stack.addWidget(QWidget())
            action = QAction(label, self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _checked=False, k=key: self.show_page(k))
            go_menu_actions.append(action)
        self.rail.setFixedWidth(max(170, self.rail.sizeHintForColumn(0) + 36))
        self.rail.currentRowChanged.connect(self._show_row)
        self.rail.setCurrentRow(0)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.rail)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._build_menus(go_menu_actions)

        self.connection = QLabel()
        self.connection.setObjectName("connectionStatus")
        self.waiting = QLabel()
        self.waiting.setObjectName("waitingStatus")
        self.statusBar().addPermanentWidget(self.connection)
        self.statusBar().addPermanentWidget(self.waiting)
        state.sig_reachability.connect(self._show_reachability)
        state.sig_waiting.connect(self._show_waiting)
        state.sig_store_failed.connect(self._store_failed)
        self._show_reachability(state.reachability)
        self.waiting.setText(_("Opening the local store…") if state.store is None else "")
        if state.store is not None:
            state.count_waiting()

    def _build_menus(self, go_actions: list[QAction]) -> None:
        file_menu = self.menuBar().addMenu(_("&File"))
        new = QAction(_("New plugin from template…"), self)
        new.triggered.connect(lambda: self._plugins().new_from_template())
        file_menu.addAction(new)
        add = QAction(_("Add plugin folder…"), self)
        add.triggered.connect(lambda: self._plugins().choose_folder())
        file_menu.addAction(add)
        file_menu.addSeparator()
        quit_action = QAction(_("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        go_menu = self.menuBar().addMenu(_("&Go"))
        for action in go_actions:
            go_menu.addAction(action)
        help_menu = self.menuBar().addMenu(_("&Help"))
        logs = QAction(_("Open log folder"), self)
        logs.triggered.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.state.data_dir.logs)))
        )
        help_menu.addAction(logs)
        about = QAction(_("&About AIC Partner Portal"), self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def page(self, key: str) -> QWidget:
        """The page named `key` (one of PAGES), built the first time it is asked for."""
        if key not in self._built:
            index = PAGES.index(key)
            stand_in = self.stack.widget(index)
            self._built[key] = built = self._build(key)
            self.stack.insertWidget(index, built)
            self.stack.removeWidget(stand_in)
            stand_in.deleteLater()
        return self._built[key]

    def _build(self, key: str) -> QWidget:
        """Import and build one page; only the first page is built before the window paints."""
        state = self.state
        if key == "dashboard":
            from ui.pages.dashboard import DashboardPage

            return DashboardPage(state)
        if key == "plugins":
            from ui.pages.plugins import PluginsPage

            return PluginsPage(state)
        if key == "conformance":
            from ui.pages.conformance import ConformancePage

            return ConformancePage(state)
        if key == "exams":
            from ui.pages.exams import ExamsPage

            return ExamsPage(state)
        if key == "sync":
            from ui.pages.sync import SyncPage

            return SyncPage(state)
        from ui.pages.settings import SettingsPage

        return SettingsPage(state, on_language=self._on_language)

    def show_page(self, key: str) -> None:
        """Switch to the page named `key` (one of PAGES)."""
        self.rail.setCurrentRow(PAGES.index(key))

    def _show_row(self, row: int) -> None:
        self.page(PAGES[row])
        self.stack.setCurrentIndex(row)

    def _plugins(self) -> PluginsPage:
        """The Plugins page, shown."""
        self.show_page("plugins")
        from ui.pages.plugins import PluginsPage

        plugins = self.page("plugins")
        assert isinstance(plugins, PluginsPage)
        return plugins

    def when_closable(self, then: Callable[[], None]) -> None:
        """Run `then` once unsaved work is saved or dropped, as the user says."""
        from ui.pages.plugins import PluginsPage

        plugins = self._built.get("plugins")
        if isinstance(plugins, PluginsPage):
            plugins.maybe_leave(then)
        else:
            then()

    def has_unsaved_work(self) -> bool:
        """Whether closing now would lose edits."""
        from ui.pages.plugins import PluginsPage

        plugins = self._built.get("plugins")
        return isinstance(plugins, PluginsPage) and plugins.has_unsaved_work()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Ask about unsaved changes first; close once they are saved or dropped."""
        if self._may_close or not self.has_unsaved_work():
            super().closeEvent(event)
            return
        event.ignore()  # closing again from inside closeEvent does nothing: ask, then close

        def close_now() -> None:
            self._may_close = True
            self.close()

        self.when_closable(close_now)

    def current_page(self) -> str:
        """The key of the page shown now."""
        return PAGES[self.stack.currentIndex()]

    def _store_failed(self, error: BaseException) -> None:
        from ui.dialogs import show_error

        show_error(self, error)

    def show_about(self) -> None:
        """Open the About dialog."""
        from portal.about import versions
        from ui.dialogs import AboutDialog
        from ui.operations import CoreOp

        def show(found: dict[str, str]) -> None:
            dialog = AboutDialog(self, data_dir=str(self.state.data_dir.root), versions=found)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.open()

        # Package metadata is read from disk: off the GUI thread.
        CoreOp(self, lambda _ctx: versions(), name="versions").success(show).run_in_background()

    def _show_reachability(self, answer: Reachability | None) -> None:
        if answer is None:
            self.connection.setText("◌ " + _("Checking…"))
            self.connection.setToolTip(_("Checking the marketplace…"))
        elif answer.online:
            self.connection.setText("● " + _("Online"))
            self.connection.setToolTip(answer.url or "")
        else:
            self.connection.setText("○ " + _("Offline"))
            self.connection.setToolTip(answer.reason())

    def _show_waiting(self, count: int) -> None:
        self.waiting.setText(
            ngettext("{n} item waiting to sync", "{n} items waiting to sync", count).format(
                n=format_number(count)
            )
        )
