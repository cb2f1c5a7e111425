"""Small widgets every page uses: a page header, an empty state, a summary card, a record table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def heading(text: str, *, level: int = 1) -> QLabel:
    """A bold heading label sized for its level."""
    label = QLabel(text)
    label.setObjectName(f"heading{level}")
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * (1.6 if level == 1 else 1.2))
    font.setBold(True)
    label.setFont(font)
    label.setWordWrap(True)
    return label


class EmptyState(QWidget):
    """What a page shows when it has no records: what goes here, and what to do next."""

    def __init__(
        self,
        title: str,
        text: str,
        *,
        action: str | None = None,
        on_action: Callable[[], object] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("emptyState")
        column = QWidget()
        column.setMaximumWidth(560)
        inner = QVBoxLayout(column)
        self.title = heading(title, level=2)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        inner.addWidget(self.title)
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        inner.addWidget(self.text)
        self._inner = inner
        self.button: QPushButton | None = None
        if action and on_action:
            self.button = self.add_button(action, on_action)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column, 4)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)

    def add_button(self, text: str, on_click: Callable[[], object]) -> QPushButton:
        """Offer a way forward, under the text (and under any button offered before)."""
        button = QPushButton(text)
        button.clicked.connect(on_click)
        self._inner.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        return button


class Card(QFrame):
    """One number on the dashboard, with what it counts and a hint when it is zero."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.setObjectName("card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(200)
        layout = QVBoxLayout(self)
        self.title = QLabel(title)
        self.title.setWordWrap(True)
        self.value = heading("…")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setObjectName("hint")
        for widget in (self.title, self.value, self.hint):
            layout.addWidget(widget)
        layout.addStretch(1)

    def show_value(self, value: str, hint: str = "") -> None:
        """Set the number and the hint below it."""
        self.value.setText(value)
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))


Cell = str | tuple[str, Any]
"""A table cell: its text, or its text and the value it sorts by (a number, a datetime)."""


class _SortableItem(QTableWidgetItem):
    """Sorts by the value kept beside the text, so 9 comes before 10 and dates by time."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is not None and theirs is not None:
            return bool(mine < theirs)
        return self.text() < other.text()  # not super(): Qt would call this override again


SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class RecordTable(QTableWidget):
    """A read-only table of records, one row each, sortable by clicking a header."""

    def __init__(self, headers: Sequence[str]) -> None:
        super().__init__(0, len(headers))
        self.setHorizontalHeaderLabels(list(headers))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)

    def set_rows(self, rows: Sequence[Sequence[Cell]], *, keys: Sequence[object] = ()) -> None:
        """Replace the rows; `keys[i]` is kept on row i's first cell for `selected_key`."""
        self.setSortingEnabled(False)
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                text, order = cell if isinstance(cell, tuple) else (cell, None)
                item = _SortableItem(text)
                if order is not None:
                    item.setData(SORT_ROLE, order)
                if c == 0 and r < len(keys):
                    item.setData(Qt.ItemDataRole.UserRole, keys[r])
                self.setItem(r, c, item)
        self.setSortingEnabled(True)

    def selected_key(self) -> object | None:
        """The key of the selected row, or None."""
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.item(rows[0].row(), 0)
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)
