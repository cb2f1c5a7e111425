"""The wizard's run step: the checks listed live as the isolated runner reports them, and Cancel."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from portal.i18n import _, format_number, format_significant, ngettext
from ui.labels import check_status
from ui.operations import CoreOp, OpContext, OpHandle
from ui.widgets import RecordTable

if TYPE_CHECKING:
    from portal.auth.oauth import Marketplace
    from portal.auth.tokens import TokenStore
    from portal.conformance.results import CheckResult, Status
    from portal.conformance.runner import RunOutcome


@dataclass(frozen=True)
class RunRequest:
    """What the first two steps chose."""

    backend: str
    profile: str
    seed: int
    only: str | None
    timeout_s: float
    checks: list[str]
    challenge_from: tuple[Marketplace, TokenStore] | None = None


def ratio_text(result: CheckResult) -> str:
    """The measured error as a fraction of the limit ("0.121"), or a dash when there is none."""
    ratio = result.measured.get("ratio")
    if not isinstance(ratio, int | float):
        return "—"
    if math.isnan(ratio):
        return _("not a number")
    if math.isinf(ratio):
        return "∞"
    return format_significant(float(ratio))


def duration_text(seconds: float) -> str:
    """A check's duration in milliseconds, the scale checks run at."""
    return _("{n} ms").format(n=format_number(round(seconds * 1000, 1)))


def status_icon(widget: QWidget, status: Status | None) -> QIcon:
    """A standard icon for a verdict (mirrored and themed by the style)."""
    pixmap = QStyle.StandardPixmap
    name = {
        "PASS": pixmap.SP_DialogApplyButton,
        "QUALITY_WARNING": pixmap.SP_MessageBoxWarning,
        "FAIL": pixmap.SP_MessageBoxCritical,
        "ERROR": pixmap.SP_MessageBoxCritical,
        "NOT_SUPPORTED": pixmap.SP_MessageBoxInformation,
    }.get(status.value if status is not None else "", pixmap.SP_BrowserReload)
    return widget.style().standardIcon(name)


class _ResultRelay(QObject):
    """Lives on the GUI thread; results emitted by the runner's worker thread arrive queued."""

    sig_result = Signal(int, object)
    """One check of run number N finished: N and its CheckResult."""


class RunStep(QWidget):
    """Runs one profile on a worker; each check's row fills in as its result comes back."""

    sig_finished = Signal(object)
    """The run ended with every check done: its RunOutcome."""
    sig_stopped = Signal()
    """The run was cancelled, or could not start (the message says which)."""

    def __init__(self) -> None:
        super().__init__()
        self.request: RunRequest | None = None
        self.running: OpHandle | None = None
        self.results: dict[str, CheckResult] = {}
        self._rows: dict[str, int] = {}
        self._runs = 0
        self._relay = _ResultRelay(self)
        self._relay.sig_result.connect(self._result)
        self.title = QLabel()
        self.title.setObjectName("runTitle")
        self.title.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("runProgress")
        self.current = QLabel()
        self.current.setObjectName("runCurrent")
        self.cancel_button = QPushButton(_("Cancel run"))
        self.cancel_button.setObjectName("cancelRun")
        self.cancel_button.clicked.connect(self.cancel)
        self.table = RecordTable([_("Check"), _("Result"), _("Error / limit"), _("Duration")])
        self.table.setObjectName("liveChecks")
        self.outcome_label = QLabel()
        self.outcome_label.setObjectName("runOutcome")
        self.outcome_label.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(bar)
        layout.addWidget(self.current)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.outcome_label)

    def start(self, request: RunRequest) -> None:
        """List the checks as waiting and run them in the isolated runner on a worker."""
        from portal.conformance.runner import run_profile

        self.request = request
        self.results = {}
        self._rows = {check: row for row, check in enumerate(request.checks)}
        self.title.setText(
            _("Checking {backend} against {profile} (seed {seed}).").format(
                backend=request.backend, profile=request.profile, seed=request.seed
            )
        )
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.set_rows([[(c, i), _("Waiting"), "", ""] for i, c in enumerate(request.checks)])
        self.table.setSortingEnabled(False)  # rows are found by position while results arrive
        self.progress.setRange(0, 0)
        self.current.setText(_("Starting the backend in its own process…"))
        self.outcome_label.clear()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self._runs += 1
        serial, relay = self._runs, self._relay

        def work(ctx: OpContext) -> RunOutcome:
            challenge = None
            if request.challenge_from is not None:
                from portal.conformance.submit import fetch_challenge

                market, tokens = request.challenge_from
                ctx.progress(0, None, _("Asking {url} for a challenge…").format(url=market.url))
                challenge = fetch_challenge(market, tokens, cancel=ctx.cancel)
            return run_profile(
                request.backend,
                request.profile,
                seed=request.seed,
                only=request.only,
                timeout_s=request.timeout_s,
                progress=ctx.progress,
                cancel=ctx.cancel,
                challenge=challenge,
                on_result=lambda result: relay.sig_result.emit(serial, result),
            )

        self.running = (
            CoreOp(self, work, name="conformance run")
            .progress(self._progress)
            .success(self._done)
            .failure(self._failed)
            .cancelled(self._cancelled)
            .run_in_background()
        )
        self.cancel_button.setFocus()

    def cancel(self) -> None:
        """Stop the run: the runner kills the backend's process at once."""
        if self.running is not None:
            self.running.cancel()
            self.cancel_button.setEnabled(False)
            self.current.setText(_("Stopping the backend…"))

    def _progress(self, done: int, total: int | None, message: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        if message in self._rows:
            row = self._rows[message]
            self.current.setText(_("Running {check}…").format(check=message))
            item = self.table.item(row, 1)
            item.setText(_("Running…"))
            item.setIcon(status_icon(self, None))
            self.table.scrollToItem(item)
        elif message and total is None:
            self.current.setText(message)

    def _result(self, serial: int, result: CheckResult) -> None:
        if serial == self._runs and self.running is not None:  # not from a run stopped before
            self._fill(result)

    def _fill(self, result: CheckResult) -> None:
        row = self._rows.get(result.check)
        if row is None:
            return
        self.results[result.check] = result
        cells = [check_status(result.status), ratio_text(result), duration_text(result.duration_s)]
        for column, text in enumerate(cells, start=1):
            self.table.item(row, column).setText(text)
        self.table.item(row, 1).setIcon(status_icon(self, result.status))
        self.table.item(row, 1).setToolTip(result.message)
        self.progress.setValue(len(self.results))

    def _done(self, outcome: RunOutcome) -> None:
        self.running = None
        self.cancel_button.hide()
        self.progress.setRange(0, max(1, len(outcome.results)))
        self.progress.setValue(len(outcome.results))
        self.current.setText(_("All checks have run."))
        for result in outcome.results:  # any result whose signal is still queued
            if result.check not in self.results:
                self._fill(result)
        self.sig_finished.emit(outcome)

    def _stopped(self, message: str) -> None:
        self.running = None
        self.cancel_button.hide()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.current.setText(message)
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 1)
            if self.table.item(row, 0).text() not in self.results:
                item.setText(_("Not run"))
                item.setIcon(QIcon())
        self.sig_stopped.emit()

    def _cancelled(self) -> None:
        done = len(self.results)
        self._stopped(
            ngettext(
                "Cancelled after {n} check; the backend process was stopped and nothing was "
                "recorded.",
                "Cancelled after {n} checks; the backend process was stopped and nothing was "
                "recorded.",
                done,
            ).format(n=format_number(done))
        )

    def _failed(self, error: BaseException) -> None:
        from portal.errors import PortalError
        from ui.dialogs import show_error

        if isinstance(error, PortalError):  # StartError and its kin: said here, in words
            self._stopped(error.message)
        else:
            self._stopped(_("The run stopped on an unexpected error; see the message."))
            show_error(self, error)
