"""A monospace text view with line numbers that can jump to a line, for YAML and source files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, QSize, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFontDatabase,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from portal.errors import InputError
from portal.i18n import _, format_number

VIEWER_LIMIT = 4 * 1024 * 1024


class _Gutter(QWidget):
    """The strip beside the text where line numbers are painted."""

    def __init__(self, view: CodeView) -> None:
        super().__init__(view)
        self.view = view
        self.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # numbers sit beside the code

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self.view.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        self.view.paint_gutter(event)


class CodeView(QPlainTextEdit):
    """Line numbers follow the text direction of code (always left to right)."""

    def __init__(self, *, read_only: bool = False) -> None:
        super().__init__()
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setReadOnly(read_only)
        self.setTabChangesFocus(True)  # keyboard users can leave the editor; YAML uses spaces
        self.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # code reads left to right
        self._gutter = _Gutter(self)
        self.blockCountChanged.connect(self._fit_gutter)
        self.updateRequest.connect(self._scroll_gutter)
        self._fit_gutter()

    def gutter_width(self) -> int:
        """Room for the largest line number and a little space."""
        digits = len(str(max(1, self.blockCount())))
        return 12 + self.fontMetrics().horizontalAdvance("9") * max(3, digits)

    def _fit_gutter(self) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _scroll_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        area = self.contentsRect()
        self._gutter.setGeometry(QRect(area.left(), area.top(), self.gutter_width(), area.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        """Paint the numbers of the visible lines."""
        painter = QPainter(self._gutter)
        painter.fillRect(event.rect(), self.palette().alternateBase())
        painter.setPen(self.palette().placeholderText().color())
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible():
                painter.drawText(
                    0,
                    top,
                    self._gutter.width() - 6,
                    height,
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute,
                    format_number(block.blockNumber() + 1),
                )
            top += round(self.blockBoundingRect(block).height())
            block = block.next()

    def go_to(self, line: int, column: int = 1) -> None:
        """Put the cursor at a 1-based line and column, mark that line, and show it."""
        block = self.document().findBlockByNumber(max(0, line - 1))
        if not block.isValid():
            block = self.document().lastBlock()
        cursor = QTextCursor(block)
        cursor.setPosition(block.position() + min(max(0, column - 1), block.length() - 1))
        self.setTextCursor(cursor)
        mark = QTextEdit.ExtraSelection()
        colour = QColor(self.palette().highlight().color())
        colour.setAlpha(60)
        mark.format.setBackground(colour)  # type: ignore[attr-defined]
        mark.format.setProperty(QTextFormat.Property.FullWidthSelection, True)  # type: ignore[attr-defined]
        mark.cursor = QTextCursor(block)  # type: ignore[attr-defined]
        self.setExtraSelections([mark])
        self.centerCursor()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def replace_text(self, text: str) -> None:
        """Replace only what differs, as one undo step, so the cursor and scroll stay put."""
        old = self.toPlainText()
        if old == text:
            return
        start = 0
        limit = min(len(old), len(text))
        while start < limit and old[start] == text[start]:
            start += 1
        end_old, end_new = len(old), len(text)
        while end_old > start and end_new > start and old[end_old - 1] == text[end_new - 1]:
            end_old -= 1
            end_new -= 1
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end_old, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text[start:end_new])


class FileViewer(QDialog):
    """A plugin file shown read-only at a line, for findings in files other than plugin.yaml."""

    def __init__(self, parent: QWidget, path: Path, line: int, column: int = 1) -> None:
        super().__init__(parent)
        self.setObjectName("fileViewer")
        self.setWindowTitle(path.name)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(760, 520)
        self.view = CodeView(read_only=True)
        self.view.setPlainText(_("Loading…"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        external = buttons.addButton(
            _("Open in default app"), QDialogButtonBox.ButtonRole.ActionRole
        )
        external.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))
        layout = QVBoxLayout(self)
        where = QLabel(str(path))
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(where)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        from ui.operations import CoreOp

        CoreOp(self, lambda _ctx: _read_shown(path), name="read file").success(
            lambda text: self._show(text, line, column)
        ).failure(self._failed).run_in_background()

    def _show(self, text: str, line: int, column: int) -> None:
        self.view.setPlainText(text)
        self.view.go_to(line, column)

    def _failed(self, error: BaseException) -> None:
        from ui.dialogs import show_error

        self.reject()
        show_error(self.parentWidget(), error)


def _read_shown(path: Path) -> str:
    """The start of a text file, enough to show any line a finding points at."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(VIEWER_LIMIT)
    except OSError as exc:
        raise InputError(
            _("{path} cannot be read: {problem}").format(path=path, problem=exc.strerror or exc)
        ) from exc
    return data.decode("utf-8", errors="replace")
