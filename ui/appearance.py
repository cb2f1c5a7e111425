"""Text size and the high-contrast theme, applied app-wide from the settings."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from portal.settings import Settings

_BASE_POINT_SIZE = "aicBasePointSize"
_BASE_PALETTE: list[QPalette] = []

HIGH_CONTRAST_QSS = """
QWidget { background: #000000; color: #ffffff; }
QPushButton, QToolButton, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QSpinBox,
QListWidget, QTableWidget {
    background: #000000; color: #ffffff; border: 2px solid #ffffff; padding: 0.2em 0.5em;
}
QPushButton:disabled, QLabel:disabled, QRadioButton:disabled, QCheckBox:disabled {
    color: #9a9a9a; border-color: #9a9a9a;
}
QPushButton:focus, QToolButton:focus, QComboBox:focus, QLineEdit:focus, QPlainTextEdit:focus,
QListWidget:focus, QTableWidget:focus, QRadioButton:focus, QCheckBox:focus {
    border: 3px solid #ffff00;
}
QPushButton:checked, QToolButton:checked { background: #ffff00; color: #000000; }
QListWidget::item:selected, QTableWidget::item:selected,
QComboBox QAbstractItemView::item:selected {
    background: #ffff00; color: #000000;
}
QHeaderView::section { background: #000000; color: #ffffff; border: 1px solid #ffffff; }
QLabel#problem { color: #ffff00; font-weight: bold; }
QRadioButton::indicator, QCheckBox::indicator {
    width: 0.8em; height: 0.8em; border: 2px solid #ffffff; background: #000000;
}
QRadioButton::indicator:checked, QCheckBox::indicator:checked {
    background: #ffff00; border-color: #ffff00;
}
"""
"""Black, white and yellow (contrast 21:1 and 19.6:1), a 3-pixel yellow frame on the focus."""

FOCUS_QSS = """
QPushButton:focus, QToolButton:focus, QComboBox:focus, QLineEdit:focus, QPlainTextEdit:focus,
QListWidget:focus { border: 2px solid palette(highlight); border-radius: 3px; }
QRadioButton:focus, QCheckBox:focus { background: palette(alternate-base); }
QLabel#problem { color: #b00020; font-weight: bold; }
QRadioButton::indicator, QCheckBox::indicator { width: 0.9em; height: 0.9em; }
"""
"""A visible focus for the sitting in the normal theme (WCAG 2.4.7), and tick boxes that grow
with the text."""


def high_contrast_palette() -> QPalette:
    """White on black, yellow for what is selected or linked."""
    palette = QPalette()
    black, white, yellow = QColor("#000000"), QColor("#ffffff"), QColor("#ffff00")
    role = QPalette.ColorRole
    for r in (role.Window, role.Base, role.AlternateBase, role.Button, role.ToolTipBase):
        palette.setColor(r, black)
    for r in (role.WindowText, role.Text, role.ButtonText, role.ToolTipText, role.BrightText):
        palette.setColor(r, white)
    palette.setColor(role.Highlight, yellow)
    palette.setColor(role.HighlightedText, black)
    palette.setColor(role.Link, yellow)
    palette.setColor(role.PlaceholderText, QColor("#c8c8c8"))
    grey = QColor("#9a9a9a")
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, r, grey)
    return palette


def apply_appearance(app: QApplication, settings: Settings) -> None:
    """Scale the app's font from the size it started with, and switch the theme."""
    base = app.property(_BASE_POINT_SIZE)
    if base is None:
        base = app.font().pointSizeF()
        app.setProperty(_BASE_POINT_SIZE, base)
        _BASE_PALETTE.append(app.palette())
    font = app.font()
    font.setPointSizeF(float(base) * settings.text_scale / 100)
    app.setFont(font)
    if settings.high_contrast:
        app.setPalette(high_contrast_palette())
        app.setStyleSheet(HIGH_CONTRAST_QSS)
    else:
        app.setPalette(_BASE_PALETTE[0])
        app.setStyleSheet("")


def appearance_of(settings: Settings) -> tuple[int, bool]:
    """The settings that change how the app looks: a change rebuilds the window."""
    return (settings.text_scale, settings.high_contrast)
