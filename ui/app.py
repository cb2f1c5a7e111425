"""`aic-portal-gui`: paint the shell first, then open the store and load pages on workers."""

from __future__ import annotations

import argparse
import builtins
import sys
from types import TracebackType
from typing import TYPE_CHECKING

from portal import __version__
from portal.proctime import process_age_ms, resident_mib

if TYPE_CHECKING:
    from ui.main_window import MainWindow

# Python's own import, kept before PySide replaces it (see _drop_feature_import_hook).
_PLAIN_IMPORT = builtins.__import__ if "PySide6" not in sys.modules else None


def _drop_feature_import_hook() -> None:
    """Give `import` back to Python once Qt is loaded.

    PySide6 swaps in an import hook so modules may opt into `from __feature__ import ...`, which
    this app never does; the hook reads the source of every module imported after Qt
    (shibokensupport.feature._mod_uses_pyside), and linecache keeps it: about 20 MiB of the
    idle footprint once SQLAlchemy and the pages are loaded.
    """
    if _PLAIN_IMPORT is not None:
        builtins.__import__ = _PLAIN_IMPORT


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="aic-portal-gui", description="AIC Partner Portal")
    parser.add_argument(
        "--data-dir", help="folder for the database, settings, logs and keys (default: per user)"
    )
    parser.add_argument(
        "--measure-startup",
        action="store_true",
        help="print the milliseconds from process start to the first painted window, then exit "
        "once the store is open and the pages are loaded",
    )
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="do not start the embedded sandbox marketplace when none is configured",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser.parse_args(argv)


class Shell:
    """The application, its shared state and the current window (rebuilt on a language change)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from PySide6.QtWidgets import QApplication

        _drop_feature_import_hook()
        from portal.startup import locale_for, start_session
        from ui.qt_locale import apply_qt_locale
        from ui.state import AppState

        self.args = args
        data_dir, settings, self.settings_problem = start_session(self.args.data_dir)
        existing = QApplication.instance()
        self.app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
        self.app.setApplicationName("AIC Partner Portal")
        self.app.setOrganizationName("AIC-Platform")
        self.app.setApplicationVersion(__version__)
        from ui.collector import GuiThreadCollector

        self.collector = GuiThreadCollector(self.app)
        apply_qt_locale(self.app, locale_for(settings))
        from ui.appearance import appearance_of, apply_appearance

        apply_appearance(self.app, settings)
        self._appearance = appearance_of(settings)
        self.state = AppState(data_dir, settings, embedded=not args.no_sandbox)
        self.window = self._new_window()
        self.state.sig_settings_changed.connect(self._settings_changed)
        self.state.sig_store_ready.connect(self._resume_sitting)
        self.app.aboutToQuit.connect(self._shutdown)

    def _new_window(self) -> MainWindow:
        from ui.main_window import MainWindow

        return MainWindow(self.state, on_language=self.switch_language)

    def start(self) -> None:
        """Show the window; heavy work starts once it has been painted."""
        from ui.first_paint import on_first_paint

        on_first_paint(self.window, self._after_first_paint)
        self.window.show()

    def _after_first_paint(self) -> None:
        if self.args.measure_startup:
            print(f"startup_ms={process_age_ms():.1f}", flush=True)
            self._quit_when_idle()
        self.state.open_store()
        if self.settings_problem:
            from portal.errors import InputError
            from ui.dialogs import show_error

            show_error(self.window, InputError(self.settings_problem))

    def _quit_when_idle(self) -> None:
        from PySide6.QtCore import QTimer

        from ui.operations import running_operations

        def check() -> None:
            if self.state.store is not None and not running_operations():
                print(f"idle_rss_mib={resident_mib():.1f}", flush=True)
                self.app.quit()
            else:
                QTimer.singleShot(20, check)

        self.state.sig_store_failed.connect(lambda _error: self.app.exit(1))
        QTimer.singleShot(20, check)

    def switch_language(self, code: str) -> None:
        """Rebuild the window in another language, once unsaved work is saved or dropped."""
        self.window.when_closable(lambda: self._switch_language(code))

    def _resume_sitting(self) -> None:
        """A sitting left open by a crash or a close comes back first, as the candidate left it."""
        from ui.exam.opening import resume_open_sitting

        resume_open_sitting(self.state, self.window)

    def _settings_changed(self) -> None:
        """A new text size or theme applies app-wide; the window is rebuilt so headings follow."""
        from ui.appearance import appearance_of, apply_appearance

        if appearance_of(self.state.settings) == self._appearance:
            return
        self._appearance = appearance_of(self.state.settings)
        apply_appearance(self.app, self.state.settings)
        self.window.when_closable(self._rebuild_window)

    def _rebuild_window(self) -> None:
        old = self.window
        self.window = self._new_window()
        self.window.setGeometry(old.geometry())
        self.window.show_page(old.current_page())
        self.window.show()
        old.close()
        old.deleteLater()

    def _switch_language(self, code: str) -> None:
        """Save the choice, switch catalogs and Qt's locale, and rebuild the window in place."""
        from dataclasses import replace

        from portal.i18n import set_locale
        from portal.startup import locale_for
        from ui.qt_locale import apply_qt_locale

        self.state.update_settings(language=code)
        locale = locale_for(replace(self.state.settings, language=code))
        set_locale(locale)
        apply_qt_locale(self.app, locale)
        self._rebuild_window()

    def _shutdown(self) -> None:
        from ui.operations import cancel_all, wait_for_workers

        cancel_all()
        wait_for_workers(5000)
        self.state.close()


def report_unhandled(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """sys.excepthook: log the traceback, show the user plain words (Qt slots end up here)."""
    import logging

    from ui.dialogs import show_error

    logging.getLogger(__name__).critical("unhandled error", exc_info=(kind, error, trace))
    show_error(None, error)


def main(argv: list[str] | None = None) -> int:
    """Start the GUI; returns the exit status."""
    import multiprocessing

    multiprocessing.freeze_support()  # the installer's exe also starts conformance workers
    args = _arguments(sys.argv[1:] if argv is None else argv)
    from PySide6.QtWidgets import QApplication, QMessageBox

    from portal.errors import PortalError

    _drop_feature_import_hook()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        shell = Shell(args)
    except PortalError as exc:  # e.g. a data dir that cannot be created
        from portal.i18n import _

        QMessageBox.critical(None, _("AIC Partner Portal"), exc.message)
        return 1
    sys.excepthook = report_unhandled
    shell.start()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
