"""Qt's side of the language: its own translations, default locale and layout direction."""

from __future__ import annotations

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

_installed: list[QTranslator] = []


def apply_qt_locale(app: QApplication, code: str) -> None:
    """Install `qtbase_<code>` (standard buttons, dialogs), set QLocale and its text direction."""
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    locale = QLocale(code)
    if locale.language() != QLocale.Language.English:  # Qt's own strings are English
        translator = QTranslator(app)
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if translator.load(locale, "qtbase", "_", folder):
            app.installTranslator(translator)
            _installed.append(translator)
    QLocale.setDefault(locale)
    app.setLayoutDirection(locale.textDirection())
