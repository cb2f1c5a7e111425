"""The wizard's results step: every check of a finished run, with filters and summary counts."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from portal.conformance.results import Status, passed
from portal.i18n import _, format_list, format_number, ngettext
from ui.labels import check_status
from ui.pages.conformance_run import duration_text, ratio_text, status_icon
from ui.widgets import RecordTable

if TYPE_CHECKING:
    from portal.conformance.results import CheckResult
    from portal.conformance.runner import RunOutcome

NOT_PASSED = "not-passed"


def counts_text(results: list[CheckResult]) -> str:
    """How many checks ended in each status, in words ("12 passed, 1 failed")."""
    counts = Counter(r.status for r in results)
    forms = {
        Status.PASS: ngettext("{n} passed", "{n} passed", counts[Status.PASS]),
        Status.QUALITY_WARNING: ngettext(
            "{n} passed with a warning", "{n} passed with a warning", counts[Status.QUALITY_WARNING]
        ),
        Status.FAIL: ngettext("{n} failed", "{n} failed", counts[Status.FAIL]),
        Status.ERROR: ngettext("{n} error", "{n} errors", counts[Status.ERROR]),
        Status.NOT_SUPPORTED: ngettext(
            "{n} not supported", "{n} not supported", counts[Status.NOT_SUPPORTED]
        ),
    }
    return format_list(
        [text.format(n=format_number(counts[s])) for s, text in forms.items() if counts[s]]
    )


def verdict_text(outcome: RunOutcome) -> str:
    """Whether the run passes certification, and why not."""
    if outcome.exit_code == 0:
        return _("Passed: every required check passed and nothing failed.")
    return _("Not passed: a check failed or erred, or a required check did not pass.")


class ResultsStep(QWidget):
    """A run's results; Enter or a double-click on a check opens its measurements."""

    sig_open = Signal(object)
    """Show one check's detail: its CheckResult."""

    def __init__(self) -> None:
        super().__init__()
        self.outcome: RunOutcome | None = None
        self.verdict = QLabel()
        self.verdict.setObjectName("verdict")
        self.verdict.setWordWrap(True)
        font = self.verdict.font()
        font.setBold(True)
        self.verdict.setFont(font)
        self.summary = QLabel()
        self.summary.setObjectName("resultCounts")
        self.summary.setWordWrap(True)
        self.status = QComboBox()
        self.status.setObjectName("statusFilter")
        self.status.addItem(_("All results"), None)
        self.status.addItem(_("Not passed"), NOT_PASSED)
        for status in Status:
            self.status.addItem(check_status(status), status.value)
        self.status.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.search = QLineEdit()
        self.search.setObjectName("searchChecks")
        self.search.setPlaceholderText(_("Search checks and messages"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self.apply_filters())
        self.required = QCheckBox(_("&Required only"))
        self.required.setObjectName("requiredOnly")
        self.required.toggled.connect(lambda _on: self.apply_filters())
        self.table = RecordTable(
            [
                _("Check"),
                _("Result"),
                _("Required"),
                _("Error / limit"),
                _("Duration"),
                _("Message"),
            ]
        )
        self.table.setObjectName("results")
        self.table.activated.connect(self._activated)
        self.nothing = QLabel(_("No check matches these filters."))
        self.nothing.setObjectName("noMatch")
        self.nothing.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.shown = QLabel()
        self.shown.setObjectName("shownCount")
        hint = QLabel(
            _("Double-click a check, or press Enter, to see what it measured and how to rerun it.")
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        filters = QHBoxLayout()
        show_label = QLabel(_("&Show"))
        show_label.setBuddy(self.status)
        filters.addWidget(show_label)
        filters.addWidget(self.status)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.required)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.verdict)
        layout.addWidget(self.summary)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.nothing, 1)
        layout.addWidget(self.shown)
        layout.addWidget(hint)
        self.nothing.hide()

    def show_outcome(self, outcome: RunOutcome) -> None:
        """Fill the table with a finished run's results; the filters stay as they were."""
        self.outcome = outcome
        results = outcome.results
        self.verdict.setText(verdict_text(outcome))
        self.summary.setText(
            _("{profile} on {backend}: {counts}.").format(
                profile=outcome.profile, backend=outcome.backend, counts=counts_text(results)
            )
        )
        if not self.table.horizontalHeader().isSortIndicatorShown():  # the profile's order
            self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.set_rows(
            [
                [
                    (r.check, i),
                    (check_status(r.status), list(Status).index(r.status)),
                    _("Yes") if r.required else _("No"),
                    (ratio_text(r), _sortable(r.measured.get("ratio"))),
                    (duration_text(r.duration_s), r.duration_s),
                    r.message,
                ]
                for i, r in enumerate(results)
            ],
            keys=list(range(len(results))),
        )
        for row in range(self.table.rowCount()):
            result = results[self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)]
            self.table.item(row, 1).setIcon(status_icon(self, result.status))
            self.table.item(row, 5).setToolTip(result.message)
        self.apply_filters()

    def apply_filters(self) -> None:
        """Hide the rows the status, search and required filters leave out."""
        if self.outcome is None:
            return
        wanted = self.status.currentData()
        needle = self.search.text().strip().casefold()
        shown = 0
        for row in range(self.table.rowCount()):
            result = self.outcome.results[self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)]
            keep = (
                (wanted is None)
                or (wanted == NOT_PASSED and not passed(result.status))
                or result.status.value == wanted
            )
            keep = keep and (not needle or needle in f"{result.check}\n{result.message}".casefold())
            keep = keep and (result.required or not self.required.isChecked())
            self.table.setRowHidden(row, not keep)
            shown += keep
        total = self.table.rowCount()
        self.table.setVisible(shown > 0)
        self.nothing.setVisible(shown == 0)
        self.shown.setText(
            ngettext(
                "Showing {n} of {total} check.", "Showing {n} of {total} checks.", total
            ).format(n=format_number(shown), total=format_number(total))
        )

    def visible_checks(self) -> list[str]:
        """The check ids the filters leave shown, top to bottom."""
        return [
            self.table.item(row, 0).text()
            for row in range(self.table.rowCount())
            if not self.table.isRowHidden(row)
        ]

    def _activated(self, index: QModelIndex) -> None:
        if self.outcome is not None:
            key = self.table.item(index.row(), 0).data(Qt.ItemDataRole.UserRole)
            self.sig_open.emit(self.outcome.results[key])


def _sortable(ratio: object) -> float:
    """Sort key for an error ratio: missing ones first, NaN last."""
    if not isinstance(ratio, int | float):
        return -1.0
    return float("inf") if ratio != ratio else float(ratio)
