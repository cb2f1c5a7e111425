"""What a partner does with a certificate: print it as a PDF, hand out its signed credential, and
check a certificate file someone else sent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QMessageBox, QPushButton, QWidget

from portal.i18n import _, format_date, format_percent
from ui.operations import CoreOp, OpContext
from ui.state import AppState

if TYPE_CHECKING:
    from portal.exams.credentials import CredentialCheck
    from ui.widgets import RecordTable


class CertificateActions(QWidget):
    """Buttons under the certificates table, acting on the selected certificate."""

    def __init__(self, state: AppState, table: RecordTable) -> None:
        super().__init__()
        self.state = state
        self.table = table
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.pdf_button = QPushButton(_("Save as &PDF…"))
        self.pdf_button.setObjectName("certificatePdf")
        self.pdf_button.setAccessibleName(_("Save the selected certificate as a PDF"))
        self.pdf_button.clicked.connect(self.choose_pdf)
        self.credential_button = QPushButton(_("Save &credential…"))
        self.credential_button.setObjectName("certificateCredential")
        self.credential_button.setAccessibleName(
            _("Save the selected certificate's signed credential")
        )
        self.credential_button.clicked.connect(self.choose_credential)
        for button in (self.pdf_button, self.credential_button):
            button.setEnabled(False)
            layout.addWidget(button)
        layout.addStretch(1)
        table.currentCellChanged.connect(lambda row, *_cells: self._enable(row >= 0))

    def _enable(self, on: bool) -> None:
        self.pdf_button.setEnabled(on)
        self.credential_button.setEnabled(on)

    def selected(self) -> str | None:
        """The id of the certificate on the keyboard's row."""
        key = self.table.selected_key()
        return key if isinstance(key, str) else None

    def choose_pdf(self) -> None:
        """Ask where to save, then draw the certificate there (on a worker)."""
        certificate_id = self.selected()
        if certificate_id is None:
            return
        path, _filter = QFileDialog.getSaveFileName(
            self, _("Save certificate as PDF"), f"certificate-{certificate_id}.pdf", "PDF (*.pdf)"
        )
        if path:
            self.save_pdf(certificate_id, Path(path))

    def save_pdf(self, certificate_id: str, path: Path) -> None:
        """Verify the kept credential, then render it to `path`; say where it went."""
        store = self.state.store
        if store is None:
            return

        def work(_ctx: OpContext) -> Path:
            from portal.errors import InputError
            from portal.exams.catalog import certificate_document
            from portal.exams.credentials import verify_credential
            from portal.exams.library import trusted_keys
            from ui.certificate_pdf import render_certificate_pdf

            check = verify_credential(
                certificate_document(store, certificate_id),
                trusted_keys=trusted_keys(store.data_dir),
            )
            if not check.genuine:
                raise InputError(
                    _("This certificate cannot be printed: {problem}").format(problem=check.problem)
                )
            return render_certificate_pdf(check, path)

        CoreOp(self, work, name="certificate pdf").success(self._saved).run_in_background()

    def choose_credential(self) -> None:
        """Ask where to save the signed credential (JSON), then write it."""
        certificate_id = self.selected()
        store = self.state.store
        if certificate_id is None or store is None:
            return
        path, _filter = QFileDialog.getSaveFileName(
            self,
            _("Save signed credential"),
            f"certificate-{certificate_id}.json",
            _("Credentials (*.json)"),
        )
        if not path:
            return

        def work(_ctx: OpContext) -> Path:
            from portal.atomic import write_atomically
            from portal.exams.catalog import certificate_document

            document = certificate_document(store, certificate_id)
            write_atomically(
                Path(path), json.dumps(document, indent=2, ensure_ascii=False).encode()
            )
            return Path(path)

        CoreOp(self, work, name="save credential").success(self._saved).run_in_background()

    def _saved(self, path: Path) -> None:
        status = getattr(self.window(), "statusBar", None)
        if status is not None:
            status().showMessage(_("Saved {file}.").format(file=path.name), 5000)


def verify_certificate_file(state: AppState, parent: QWidget, path: Path) -> None:
    """Check a certificate file offline and show who, what, until when, and whether it holds."""
    data_dir = state.data_dir

    def work(_ctx: OpContext) -> CredentialCheck:
        from portal.exams.credentials import read_credential, verify_credential
        from portal.exams.library import trusted_keys

        return verify_credential(read_credential(path), trusted_keys=trusted_keys(data_dir))

    def show(check: CredentialCheck) -> None:
        facts = "\n".join(
            [
                _("Holder: {name}").format(name=check.holder_name),
                _("Certificate: {exam}").format(exam=check.exam_title),
                _("Score: {score}").format(score=format_percent(Decimal(check.score))),
                _("Issued on {date}").format(date=format_date(check.issued_at, length="long")),
                _("Valid until {date}").format(date=format_date(check.valid_until, length="long")),
                _("Issued by {issuer}").format(issuer=check.issuer),
            ]
        )
        box = QMessageBox(parent)
        box.setWindowTitle(_("Certificate check"))
        if not check.genuine:
            box.setIcon(QMessageBox.Icon.Critical)
            box.setText(
                _("This certificate is not genuine: {problem}").format(problem=check.problem)
            )
        elif check.expired():
            box.setIcon(QMessageBox.Icon.Warning)
            box.setText(_("This certificate is genuine, but it has expired."))
        else:
            box.setIcon(QMessageBox.Icon.Information)
            box.setText(_("This certificate is genuine and current."))
        box.setInformativeText(facts)
        box.open()

    CoreOp(parent, work, name="verify certificate").success(show).run_in_background()
