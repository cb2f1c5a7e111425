"""`/v1/conformance`: challenges for runs, and signed reports verified as the app verifies them,
each recorded with the backend's certification state.

States: `certified` (challenged, every required check present and passed, nothing failed),
`failed` (authentic, but a required check is missing or did not pass, or a check failed or
erred), `unchallenged` (authentic and passed, but run without a challenge: not certifiable). A
report that is not authentic (unknown key, bad signature, changed bytes), judged by an unknown
tolerance table, or answering a challenge that is unknown, another organisation's, expired or
already used, is refused with a problem and recorded nowhere.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.conformance.verification import MAX_REPORT_BYTES, VerifiedReport, verify_signed_report
from portal.errors import InputError
from portal.plugins.dsse import MAX_ENVELOPE_BYTES, public_key_from_pem
from portal.sandbox.idempotency import Attempt, attempt, replay, respond
from portal.sandbox.oauth import Db, bearer_user
from portal.sandbox.problems import ProblemError
from portal.sandbox.store import (
    ConformanceChallenge,
    ConformanceSubmission,
    SigningKey,
    User,
    first_to_set,
    now,
)
from portal.sandbox.uploads import finished_upload

router = APIRouter(prefix="/v1/conformance", tags=["conformance"])
Caller = Annotated[User, Depends(bearer_user)]
Unsafe = Annotated[Attempt, Depends(attempt)]

CHALLENGE_LIFETIME = timedelta(days=7)  # a run may be submitted days later, after a sync
State = Literal["certified", "failed", "unchallenged"]


class ChallengeCreate(BaseModel):
    """Nothing to ask: a challenge is issued to the caller's organisation."""

    model_config = ConfigDict(strict=True, extra="forbid")


class ChallengeOut(BaseModel):
    """A nonce to mix into a run's seed; it answers one report, until it expires."""

    id: str
    nonce: str
    expires_at: datetime


class ReportCreate(BaseModel):
    """A report for certification: finished uploads of report.json and report.dsse.json."""

    model_config = ConfigDict(strict=True)

    report_upload: str = Field(min_length=1, max_length=32)
    signature_upload: str = Field(min_length=1, max_length=32)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    profile: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9.-]+$")


class ReportOut(BaseModel):
    """A submitted report and the certification it earned."""

    id: str
    sha256: str
    profile: str
    backend: str
    key_id: str
    challenge_id: str | None
    state: State
    detail: str | None
    created_at: datetime


class ReportList(BaseModel):
    """The organisation's submitted reports, newest first."""

    reports: list[ReportOut]


def _out(row: ConformanceSubmission) -> ReportOut:
    return ReportOut(
        id=row.id,
        sha256=row.sha256,
        profile=row.profile,
        backend=row.backend,
        key_id=row.key_id,
        challenge_id=row.challenge_id,
        state=row.state,  # type: ignore[arg-type]
        detail=row.detail,
        created_at=row.created_at,
    )


@router.post("/challenges", status_code=201, response_model=ChallengeOut)
def issue_challenge(db: Db, user: Caller, unsafe: Unsafe, body: ChallengeCreate) -> Response:
    """Issue a random nonce to the caller's organisation, valid for one report for 7 days."""
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    challenge = ConformanceChallenge(
        organisation_id=user.organisation_id,
        nonce=secrets.token_hex(32),
        expires_at=now() + CHALLENGE_LIFETIME,
    )
    db.add(challenge)
    db.flush()
    out = ChallengeOut(id=challenge.id, nonce=challenge.nonce, expires_at=challenge.expires_at)
    return respond(db, user.organisation_id, unsafe, out, status=201)


@router.get("/reports")
def list_reports(db: Db, user: Caller) -> ReportList:
    """The caller's organisation's submitted reports with their certification state."""
    rows = db.scalars(
        select(ConformanceSubmission)
        .where(ConformanceSubmission.organisation_id == user.organisation_id)
        .order_by(ConformanceSubmission.created_at.desc(), ConformanceSubmission.id)
    )
    return ReportList(reports=[_out(row) for row in rows])


@router.post("/reports", status_code=201, response_model=ReportOut)
def submit_report(
    request: Request, db: Db, user: Caller, unsafe: Unsafe, body: ReportCreate
) -> Response:
    """Verify a signed report (key registered by the organisation, signature, digest, tolerance
    table, challenge) and record the backend's certification state; a refusal is a 422 (409
    for a challenge already used or a report already submitted) that says what failed."""
    report_path = finished_upload(request, db, user, body.report_upload)
    signature_path = finished_upload(request, db, user, body.signature_upload)
    if report_path.stat().st_size > MAX_REPORT_BYTES:
        raise ProblemError(422, "The report upload is far larger than any conformance report.")
    if signature_path.stat().st_size > MAX_ENVELOPE_BYTES:
        raise ProblemError(422, "The signature upload is far larger than any signature.")
    keys = {
        key.key_id: public_key_from_pem(key.public_key.encode("ascii"), f"key {key.key_id}")
        for key in db.scalars(
            select(SigningKey).where(SigningKey.organisation_id == user.organisation_id)
        )
    }
    db.commit()  # hold no database lock while the report is checked
    try:
        verified = verify_signed_report(report_path.read_bytes(), signature_path.read_bytes(), keys)
    except InputError as exc:
        raise ProblemError(422, exc.message) from exc
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    if body.sha256 is not None and body.sha256 != verified.sha256:
        raise ProblemError(
            422, f"The report uploaded has SHA-256 {verified.sha256}, not {body.sha256}."
        )
    known = db.scalars(
        select(ConformanceSubmission).where(
            ConformanceSubmission.organisation_id == user.organisation_id,
            ConformanceSubmission.sha256 == verified.sha256,
        )
    ).first()
    if known is not None:
        raise ProblemError(409, f"This report was already submitted (state: {known.state}).")
    challenge_id = _spend_challenge(db, user, verified)
    state, detail = _verdict(verified)
    row = ConformanceSubmission(
        organisation_id=user.organisation_id,
        sha256=verified.sha256,
        key_id=verified.key_id,
        profile=verified.profile,
        backend=verified.backend,
        challenge_id=challenge_id,
        state=state,
        detail=detail,
    )
    db.add(row)
    try:
        db.flush()
    except IntegrityError as exc:  # the same report, submitted at the same moment
        raise ProblemError(409, "This report was already submitted.") from exc
    return respond(db, user.organisation_id, unsafe, _out(row), status=201)


def _spend_challenge(db: Db, user: User, verified: VerifiedReport) -> str | None:
    """Mark the report's challenge used; refuse one unknown to the organisation, expired or
    already used."""
    claim = verified.challenge
    if claim is None:
        return None
    challenge = db.get(ConformanceChallenge, claim.id)
    if (
        challenge is None
        or challenge.organisation_id != user.organisation_id
        or not secrets.compare_digest(challenge.nonce, claim.nonce)
    ):
        raise ProblemError(
            422,
            f"The report answers challenge {claim.id}, which the marketplace did not issue to "
            "your organisation.",
        )
    if challenge.expires_at < now():
        raise ProblemError(
            422,
            f"The report answers challenge {claim.id}, which expired at "
            f"{challenge.expires_at.isoformat(timespec='seconds')}; run the profile again.",
        )
    if not first_to_set(db, challenge, ConformanceChallenge.used):
        raise ProblemError(
            409,
            f"The challenge {claim.id} was already used by another report; each run needs a "
            "challenge of its own: run the profile again.",
        )
    return challenge.id


def _verdict(verified: VerifiedReport) -> tuple[State, str | None]:
    if not verified.passed:
        return "failed", "; ".join(verified.shortfalls)
    if verified.challenge is None:
        return "unchallenged", "Run without a marketplace challenge: it cannot be certified."
    if verified.waivers:
        return "certified", "Certified with tolerance waivers: " + "; ".join(verified.waivers)
    return "certified", None
