"""Conformance runs against hardware backends, newest first, and the wizard that makes a new one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QStackedWidget, QToolButton, QVBoxLayout, QWidget

from portal.db.enums import Certification
from portal.i18n import _, format_datetime, format_number
from ui.labels import certification, run_status
from ui.pages.base import Page
from ui.state import AppState
from ui.widgets import EmptyState, RecordTable

if TYPE_CHECKING:
    from portal.conformance.runs import RunSummary
    from portal.db.store import Store
    from ui.pages.conformance_submit import Reopened
    from ui.pages.conformance_wizard import RunWizard


class ConformancePage(Page):
    """Lists the runs kept on this computer; New run (Ctrl+N) opens the wizard in their place."""

    def __init__(self, state: AppState) -> None:
        super().__init__(state, _("Conformance"))
        self.new_action = QAction(_("New run…"), self)
        self.new_action.setShortcut(QKeySequence(QKeySequence.StandardKey.New))
        self.new_action.triggered.connect(self.new_run)
        self.addAction(self.new_action)
        self.new_button = QToolButton()
        self.new_button.setObjectName("newRun")
        self.new_button.setDefaultAction(self.new_action)
        self.new_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.actions_bar.addWidget(self.new_button)
        self.table = RecordTable(
            [_("Backend"), _("Profile"), _("Result"), _("Checks"), _("Certification"), _("Started")]
        )
        self.table.setObjectName("runs")
        self.table.activated.connect(lambda _index: self.open_selected())
        self.list = QWidget()
        column = QVBoxLayout(self.list)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table, 1)
        hint = QLabel(
            _(
                "Double-click a run, or press Enter, to see its results and to sign and submit "
                "it. New run (Ctrl+N) checks a backend against a profile."
            )
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        column.addWidget(hint)
        self.views = QStackedWidget()
        self.views.addWidget(self.list)
        self.wizard: RunWizard | None = None
        self._has_runs = False
        self._runs: dict[int, RunSummary] = {}
        self.install(
            empty=EmptyState(
                _("No conformance runs yet"),
                _(
                    "A conformance run checks a tensor, quantum or neuromorphic backend against "
                    "the platform's profiles and tolerances. Runs made on this computer, and their "
                    "signed reports, are listed here."
                ),
                action=_("New run…"),
                on_action=self.new_run,
            ),
            content=self.views,
            load=_load,
            show=self._show,
        )

    def _show(self, runs: list[RunSummary]) -> bool:
        self._runs = {r.id: r for r in runs}
        self.table.set_rows(
            [
                [
                    r.backend,
                    r.profile,
                    run_status(r.status),
                    (format_number(r.checks), r.checks),
                    certification(r.certification),
                    (format_datetime(r.started_at), r.started_at),
                ]
                for r in runs
            ],
            keys=[r.id for r in runs],
        )
        details = {r.id: r.certification_detail for r in runs}
        for row in range(self.table.rowCount()):
            detail = details.get(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole))
            self.table.item(row, 4).setToolTip(detail or "")
        self._has_runs = bool(runs)
        return bool(runs) or self.showing_wizard()

    def showing_wizard(self) -> bool:
        """Whether the wizard is shown, rather than the list of runs."""
        return self.wizard is not None and self.views.currentWidget() is self.wizard

    def new_run(self) -> None:
        """Open the wizard at its first step (or where it is, while a run is under way)."""
        wizard = self._wizard()
        if not wizard.running():
            wizard.start()
        self.views.setCurrentWidget(wizard)
        self.stack.setCurrentWidget(self.views)
        self.new_button.hide()

    def open_selected(self) -> None:
        """Show the selected run's results in the wizard, read back from its report."""
        key = self.table.selected_key()
        run = self._runs.get(key) if isinstance(key, int) else None
        if run is None or run.report_path is None or self._wizard().running():
            return
        from ui.operations import CoreOp
        from ui.pages.conformance_submit import reopen

        folder = run.report_path.parent
        submitted = run.certification is not None and run.certification != Certification.REFUSED

        def show(opened: Reopened) -> None:
            self._wizard().open_run(opened, submitted=submitted)
            self.views.setCurrentWidget(self._wizard())
            self.new_button.hide()

        CoreOp(self, lambda _ctx: reopen(folder), name="open run").success(show).run_in_background()

    def _wizard(self) -> RunWizard:
        """The wizard, built the first time it is asked for."""
        if self.wizard is None:
            from ui.pages.conformance_wizard import RunWizard

            self.wizard = RunWizard(self.state)
            self.wizard.sig_close.connect(self.show_list)
            self.views.addWidget(self.wizard)
        return self.wizard

    def show_list(self) -> None:
        """Back to the list of runs (or the empty state when there is none)."""
        self.views.setCurrentWidget(self.list)
        self.new_button.show()
        if self._has_runs or self.empty is None:
            self.stack.setCurrentWidget(self.views)
            self.table.setFocus()
        else:
            self.stack.setCurrentWidget(self.empty)
        self.reload()


def _load(store: Store) -> list[RunSummary]:
    from portal.conformance.runs import list_runs

    return list_runs(store)
