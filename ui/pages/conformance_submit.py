"""The wizard's last step: the run's reports on disk, signed with the partner key, submitted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from portal.i18n import _
from ui.dialogs import ask
from ui.operations import CoreOp, OpContext
from ui.pages.conformance_choose import isolated
from ui.pages.conformance_results import verdict_text
from ui.state import AppState

if TYPE_CHECKING:
    from portal.conformance.runner import RunOutcome
    from portal.db.store import Store
    from portal.paths import DataDir
    from portal.plugins.keys import SigningKey


def report_folder(data_dir: DataDir, outcome: RunOutcome) -> Path:
    """Where a run's reports go: one folder per run under the data dir, named for what it holds."""
    name = f"{outcome.started_at:%Y%m%dT%H%M%SZ}-{outcome.backend}-{outcome.profile}"
    return data_dir.root / "conformance" / re.sub(r"[^A-Za-z0-9._-]+", "-", name)


@dataclass(frozen=True)
class Reopened:
    """A run kept on this computer, read back from its report folder."""

    outcome: RunOutcome
    folder: Path
    signed_by: str | None  # the key id of report.dsse.json, when there is one
    signable: bool  # writing the report again gives the same bytes


def reopen(folder: Path) -> Reopened:
    """Read a kept run back from `folder`, and who signed it, if anyone did."""
    from portal.conformance.reopen import read_outcome
    from portal.conformance.report import SIGNATURE_NAME
    from portal.plugins.dsse import SignatureError, parse_envelope

    read = read_outcome(folder)
    signature = folder / SIGNATURE_NAME
    try:
        signed_by = parse_envelope(signature.read_bytes(), str(signature)).signatures[0][0]
    except (OSError, SignatureError, IndexError):
        signed_by = None  # not signed (or not readably): Sign makes a new signature
    return Reopened(read.outcome, folder, signed_by, read.exact)


def save_run(data_dir: DataDir, store: Store, outcome: RunOutcome) -> tuple[Path, int]:
    """Write the unsigned reports and keep the run in the store, so it is listed at once."""
    from portal.conformance.report import write_reports
    from portal.conformance.runs import record_run

    folder = report_folder(data_dir, outcome)
    write_reports(outcome, folder, key=None)
    return folder, record_run(store, outcome, report_dir=folder)


class SubmitStep(QWidget):
    """Sign the report with the partner's key (made on request), then queue it for the market."""

    sig_submitted = Signal()
    """The signed report is in the outbox."""

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.state = state
        self.outcome: RunOutcome | None = None
        self.folder: Path | None = None
        self.signed_by: str | None = None
        self.submitted = False
        self.signable = True
        self.busy = False
        self.verdict = QLabel()
        self.verdict.setObjectName("submitVerdict")
        self.verdict.setWordWrap(True)
        self.where = QLabel()
        self.where.setObjectName("reportFolder")
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_button = QPushButton(_("Show &folder"))
        self.show_button.clicked.connect(self.show_folder)
        self.sign_button = QPushButton(_("&Sign report"))
        self.sign_button.setObjectName("signReport")
        self.sign_button.clicked.connect(self.sign)
        self.submit_button = QPushButton(_("S&ubmit for certification…"))
        self.submit_button.setObjectName("submitReport")
        self.submit_button.clicked.connect(self.submit)
        self.state_label = QLabel()
        self.state_label.setObjectName("submitState")
        self.state_label.setWordWrap(True)
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        explain = QLabel(
            _(
                "The report is signed with your partner key (the one that signs your plugins), so "
                "the marketplace can tell it comes from you and was not changed. Submitting puts "
                "it in the outbox; it is sent at the next sync, when the marketplace can be "
                "reached."
            )
        )
        explain.setWordWrap(True)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.where, 1)
        folder_row.addWidget(self.show_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.sign_button)
        buttons.addWidget(self.submit_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.verdict)
        layout.addLayout(folder_row)
        layout.addWidget(explain)
        layout.addLayout(buttons)
        layout.addWidget(self.state_label)
        layout.addStretch(1)

    def set_outcome(self, outcome: RunOutcome) -> None:
        """A new run: nothing saved, signed or submitted yet."""
        self.outcome, self.folder, self.signed_by, self.submitted = outcome, None, None, False
        self.signable = True
        verdict = verdict_text(outcome)
        if outcome.challenge is None:
            verdict += " " + _(
                "The run had no marketplace challenge: the marketplace keeps its report but "
                "cannot certify it."
            )
        self.verdict.setText(verdict)
        self.where.setText(_("Saving the reports…"))
        self.state_label.clear()
        self._update()

    def set_saved(self, folder: Path) -> None:
        """The unsigned reports are written to `folder` and the run is recorded."""
        self.folder = folder
        self.where.setText(
            _("Reports (report.json, report.junit.xml): {path}").format(path=isolated(str(folder)))
        )
        self.state_label.setText(_("Not signed yet."))
        self._update()

    def set_reopened(self, opened: Reopened, *, submitted: bool) -> None:
        """A run kept before: signed or not, submitted or not, as its folder and store say."""
        self.set_outcome(opened.outcome)
        self.set_saved(opened.folder)
        self.signed_by, self.submitted = opened.signed_by, submitted
        self.signable = opened.signable
        if submitted:
            self.state_label.setText(
                _("Submitted; the Conformance page shows the marketplace's verdict.")
            )
        elif opened.signed_by is not None:
            self.state_label.setText(
                _("Signed with key {key} (report.dsse.json). Ready to submit.").format(
                    key=opened.signed_by
                )
            )
        elif not opened.signable:
            self.state_label.setText(
                _(
                    "This report cannot be signed here: it was changed, or written by another "
                    "version of the app or its tolerance table. Run the profile again to sign a "
                    "new report."
                )
            )
        self._update()

    def save_failed(self, error: BaseException) -> None:
        """The reports could not be written or the run not recorded: say why, offer nothing."""
        from portal.errors import PortalError

        self.where.setText(
            _("The reports could not be saved: {problem}").format(
                problem=error.message
                if isinstance(error, PortalError)
                else _("an unexpected error; see the log file.")
            )
        )
        self._update()

    def _update(self) -> None:
        saved = self.folder is not None and not self.busy
        self.show_button.setEnabled(self.folder is not None)
        self.sign_button.setEnabled(saved and self.signed_by is None and self.signable)
        self.submit_button.setEnabled(saved and self.signed_by is not None and not self.submitted)
        if self.signed_by is None:
            self.submit_button.setToolTip(_("Sign the report before submitting it."))
        else:
            self.submit_button.setToolTip(_("Queue the signed report for the marketplace."))

    def _busy(self, busy: bool) -> None:
        self.busy = busy
        self._update()

    def show_folder(self) -> None:
        """Open the report folder in the file manager."""
        if self.folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder)))

    def sign(self) -> None:
        """Write report.dsse.json with the partner key; offer to make a key if there is none."""
        outcome, folder, data_dir = self.outcome, self.folder, self.state.data_dir
        if outcome is None or folder is None:
            return

        def work(_ctx: OpContext) -> str | None:
            from portal.conformance.report import write_reports
            from portal.plugins.dsse import key_id
            from portal.plugins.keys import has_signing_key, load_signing_key

            if not has_signing_key(data_dir):
                return None
            key = load_signing_key(data_dir)
            write_reports(outcome, folder, key=key)  # a reopened run: the same report bytes
            return key_id(key.public_key())

        def signed(key: str | None) -> None:
            self._busy(False)
            if key is None:
                self._offer_key()
                return
            self.signed_by = key
            self.state_label.setText(
                _("Signed with key {key} (report.dsse.json). Ready to submit.").format(key=key)
            )
            self._update()
            self.submit_button.setFocus()

        self._busy(True)
        self.state_label.setText(_("Signing…"))
        CoreOp(self, work, name="sign report").success(signed).failure(
            self._failed
        ).run_in_background()

    def _offer_key(self) -> None:
        data_dir = self.state.data_dir
        self.state_label.setText(_("Not signed: there is no signing key yet."))

        def made(key: SigningKey) -> None:
            self.state_label.setText(_("Made signing key {key}.").format(key=key.key_id))
            self.sign()

        def make() -> None:
            from portal.plugins.keys import generate_signing_key

            CoreOp(self, lambda _ctx: generate_signing_key(data_dir), name="make key").success(
                made
            ).failure(self._failed).run_in_background()

        ask(
            self,
            _("No signing key yet"),
            _(
                "Conformance reports are signed with your own key, so the marketplace can tell "
                "they come from you. Make a signing key now? Its passphrase is kept in the OS "
                "keyring."
            ),
            make,
            name="makeKeyQuestion",
        )

    def submit(self) -> None:
        """Verify the signed report and queue it in the outbox, after asking; then sync."""
        outcome, folder, store = self.outcome, self.folder, self.state.store
        if outcome is None or folder is None or store is None or self.signed_by is None:
            return

        def queue() -> None:
            from portal.conformance.submit import queue_submission

            self._busy(True)
            self.state_label.setText(_("Checking the signature and queuing the report…"))
            CoreOp(
                self, lambda _ctx: queue_submission(store, folder), writes=True, name="submit"
            ).success(queued).failure(self._failed).run_in_background()

        def queued(_item: int) -> None:
            self.submitted = True
            self._busy(False)
            self.state_label.setText(
                _(
                    "Queued for certification. It is sent at the next sync, when the marketplace "
                    "can be reached; the Sync page shows it until it is delivered."
                )
            )
            self.state.sig_changed.emit()
            self.state.sync_now(quiet=True)
            self.sig_submitted.emit()

        ask(
            self,
            _("Submit for certification"),
            _(
                "Send the signed report of {profile} on {backend} to the marketplace for "
                "certification? {verdict}"
            ).format(
                profile=outcome.profile, backend=outcome.backend, verdict=verdict_text(outcome)
            ),
            queue,
            name="submitQuestion",
        )

    def _failed(self, error: BaseException) -> None:
        from portal.errors import PortalError
        from ui.dialogs import show_error

        self._busy(False)
        if isinstance(error, PortalError):  # a missing key or keyring, a refused report
            self.state_label.setText(error.message)
        else:
            self.state_label.setText(_("That did not work; see the message."))
            show_error(self, error)
