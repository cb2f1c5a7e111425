"""Certificates: issued once per passed submission, listed to their partner, checkable by anyone."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import JSON, Boolean, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db.types import UTCDateTime
from portal.exams.credentials import Award, build_credential, digest, sign_credential
from portal.sandbox.oauth import Db, bearer_user
from portal.sandbox.problems import ProblemError
from portal.sandbox.store import SandboxBase, User, new_id, now

router = APIRouter(tags=["certificates"])
Caller = Annotated[User, Depends(bearer_user)]
VALIDITY = timedelta(days=730)
"""How long a certification lasts: two years, then the partner sits the current exam again."""
ISSUER_NAME = "AIC-Platform Marketplace"


class IssuedCertificate(SandboxBase):
    """A certificate, kept with the signed credential exactly as it was issued."""

    __tablename__ = "certificates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    exam_id: Mapped[str] = mapped_column(String(64))
    credential: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


def issue_certificate(
    db: Session,
    *,
    key: Ed25519PrivateKey,
    issuer_url: str,
    organisation_id: str,
    submission_id: str,
    holder_name: str,
    exam_id: str,
    exam_title: str,
    fraction: float,
) -> IssuedCertificate:
    """The certificate for a passed submission, made and signed the first time only."""
    existing = db.scalars(
        select(IssuedCertificate).where(IssuedCertificate.submission_id == submission_id)
    ).first()
    if existing is not None:
        return existing
    issued = now()
    row = IssuedCertificate(
        id=new_id(),
        submission_id=submission_id,
        organisation_id=organisation_id,
        exam_id=exam_id,
        issued_at=issued,
        valid_until=issued + VALIDITY,
    )
    award = Award(
        certificate_id=row.id,
        holder_name=holder_name,
        partner_id=organisation_id,
        exam_id=exam_id,
        exam_title=exam_title,
        score=str(Decimal(fraction).quantize(Decimal("0.0001"))),
        issued_at=issued,
        valid_until=row.valid_until,
    )
    unsigned = build_credential(award, issuer_url=issuer_url.rstrip("/"), issuer_name=ISSUER_NAME)
    row.credential = sign_credential(unsigned, key, created=issued)
    db.add(row)
    db.flush()
    return row


class HeldCertificate(BaseModel):
    """A certificate of the caller's organisation, with its signed credential."""

    certificate_id: str
    exam_id: str
    issued_at: datetime
    valid_until: datetime
    revoked: bool
    credential: dict[str, Any]


class CertificateStatus(BaseModel):
    """What anyone who scans a certificate's QR code learns about it."""

    certificate_id: str
    status: Literal["valid", "expired", "revoked"]
    sha256: str
    """Digest of the credential as issued; a printed copy whose digest differs was altered."""
    exam_id: str
    issued_at: datetime
    valid_until: datetime


@router.get("/v1/certificates")
def list_certificates(db: Db, user: Caller) -> list[HeldCertificate]:
    """The certificates the caller's organisation holds, newest first."""
    rows = db.scalars(
        select(IssuedCertificate)
        .where(IssuedCertificate.organisation_id == user.organisation_id)
        .order_by(IssuedCertificate.issued_at.desc())
    )
    return [
        HeldCertificate(
            certificate_id=r.id,
            exam_id=r.exam_id,
            issued_at=r.issued_at,
            valid_until=r.valid_until,
            revoked=r.revoked,
            credential=r.credential,
        )
        for r in rows
    ]


@router.get("/v1/certificates/{certificate_id}")
def get_credential(db: Db, certificate_id: str) -> dict[str, Any]:
    """The signed credential: the document its `id` names. Needs no token."""
    return _certificate(db, certificate_id).credential


@router.get("/v1/certificates/{certificate_id}/verify")
def verify_certificate(db: Db, certificate_id: str) -> CertificateStatus:
    """Whether a certificate is current, for the verification URL in its QR code."""
    row = _certificate(db, certificate_id)
    status: Literal["valid", "expired", "revoked"] = (
        "revoked" if row.revoked else "expired" if row.valid_until <= now() else "valid"
    )
    return CertificateStatus(
        certificate_id=row.id,
        status=status,
        sha256=digest(row.credential),
        exam_id=row.exam_id,
        issued_at=row.issued_at,
        valid_until=row.valid_until,
    )


def issuer_url(request: Request) -> str:
    """The marketplace's own address, as the credential's issuer and verification URLs use it."""
    return str(request.base_url).rstrip("/")


def _certificate(db: Session, certificate_id: str) -> IssuedCertificate:
    row = db.get(IssuedCertificate, certificate_id[:32])
    if row is None:
        raise ProblemError(404, "No certificate has that id.")
    return row
