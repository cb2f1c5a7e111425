"""The Settings section for the organisation's client certificate (mTLS): show, import, remove."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from portal.auth.identity import CertificateInfo, client_identity, import_identity, remove_identity
from portal.errors import PortalError
from portal.i18n import _, format_datetime
from ui.operations import CoreOp, OpContext
from ui.state import AppState


class ClientCertificateBox(QGroupBox):
    """Files are read and written on workers; the passphrase goes straight to the keyring."""

    def __init__(self, state: AppState) -> None:
        super().__init__(_("Client certificate"))
        self.setObjectName("clientCertificate")
        self.state = state
        layout = QVBoxLayout(self)
        self.summary = QLabel(_("Loading…"))
        self.summary.setObjectName("certificateSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.problem = QLabel()
        self.problem.setObjectName("certificateProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.hide()
        layout.addWidget(self.problem)
        buttons = QHBoxLayout()
        self.import_button = QPushButton(_("Import…"))
        self.import_button.clicked.connect(self.choose_and_import)
        self.remove_button = QPushButton(_("Remove…"))
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.remove)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        identity = client_identity(state.data_dir)
        CoreOp(self, lambda _ctx: identity.info(), name="read client certificate").success(
            self._show
        ).run_in_background()

    def _show(self, info: CertificateInfo | None) -> None:
        self.remove_button.setEnabled(info is not None)
        if info is None:
            self.summary.setText(
                _(
                    "None. A marketplace that requires mTLS needs your organisation's "
                    "certificate: import the .p12 file it gave you."
                )
            )
            return
        until = format_datetime(info.not_after)
        lines = [
            _("Organisation: {name}").format(name=info.organisation or "—"),
            _("Subject: {subject}").format(subject=info.subject),
            _("Issuer: {issuer}").format(issuer=info.issuer),
            (
                _("Expired on {date}").format(date=until)
                if info.expired()
                else _("Valid until {date}").format(date=until)
            ),
        ]
        self.summary.setText("\n".join(lines))

    def choose_and_import(self) -> None:
        """Ask for the PKCS#12 file and its passphrase, then import it."""
        path, _filter = QFileDialog.getOpenFileName(
            self,
            _("Choose your organisation's client certificate"),
            "",
            _("PKCS#12 files (*.p12 *.pfx)"),
        )
        if not path:
            return
        passphrase, ok = QInputDialog.getText(
            self,
            _("Passphrase"),
            _("Passphrase of {file}:").format(file=Path(path).name),
            QLineEdit.EchoMode.Password,
        )
        if ok:
            self.import_file(Path(path), passphrase)

    def import_file(self, path: Path, passphrase: str) -> None:
        """Check and keep the certificate on a worker; say why not, or show it."""
        data_dir = self.state.data_dir

        def work(_ctx: OpContext) -> CertificateInfo:
            return import_identity(data_dir, path, passphrase)

        CoreOp(self, work, name="import client certificate").success(self._changed).failure(
            self._refuse
        ).run_in_background()

    def remove(self) -> None:
        """Delete the certificate, its key and its passphrase, after asking."""
        answer = QMessageBox.question(
            self,
            _("Remove the client certificate"),
            _(
                "Remove your organisation's client certificate from this computer? A marketplace "
                "that requires it will refuse the connection until you import it again."
            ),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        data_dir = self.state.data_dir
        CoreOp(
            self, lambda _ctx: remove_identity(data_dir), name="remove client certificate"
        ).success(lambda _removed: self._changed(None)).run_in_background()

    def _changed(self, info: CertificateInfo | None) -> None:
        self.problem.hide()
        self._show(info)
        self.state.check_reachability()  # connections now present another certificate, or none

    def _refuse(self, error: BaseException) -> None:
        if not isinstance(error, PortalError):
            from ui.dialogs import show_error

            show_error(self, error)
            return
        self.problem.setText(error.message)
        self.problem.show()
