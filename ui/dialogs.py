"""The About dialog and the error dialog: plain words for the user, tracebacks for the log."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from portal.errors import ErrorKind, PortalError
from portal.i18n import _
from portal.logs import current_log_file

log = logging.getLogger(__name__)
_open_boxes: set[QMessageBox] = set()


def _titles() -> dict[ErrorKind, str]:
    return {
        ErrorKind.INPUT: _("Please check the input"),
        ErrorKind.STORAGE: _("Local storage problem"),
        ErrorKind.NETWORK: _("Network problem"),
        ErrorKind.AUTH: _("Sign-in needed"),
        ErrorKind.CANCELLED: _("Cancelled"),
        ErrorKind.INTERNAL: _("Unexpected error"),
    }


def show_error(parent: QWidget | None, error: BaseException) -> None:
    """Show a typed error in plain words; anything untyped was logged with its traceback."""
    if isinstance(error, PortalError):
        kind, text = error.kind, error.message
    else:
        kind = ErrorKind.INTERNAL
        text = _(
            "Something went wrong that the app did not expect. Your data is safe. The details "
            "were written to the log file, which support will ask for."
        )
    box = QMessageBox(
        QMessageBox.Icon.Warning if kind == ErrorKind.INPUT else QMessageBox.Icon.Critical,
        _titles()[kind],
        text,
        QMessageBox.StandardButton.Ok,
        parent or QApplication.activeWindow(),
    )
    box.setObjectName("errorDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    _open_boxes.add(box)  # a box with no parent would be collected before the user sees it
    box.finished.connect(lambda _result: _open_boxes.discard(box))
    # Without an escape button Qt refuses Esc, the close box and even quitting the app.
    box.setEscapeButton(QMessageBox.StandardButton.Ok)
    log_file = current_log_file()
    if kind == ErrorKind.INTERNAL and log_file is not None:
        folder = log_file.parent
        logs = box.addButton(_("Open log folder"), QMessageBox.ButtonRole.HelpRole)
        logs.clicked.disconnect()
        logs.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))
    box.open()


class AboutDialog(QDialog):
    """Versions of the app and its parts, selectable so a user can paste them into a ticket."""

    def __init__(self, parent: QWidget | None, *, data_dir: str, versions: dict[str, str]) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(_("About AIC Partner Portal"))
        layout = QVBoxLayout(self)
        heading = QLabel(
            "<h2>"
            + _("AIC Partner Portal")
            + "</h2><p>"
            + _(
                "Package plugins, prove hardware backends, take certification exams and sync "
                "with the AIC-Platform marketplace."
            )
            + "</p>"
        )
        heading.setWordWrap(True)
        layout.addWidget(heading)
        form = QFormLayout()
        for name, version in versions.items():
            value = QLabel(version)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(name, value)
        folder = QLabel(data_dir)
        folder.setWordWrap(True)
        form.addRow(_("Data dir"), folder)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def ask(
    parent: QWidget, title: str, text: str, on_yes: Callable[[], object], *, name: str = "question"
) -> QMessageBox:
    """Ask a yes/no question without blocking; `on_yes` runs if the user agrees."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        parent,
    )
    box.setObjectName(name)
    box.setDefaultButton(QMessageBox.StandardButton.Yes)
    box.setEscapeButton(QMessageBox.StandardButton.No)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def answered(_result: int) -> None:
        if box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes:
            on_yes()

    box.finished.connect(answered)
    box.open()
    return box
