"""The review screen: what is answered, unanswered and flagged, and a way to any item."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from portal.i18n import _, format_number, ngettext
from ui.widgets import heading

NUMBER_ROLE = Qt.ItemDataRole.UserRole


def item_state(n: int, *, answered: bool, flagged: bool) -> str:
    """An item's number and state in words, as the review list and screen readers say it."""
    state = _("answered") if answered else _("not answered")
    if flagged:
        state = _("{state}, flagged for review").format(state=state)
    return _("Item {n}: {state}").format(n=format_number(n), state=state)


class ReviewPanel(QWidget):
    """Counts, then every item with its state; Enter on one goes to it."""

    sig_jump = Signal(int)
    """Go to the item with this number."""
    sig_back = Signal()
    """Back to the item shown before."""
    sig_submit = Signal()
    """The candidate asked to submit (a confirmation follows)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("review")
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Review your answers"), level=2))
        self.counts = QLabel()
        self.counts.setObjectName("reviewCounts")
        self.counts.setWordWrap(True)
        layout.addWidget(self.counts)
        hint = QLabel(_("Choose an item and press Enter to go to it."))
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.list = QListWidget()
        self.list.setObjectName("reviewList")
        self.list.setAccessibleName(_("Items and their state"))
        self.list.itemActivated.connect(lambda entry: self.sig_jump.emit(entry.data(NUMBER_ROLE)))
        layout.addWidget(self.list, 1)
        self.back = QPushButton(_("Back to the &items"))
        self.back.setAccessibleName(_("Back to the items"))
        self.back.clicked.connect(self.sig_back.emit)
        self.submit = QPushButton(_("&Submit…"))
        self.submit.setObjectName("reviewSubmit")
        self.submit.setAccessibleName(_("Submit the exam"))
        self.submit.clicked.connect(self.sig_submit.emit)
        row = QHBoxLayout()
        row.addWidget(self.back)
        row.addStretch(1)
        row.addWidget(self.submit)
        layout.addLayout(row)

    def show_state(self, total: int, answered: set[int], flagged: set[int]) -> None:
        """Fill the counts and the list; the first unanswered item is selected."""
        unanswered = total - len(answered)
        self.counts.setText(
            "  ·  ".join(
                [
                    ngettext("{n} answered", "{n} answered", len(answered)).format(
                        n=format_number(len(answered))
                    ),
                    ngettext("{n} not answered", "{n} not answered", unanswered).format(
                        n=format_number(unanswered)
                    ),
                    ngettext("{n} flagged", "{n} flagged", len(flagged)).format(
                        n=format_number(len(flagged))
                    ),
                ]
            )
        )
        self.list.clear()
        first = 0
        for n in range(1, total + 1):
            text = item_state(n, answered=n in answered, flagged=n in flagged)
            entry = QListWidgetItem(("⚑ " if n in flagged else "") + text)
            entry.setData(NUMBER_ROLE, n)
            entry.setData(Qt.ItemDataRole.AccessibleTextRole, text)
            self.list.addItem(entry)
            if not first and n not in answered:
                first = n
        self.list.setCurrentRow(max(first, 1) - 1)
