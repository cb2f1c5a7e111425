"""Exam packages on this computer and the certificates earned with them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QVBoxLayout, QWidget

from portal.i18n import (
    _,
    format_datetime,
    format_duration,
    format_list,
    format_percent,
    language_name,
)
from ui.pages.base import Page
from ui.state import AppState
from ui.widgets import EmptyState, RecordTable, heading

if TYPE_CHECKING:
    from portal.db.store import Store
    from portal.exams.catalog import CertificateSummary, ExamSummary


class ExamsPage(Page):
    """Lists exam packages and certificates."""

    def __init__(self, state: AppState) -> None:
        super().__init__(state, _("Exams"))
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        self.exams = RecordTable(
            [_("Exam"), _("Version"), _("Kind"), _("Duration"), _("Pass mark"), _("Languages")]
        )
        self.certificates_heading = heading(_("Certificates"), level=2)
        self.certificates = RecordTable(
            [_("Exam"), _("Holder"), _("Score"), _("Result"), _("Issued")]
        )
        for widget in (self.exams, self.certificates_heading, self.certificates):
            layout.addWidget(widget)
        self.install(
            empty=EmptyState(
                _("No exams on this computer"),
                _(
                    "Certification and practice exams can be taken here without a network. Exam "
                    "packages you download from the marketplace or receive from a proctor are "
                    "listed here, with the certificates you earn."
                ),
            ),
            content=content,
            load=_load,
            show=self._show,
        )

    def _show(self, records: tuple[list[ExamSummary], list[CertificateSummary]]) -> bool:
        exams, certificates = records
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
        self.certificates_heading.setVisible(bool(certificates))
        self.certificates.setVisible(bool(certificates))
        return bool(exams or certificates)


def _load(store: Store) -> tuple[list[ExamSummary], list[CertificateSummary]]:
    from portal.exams.catalog import list_certificates, list_exams

    return list_exams(store), list_certificates(store)
