"""`/v1/exams/submissions` and `/v1/partners/me/device-keys`: sealed exam submissions checked
(device key registered to the partner, seal, journal chain, final answers, the seed's draw),
scored with the keys, and kept once per submission id whichever way and however often they come.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db.types import UTCDateTime
from portal.exams.delivery import deliver
from portal.exams.journal import canonical
from portal.exams.model import ExamContent, answer_problem
from portal.exams.scoring import ScoreReport, ScoringError, score
from portal.exams.seal import SealError, Submission, envelope_key_id, open_sealed
from portal.plugins.dsse import public_key_from_pem
from portal.sandbox.certificates import issue_certificate, issuer_url
from portal.sandbox.idempotency import Attempt, attempt, replay, respond
from portal.sandbox.oauth import Db, bearer_user
from portal.sandbox.partners import KeyRegistration, registered_pem
from portal.sandbox.problems import ProblemError
from portal.sandbox.store import SandboxBase, User, now

router = APIRouter(tags=["exams"])
Caller = Annotated[User, Depends(bearer_user)]
Unsafe = Annotated[Attempt, Depends(attempt)]
SUBMISSIONS_PATH = "/v1/exams/submissions"
DEVICE_KEYS_PATH = "/v1/partners/me/device-keys"
SubmissionId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z\-]+$")]

ExamLookup = Callable[[Session, str, str], ExamContent | None]
"""The exam with its keys by (exam id, version); None when the marketplace offers no such exam."""


def no_exams(_session: Session, _exam_id: str, _version: str) -> ExamContent | None:
    """A marketplace that offers no exams (until an exam store is given to create_app)."""
    return None


class DeviceKey(SandboxBase):
    """A device key that seals an organisation's exam submissions; it belongs to one."""

    __tablename__ = "device_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    public_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ScoredSubmission(SandboxBase):
    """A submission accepted once, with its score; `digest` tells a repeat from a different one."""

    __tablename__ = "exam_submissions"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    exam_id: Mapped[str] = mapped_column(String(64))
    exam_version: Mapped[str] = mapped_column(String(32))
    candidate_name: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[str] = mapped_column(String(64))
    device_key_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class RegisteredDeviceKey(BaseModel):
    """A key the organisation's exam submissions are sealed with."""

    key_id: str
    created_at: datetime


class SubmissionIn(BaseModel):
    """A sealed submission: the DSSE envelope and the id it seals (for the outbox's list)."""

    submission_id: str = Field(min_length=1, max_length=36)
    envelope: dict[str, Any]


class ItemResult(BaseModel):
    """One item's points."""

    item_id: str
    section_id: str
    score: float
    max_score: float
    status: str


class SectionResult(BaseModel):
    """One section's points."""

    section_id: str
    score: float
    max_score: float


class ExamResultOut(BaseModel):
    """A scored submission."""

    submission_id: str
    exam_id: str
    exam_version: str
    candidate_name: str
    partner_id: str
    score: float
    max_score: float
    fraction: float
    pass_mark: float
    passed: bool
    final: bool
    pending_manual: list[str]
    sections: list[SectionResult]
    items: list[ItemResult]
    scored_at: datetime


class ExamResults(BaseModel):
    """The organisation's scored submissions, newest first."""

    results: list[ExamResultOut]


@router.post(
    DEVICE_KEYS_PATH,
    status_code=201,
    response_model=RegisteredDeviceKey,
    responses={200: {"model": RegisteredDeviceKey, "description": "Registered before"}},
)
def register_device_key(db: Db, user: Caller, unsafe: Unsafe, body: KeyRegistration) -> Response:
    """Register a device key (201), again with no effect (200); another organisation's is 409."""
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    pem = registered_pem(body)
    known = db.get(DeviceKey, body.key_id)
    if known is not None and known.organisation_id != user.organisation_id:
        raise ProblemError(
            409, f"The device key {body.key_id} is registered by another organisation."
        )
    status = 200 if known is not None else 201
    if known is None:
        known = DeviceKey(key_id=body.key_id, organisation_id=user.organisation_id, public_key=pem)
        db.add(known)
        db.flush()
    answer = RegisteredDeviceKey(key_id=known.key_id, created_at=known.created_at)
    return respond(db, user.organisation_id, unsafe, answer, status=status)


@router.post(
    SUBMISSIONS_PATH,
    status_code=201,
    response_model=ExamResultOut,
    responses={200: {"model": ExamResultOut, "description": "Received before: its result"}},
)
def submit(request: Request, db: Db, user: Caller, unsafe: Unsafe, body: SubmissionIn) -> Response:
    """Check, score and keep a sealed submission (201); the same one again, by any path, gets
    its first result (200); a different one under the same id is 409."""
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    submission, digest = _opened(db, user, body)
    kept = db.get(ScoredSubmission, submission.submission_id)
    if kept is not None:
        if kept.organisation_id != user.organisation_id or kept.digest != digest:
            raise ProblemError(
                409,
                f"The submission {submission.submission_id} was already received with other "
                "contents; a sealed submission is accepted once.",
            )
        return respond(db, user.organisation_id, unsafe, _result(kept), status=200)
    lookup: ExamLookup = request.app.state.exam_content
    content = lookup(db, submission.exam_id, submission.exam_version)
    if content is None:
        raise ProblemError(
            422,
            f"The marketplace offers no exam {submission.exam_id} version "
            f"{submission.exam_version} to score this submission against.",
        )
    report = _scored(content, submission)
    kept = store_result(db, user, submission, digest, report)
    if report.passed and not content.practice:
        issue_certificate(
            db,
            key=request.app.state.marketplace_key,
            issuer_url=issuer_url(request),
            organisation_id=user.organisation_id,
            submission_id=submission.submission_id,
            holder_name=submission.candidate_name,
            exam_id=submission.exam_id,
            exam_title=content.title.get(submission.language, content.title[content.languages[0]]),
            fraction=report.score / report.max_score,
        )
    return respond(db, user.organisation_id, unsafe, _result(kept), status=201)


@router.get(SUBMISSIONS_PATH)
def results(db: Db, user: Caller) -> ExamResults:
    """The caller's organisation's scored submissions, newest first."""
    rows = db.scalars(
        select(ScoredSubmission)
        .where(ScoredSubmission.organisation_id == user.organisation_id)
        .order_by(ScoredSubmission.scored_at.desc(), ScoredSubmission.submission_id)
    )
    return ExamResults(results=[_result(row) for row in rows])


@router.get(SUBMISSIONS_PATH + "/{submission_id}")
def result(db: Db, user: Caller, submission_id: SubmissionId) -> ExamResultOut:
    """One scored submission of the caller's organisation."""
    row = db.get(ScoredSubmission, submission_id)
    if row is None or row.organisation_id != user.organisation_id:
        raise ProblemError(404, f"There is no submission {submission_id}.")
    return _result(row)


def store_result(
    db: Session, user: User, submission: Submission, digest: str, report: ScoreReport
) -> ScoredSubmission:
    """Keep a scored submission: the one place a result (a pass among them) is recorded, so what
    follows a pass (its certificate) is decided here, in the same transaction."""
    row = ScoredSubmission(
        submission_id=submission.submission_id,
        organisation_id=user.organisation_id,
        digest=digest,
        exam_id=submission.exam_id,
        exam_version=submission.exam_version,
        candidate_name=submission.candidate_name,
        partner_id=submission.partner_id,
        device_key_id=submission.key_id,
        score=report.score,
        max_score=report.max_score,
        passed=report.passed,
        report=report.as_json(),
    )
    db.add(row)
    db.flush()
    return row


def _opened(db: Session, user: User, body: SubmissionIn) -> tuple[Submission, str]:
    """The checked submission and a digest of what it says; a 422 in words when it does not hold."""
    try:
        fingerprint = envelope_key_id(body.envelope)
        key = db.get(DeviceKey, fingerprint)
        if key is None or key.organisation_id != user.organisation_id:
            raise ProblemError(
                422,
                f"The submission is sealed with the device key {fingerprint}, which is not "
                "registered to your organisation.",
            )
        submission = open_sealed(body.envelope, public_key_from_pem(key.public_key.encode(), "key"))
    except SealError as exc:
        raise ProblemError(422, f"The submission does not hold: {exc.message}.") from exc
    if submission.submission_id != body.submission_id:
        raise ProblemError(
            422,
            f"submission_id {body.submission_id} is not the sealed submission's id, "
            f"{submission.submission_id}.",
        )
    if submission.key_id != fingerprint:
        raise ProblemError(422, "The submission names another device key than the one sealing it.")
    return submission, hashlib.sha256(canonical(submission.payload())).hexdigest()


def _scored(content: ExamContent, submission: Submission) -> ScoreReport:
    """Score after checking the candidate answered the items the seed drew, as the items allow."""
    drawn = [d.item.id for d in deliver(content, submission.seed)]
    if submission.delivered != drawn:
        raise ProblemError(
            422, "The submission's items are not the ones its seed draws from this exam."
        )
    for item_id, answer in submission.answers.items():
        if item_id not in drawn:
            raise ProblemError(422, f"The submission answers {item_id}, which it was not given.")
        problem = answer_problem(content.item(item_id), answer)
        if problem is not None:
            raise ProblemError(422, f"The answer to {item_id} cannot be scored: {problem}.")
    try:
        return score(content, submission.answers, delivered=drawn)
    except ScoringError as exc:
        raise ProblemError(422, f"The exam cannot be scored: {exc.message}.") from exc


def _result(row: ScoredSubmission) -> ExamResultOut:
    report = row.report
    return ExamResultOut(
        submission_id=row.submission_id,
        exam_id=row.exam_id,
        exam_version=row.exam_version,
        candidate_name=row.candidate_name,
        partner_id=row.partner_id,
        score=row.score,
        max_score=row.max_score,
        fraction=report["fraction"],
        pass_mark=report["pass_mark"],
        passed=row.passed,
        final=report["final"],
        pending_manual=report["pending_manual"],
        sections=[SectionResult(**s) for s in report["sections"]],
        items=[ItemResult(**i) for i in report["items"]],
        scored_at=row.scored_at,
    )
