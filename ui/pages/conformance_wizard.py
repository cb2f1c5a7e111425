"""A new conformance run as a wizard: backend, profile, live run, results, sign and submit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from portal.i18n import _, format_number
from ui.operations import CoreOp
from ui.pages.conformance_check import CheckDetail
from ui.pages.conformance_choose import BackendStep, Catalogue, ProfileStep, read_catalogue
from ui.pages.conformance_results import ResultsStep
from ui.pages.conformance_run import RunRequest, RunStep
from ui.pages.conformance_submit import Reopened, SubmitStep, save_run
from ui.state import AppState

if TYPE_CHECKING:
    from pathlib import Path

    from portal.conformance.results import CheckResult
    from portal.conformance.runner import RunOutcome

BACKEND, PROFILE, RUN, RESULTS, SUBMIT = range(5)


class RunWizard(QWidget):
    """Five steps in a stack with Back and Next; the check detail opens over the results."""

    sig_close = Signal()
    """The user asked for the list of runs."""

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.setObjectName("runWizard")
        self.state = state
        self.catalogue: Catalogue | None = None
        self.outcome: RunOutcome | None = None
        self.reopened = False
        self.step = BACKEND
        self.backends = BackendStep()
        self.profiles = ProfileStep()
        self.run = RunStep()
        self.results = ResultsStep()
        self.check = CheckDetail()
        self.submit = SubmitStep(state)
        self.stack = QStackedWidget()
        for widget in (self.backends, self.profiles, self.run, self.results, self.submit):
            self.stack.addWidget(widget)
        self.stack.addWidget(self.check)
        names = [_("Backend"), _("Profile"), _("Run"), _("Results"), _("Sign and submit")]
        self.markers: list[QLabel] = []
        steps = QHBoxLayout()
        for number, name in enumerate(names, start=1):
            marker = QLabel(_("{n}. {step}").format(n=format_number(number), step=name))
            marker.setObjectName("stepMarker")
            self.markers.append(marker)
            steps.addWidget(marker)
        steps.addStretch(1)
        self.close_button = QPushButton(_("All runs"))
        self.close_button.setObjectName("allRuns")
        self.close_button.clicked.connect(self.sig_close)
        self.back_button = QPushButton(_("&Back"))
        self.back_button.setObjectName("wizardBack")
        self.back_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_ArrowBack))
        self.back_button.clicked.connect(self.back)
        self.next_button = QPushButton()
        self.next_button.setObjectName("wizardNext")
        self.next_button.clicked.connect(self.next)
        self.next_button.setDefault(True)
        back = QAction(self)  # Alt+Left, as in the plugin detail; Alt+B is the button's mnemonic
        back.setShortcut(QKeySequence(QKeySequence.StandardKey.Back))
        back.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        back.triggered.connect(self.back)
        self.addAction(back)
        go = QAction(self)  # Ctrl+Enter goes on from any field, as in dialogs
        go.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        go.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        go.triggered.connect(self.next)
        self.addAction(go)
        nav = QHBoxLayout()
        nav.addWidget(self.close_button)
        nav.addStretch(1)
        nav.addWidget(self.back_button)
        nav.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(steps)
        layout.addWidget(self.stack, 1)
        layout.addLayout(nav)

        self.backends.sig_changed.connect(self._update)
        self.backends.sig_chosen.connect(self.next)
        self.profiles.sig_changed.connect(self._update)
        self.profiles.sig_chosen.connect(self.next)
        self.run.sig_finished.connect(self._finished)
        self.run.sig_stopped.connect(self._update)
        self.results.sig_open.connect(self.open_check)
        self.check.sig_back.connect(self.close_check)
        self.submit.sig_submitted.connect(self._update)
        self._go(BACKEND)

    def start(self) -> None:
        """Begin a new run at step 1; the backends are (re)loaded on a worker."""
        if self.run.running is not None:
            return
        self.outcome, self.reopened = None, False
        self._go(BACKEND)
        self.backends.waiting.show()
        self.backends.list.clear()
        CoreOp(self, lambda _ctx: read_catalogue(), name="conformance catalogue").success(
            self._catalogue
        ).run_in_background()

    def _catalogue(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.backends.show_backends(catalogue.backends)
        self.backends.list.setFocus()
        self._update()

    def running(self) -> bool:
        """Whether a run is under way."""
        return self.run.running is not None

    def _go(self, step: int) -> None:
        self.step = step
        self.stack.setCurrentIndex(step)
        for index, marker in enumerate(self.markers):
            font = marker.font()
            font.setBold(index == step)
            marker.setFont(font)
            marker.setEnabled(index <= step)
        self._update()

    def _update(self) -> None:
        running = self.running()
        labels = {
            BACKEND: _("&Next"),
            PROFILE: _("&Run checks"),
            RUN: _("&Next"),
            RESULTS: _("&Next"),
            SUBMIT: _("&Done"),
        }
        self.next_button.setText(labels[self.step])
        ready = {
            BACKEND: self.backends.chosen() is not None and self.catalogue is not None,
            PROFILE: self.profiles.ready(),
            RUN: self.outcome is not None and not running,
            RESULTS: True,
            SUBMIT: True,
        }[self.step]
        self.next_button.setEnabled(ready and self.stack.currentWidget() is not self.check)
        first = RESULTS if self.reopened else BACKEND  # a run opened from the list starts there
        self.back_button.setEnabled(
            (self.step > first or self.stack.currentWidget() is self.check) and not running
        )
        self.close_button.setEnabled(not running)

    def next(self) -> None:
        """Go on to the next step (step 2's Next starts the run)."""
        if not self.next_button.isEnabled():
            return
        if self.step == BACKEND:
            backend = self.backends.chosen()
            if backend is None or self.catalogue is None:
                return
            self.profiles.set_backend(backend, self.catalogue.profiles)
            market = self.state.marketplace()
            self.profiles.set_marketplace(None if market is None else market.url)
            self._go(PROFILE)
            self.profiles.list.setFocus()
        elif self.step == PROFILE:
            self._start_run()
        elif self.step == RUN:
            self._go(RESULTS)
            self.results.table.setFocus()
        elif self.step == RESULTS:
            self._go(SUBMIT)
            self.submit.sign_button.setFocus()
        else:
            self.sig_close.emit()

    def back(self) -> None:
        """Go back a step; from the run, back to the profile to change it and run again."""
        if self.stack.currentWidget() is self.check:
            self.close_check()
        elif self.back_button.isEnabled():
            self._go(self.step - 1)

    def _start_run(self) -> None:
        backend, profile = self.backends.chosen(), self.profiles.chosen()
        if backend is None or profile is None:
            return
        self.outcome = None
        challenge_from = None
        market = self.state.marketplace()
        if self.profiles.challenge.isChecked() and market is not None:
            from portal.auth.tokens import TokenStore

            tokens = TokenStore(self.state.data_dir.keyring_service, market.account)
            challenge_from = (market, tokens)
        self._go(RUN)
        self.run.start(
            RunRequest(
                backend.name,
                profile.name,
                self.profiles.seed.value(),
                self.profiles.pattern(),
                self.profiles.timeout.value(),
                self.profiles.selected_checks(),
                challenge_from,
            )
        )
        self._update()

    def _finished(self, outcome: RunOutcome) -> None:
        self.outcome = outcome
        self.results.show_outcome(outcome)
        self.submit.set_outcome(outcome)
        self._update()
        self.next_button.setFocus()
        store, data_dir = self.state.store, self.state.data_dir
        if store is None:
            return

        def saved(done: tuple[Path, int]) -> None:
            if self.outcome is outcome:
                self.submit.set_saved(done[0])
            self.state.sig_changed.emit()

        CoreOp(
            self, lambda _ctx: save_run(data_dir, store, outcome), writes=True, name="save run"
        ).success(saved).failure(self._save_failed).run_in_background()

    def _save_failed(self, error: BaseException) -> None:
        self.submit.save_failed(error)  # CoreOp logged an unexpected one with its traceback

    def open_run(self, opened: Reopened, *, submitted: bool) -> None:
        """Show a run kept before at its results, ready to be signed and submitted."""
        if self.running():
            return
        self.outcome, self.reopened = opened.outcome, True
        self.results.show_outcome(opened.outcome)
        self.submit.set_reopened(opened, submitted=submitted)
        self._go(RESULTS)
        self.results.table.setFocus()

    def open_check(self, result: CheckResult) -> None:
        """Show one check's detail in place of the results table."""
        if self.outcome is None:
            return
        self.check.show_check(self.outcome, result)
        self.stack.setCurrentWidget(self.check)
        self._update()

    def close_check(self) -> None:
        """Back to the results table, on the row that was open."""
        self.stack.setCurrentWidget(self.results)
        self._update()
        self.results.table.setFocus()
