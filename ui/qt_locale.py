"""Qt's side of the language: its own translations, default locale and layout direction."""

from __future__ import annotations

from PySide6.QtCore import QLibraryInfo, QLocale, Qt, QTranslator
from PySide6.QtWidgets import QApplication

from portal.i18n import text_direction

_installed: list[QTranslator] = []


def apply_qt_locale(app: QApplication, code: str) -> None:
    """Install `qtbase_<code>` (standard buttons, dialogs), set QLocale and the text direction."""
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    locale = QLocale(code)
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(locale, "qtbase", "_", folder):
        app.installTranslator(translator)
        _installed.append(translator)
    QLocale.setDefault(locale)
    rtl = text_direction(code) == "rtl"
    app.setLayoutDirection(
        Qt.LayoutDirection.RightToLeft if rtl else Qt.LayoutDirection.LeftToRight
    )
