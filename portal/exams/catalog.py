"""Listing the exam packages and certificates kept on this computer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.db.models import Certificate, Exam
from portal.db.store import Store


@dataclass(frozen=True)
class ExamSummary:
    """An exam package as the Exams page lists it."""

    id: int
    title: str
    version: str
    practice: bool
    duration_s: int
    pass_mark: float
    languages: list[str]


@dataclass(frozen=True)
class CertificateSummary:
    """A certificate as the Exams page lists it."""

    certificate_id: str
    exam_title: str
    holder_name: str
    score: float
    passed: bool
    issued_at: datetime


def list_exams(store: Store) -> list[ExamSummary]:
    """Every exam package, by title then version."""
    with store.session() as session:
        return [
            ExamSummary(
                e.id, e.title, e.version, e.practice, e.duration_s, e.pass_mark, e.languages
            )
            for e in session.scalars(select(Exam).order_by(Exam.title, Exam.version))
        ]


def list_certificates(store: Store) -> list[CertificateSummary]:
    """Every certificate, newest first."""
    with store.session() as session:
        return [
            CertificateSummary(
                c.certificate_id, c.exam_title, c.holder_name, c.score, c.passed, c.issued_at
            )
            for c in session.scalars(select(Certificate).order_by(Certificate.issued_at.desc()))
        ]
