"""Listing the exam packages and certificates kept on this computer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from portal.db.models import Certificate, Exam
from portal.db.store import Store
from portal.errors import InputError
from portal.i18n import _

EXPIRY_WARNING = timedelta(days=90)
"""How long before a certificate ends the dashboard starts warning, so there is time to re-sit."""


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


@dataclass(frozen=True)
class HeldCertificate:
    """A certificate the partner holds, as the dashboard lists it."""

    certificate_id: str
    exam_title: str
    holder_name: str
    valid_until: datetime | None
    expires_soon: bool
    expired: bool


def held_certificates(store: Store, *, now: datetime | None = None) -> list[HeldCertificate]:
    """Passed certificates, soonest to expire first, each marked when it ends within 90 days."""
    now = now or datetime.now(UTC)
    with store.session() as session:
        rows = session.scalars(select(Certificate).where(Certificate.passed.is_(True))).all()
        held = [
            _held(c.certificate_id, c.exam_title, c.holder_name, _valid_until(c.document), now)
            for c in rows
        ]
    return sorted(held, key=lambda c: (c.valid_until is None, c.valid_until or now))


def _held(
    certificate_id: str, title: str, holder: str, until: datetime | None, now: datetime
) -> HeldCertificate:
    expired = until is not None and until <= now
    soon = until is not None and not expired and until - now <= EXPIRY_WARNING
    return HeldCertificate(certificate_id, title, holder, until, soon, expired)


def _valid_until(document: dict[str, object]) -> datetime | None:
    """The credential's `validUntil`, or None for a document without a readable one."""
    value = document.get("validUntil")
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def certificate_document(store: Store, certificate_id: str) -> dict[str, Any]:
    """The signed credential of a certificate kept here, or an error that names the id."""
    with store.session() as session:
        row = session.scalars(
            select(Certificate).where(Certificate.certificate_id == certificate_id)
        ).first()
        if row is None:
            raise InputError(
                _("There is no certificate {id} on this computer.").format(id=certificate_id)
            )
        return dict(row.document)
