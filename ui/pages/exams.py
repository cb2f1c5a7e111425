"""Exam packages on this computer and the certificates earned with them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QPushButton, QVBoxLayout, QWidget

from portal.i18n import (
    _,
    format_datetime,
    format_duration,
    format_list,
    format_percent,
    language_name,
    ngettext,
)
from ui.operations import CoreOp, OpContext
from ui.pages.base import Page
from ui.pages.exam_certificates import CertificateActions, verify_certificate_file
from ui.state import AppState
from ui.widgets import EmptyState, RecordTable, heading

if TYPE_CHECKING:
    from portal.db.store import Store
    from portal.exams.catalog import CertificateSummary, ExamSummary
    from portal.exams.submissions import ResultSummary


class ExamsPage(Page):
    """Lists exam packages and certificates."""

    def __init__(self, state: AppState) -> None:
        super().__init__(state, _("Exams"))
        self.import_button = QPushButton(_("&Import exam package…"))
        self.import_button.setObjectName("importExam")
        self.import_button.clicked.connect(self.choose_package)
        self.start_button = QPushButton(_("&Start…"))
        self.start_button.setObjectName("startExam")
        self.start_button.setAccessibleName(_("Start the selected exam"))
        self.start_button.setEnabled(False)
        self.start_button.clicked.connect(self.start_selected)
        self.verify_button = QPushButton(_("&Verify a certificate…"))
        self.verify_button.setObjectName("verifyCertificate")
        self.verify_button.setAccessibleName(_("Check a certificate file someone sent you"))
        self.verify_button.clicked.connect(self.choose_certificate_file)
        self.actions_bar.addWidget(self.import_button)
        self.actions_bar.addWidget(self.start_button)
        self.actions_bar.addWidget(self.verify_button)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        self.exams = RecordTable(
            [_("Exam"), _("Version"), _("Kind"), _("Duration"), _("Pass mark"), _("Languages")]
        )
        self.results_heading = heading(_("Results from the marketplace"), level=2)
        self.results = RecordTable(
            [_("Exam"), _("Candidate"), _("Score"), _("Result"), _("Scored")]
        )
        self.results.setAccessibleName(_("Results from the marketplace"))
        self.certificates_heading = heading(_("Certificates"), level=2)
        self.certificates = RecordTable(
            [_("Exam"), _("Holder"), _("Score"), _("Result"), _("Issued")]
        )
        self.exams.setAccessibleName(_("Exam packages"))
        self.exams.currentCellChanged.connect(
            lambda row, *_cells: self.start_button.setEnabled(row >= 0)
        )
        self.exams.activated.connect(lambda _index: self.start_selected())
        self.certificates.setAccessibleName(_("Certificates"))
        self.certificate_actions = CertificateActions(state, self.certificates)
        for widget in (
            self.exams,
            self.results_heading,
            self.results,
            self.certificates_heading,
            self.certificates,
            self.certificate_actions,
        ):
            layout.addWidget(widget)
        empty = EmptyState(
            _("No exams on this computer"),
            _(
                "Certification and practice exams can be taken here without a network. Exam "
                "packages you download from the marketplace or receive from a proctor are "
                "listed here, with the certificates you earn."
            ),
        )
        empty.add_button(_("Import exam package…"), self.choose_package)
        self.install(empty=empty, content=content, load=_load, show=self._show)

    def choose_package(self) -> None:
        """Ask for a package file a proctor handed out, then import it."""
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Import exam package"), "", _("Exam packages (*.aicexam)")
        )
        if path:
            self.import_package(Path(path))

    def import_package(self, path: Path) -> None:
        """Check the package's signature and keep a copy (on a worker); list it when done."""
        store = self.state.store
        if store is None:
            return

        def work(_ctx: OpContext) -> int:
            from portal.exams.library import import_package

            return import_package(store, path)

        def imported(_exam_pk: int) -> None:
            self.state.sig_changed.emit()
            status = getattr(self.window(), "statusBar", None)
            if status is not None:
                status().showMessage(_("Imported {file}.").format(file=path.name), 5000)

        CoreOp(self, work, writes=True, name="import exam").success(imported).run_in_background()

    def choose_certificate_file(self) -> None:
        """Ask for a certificate file (a signed credential), then check it offline."""
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Verify a certificate"), "", _("Credentials (*.json)")
        )
        if path:
            verify_certificate_file(self.state, self, Path(path))

    def start_selected(self) -> None:
        """Open the start screen for the exam chosen in the list."""
        from ui.exam.opening import open_exam_window

        first = self.exams.item(self.exams.currentRow(), 0)  # the keyboard's row, selected or not
        exam_pk = None if first is None else first.data(Qt.ItemDataRole.UserRole)
        if isinstance(exam_pk, int):
            open_exam_window(self.state, self, exam_pk=exam_pk)

    def _show(self, records: _Records) -> bool:
        exams, results, certificates = records
        self.exams.set_rows(
            [
                [
                    e.title,
                    e.version,
                    _("Practice") if e.practice else _("Certification"),
                    (format_duration(e.duration_s, granularity="minute"), e.duration_s),
                    (format_percent(e.pass_mark), e.pass_mark),
                    format_list([language_name(code) for code in e.languages]),
                ]
                for e in exams
            ],
            keys=[e.id for e in exams],
        )
        self.certificates.set_rows(
            [
                [
                    c.exam_title,
                    c.holder_name,
                    (format_percent(c.score), c.score),
                    _("Passed") if c.passed else _("Not passed"),
                    (format_datetime(c.issued_at), c.issued_at),
                ]
                for c in certificates
            ],
            keys=[c.certificate_id for c in certificates],
        )
        self.results.set_rows(
            [
                [
                    r.exam_title,
                    r.candidate_name,
                    (format_percent(r.score / r.max_score if r.max_score else 0.0), r.score),
                    _verdict(r),
                    (format_datetime(r.scored_at), r.scored_at),
                ]
                for r in results
            ],
            keys=[r.submission_id for r in results],
        )
        self.results_heading.setVisible(bool(results))
        self.results.setVisible(bool(results))
        self.certificates_heading.setVisible(bool(certificates))
        self.certificates.setVisible(bool(certificates))
        self.certificate_actions.setVisible(bool(certificates))
        return bool(exams or results or certificates)


_Records = tuple["list[ExamSummary]", "list[ResultSummary]", "list[CertificateSummary]"]


def _verdict(result: ResultSummary) -> str:
    """Passed or not, and whether a person still has answers to score."""
    if not result.final:
        verdict = _("Not decided yet")
    else:
        verdict = _("Passed") if result.passed else _("Not passed")
    if result.pending_manual:
        verdict += " · " + ngettext(
            "{count} answer awaits manual scoring",
            "{count} answers await manual scoring",
            result.pending_manual,
        ).format(count=result.pending_manual)
    return verdict


def _load(store: Store) -> _Records:
    from portal.exams.catalog import list_certificates, list_exams
    from portal.exams.submissions import list_results

    return list_exams(store), list_results(store), list_certificates(store)
