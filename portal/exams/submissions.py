"""Sealed submissions on their way to the marketplace: queued in the outbox, exported to a file
for a proctor where a sitting never gets online, imported on a computer that syncs; and the
results the marketplace scored, fetched after a sync.

Whichever way a submission arrives, and however often, the marketplace accepts it once: it keeps
one result per submission id.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from portal.atomic import write_atomically
from portal.db.enums import SittingState
from portal.db.models import Exam, ExamResult, ExamSubmission, OutboxItem, Sitting
from portal.db.store import Store
from portal.errors import InputError, StorageError
from portal.exams.device_key import device_key
from portal.exams.journal import ChainEntry
from portal.exams.seal import MAX_SUBMISSION_BYTES, SealError, Submission, open_sealed, seal
from portal.i18n import _, format_number, ngettext
from portal.plugins.dsse import key_id, public_key_from_pem
from portal.sync.outbox import enqueue

if TYPE_CHECKING:
    from portal.auth.oauth import Marketplace
    from portal.auth.tokens import TokenStore
    from portal.cancel import CancelToken
    from portal.exams.sitting import Clock, SealedSubmission, SittingSession

SUBMISSIONS_PATH = "/v1/exams/submissions"
DEVICE_KEYS_PATH = "/v1/partners/me/device-keys"
EXPORT_FORMAT = "aic-exam-submissions/1"


@dataclass(frozen=True)
class Refused:
    """A submission in a proctor's file that does not hold, so one bad entry spares the rest."""

    position: int
    """Its place in the file, from 1."""
    submission_id: str | None
    """The id it claims (unchecked, to find the candidate), or None where none can be read."""
    problem: str

    def describe(self) -> str:
        """One line naming the submission and what does not hold, in the user's language."""
        if self.submission_id is None:
            return _("submission {number}: {problem}").format(
                number=self.position, problem=self.problem
            )
        return _("submission {number} ({id}): {problem}").format(
            number=self.position, id=self.submission_id, problem=self.problem
        )


@dataclass(frozen=True)
class ImportReport:
    """What an import did: queued, already here (from this computer or an earlier import), and
    refused because it does not hold."""

    queued: list[str]
    already_here: list[str]
    refused: list[Refused]


@dataclass(frozen=True)
class ResultSummary:
    """A scored submission as `exam results` and the Exams page list it."""

    submission_id: str
    exam_id: str
    exam_version: str
    exam_title: str
    """The title of the exam's package here, else its id (a package imported elsewhere)."""
    candidate_name: str
    score: float
    max_score: float
    passed: bool
    pending_manual: int
    final: bool
    """False while manual scoring could still change whether it passed."""
    scored_at: datetime


def seal_and_queue(
    sitting: SittingSession, engine: Engine, journal: list[ChainEntry], elapsed_ms: int, wall: Clock
) -> SealedSubmission:
    """Seal the sitting's final state with the device key; in one transaction close the sitting,
    keep the sealed submission, and queue it (after the device key's registration). A practice
    exam's submission is scored here and neither kept for export nor queued."""
    from portal.exams.sitting import SealedSubmission, SittingClosedError

    key = device_key(sitting.store.data_dir)
    submitted_at = datetime.fromtimestamp(wall(), UTC)
    answers = sitting.answers()
    submission = Submission(
        submission_id=sitting.uid,
        exam_id=sitting.content.exam_id,
        exam_version=sitting.content.version,
        candidate_name=sitting.candidate_name,
        partner_id=sitting.partner_id,
        language=sitting.language,
        seed=sitting.seed,
        delivered=[d.item.id for d in sitting.items],
        answers=answers,
        flagged=sorted(d.item.id for d in sitting.items if sitting.flagged(d.number)),
        journal=journal,
        elapsed_ms=elapsed_ms,
        submitted_at=submitted_at.isoformat(),
        key_id=key.key_id,
    )
    envelope = seal(submission, key.private)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        closed = session.execute(
            update(Sitting)
            .where(Sitting.id == sitting.id, Sitting.state == SittingState.IN_PROGRESS)
            .values(state=SittingState.SUBMITTED, submitted_at=submitted_at, elapsed_ms=elapsed_ms)
        )
        if closed.rowcount != 1:  # type: ignore[attr-defined]
            raise SittingClosedError(_("This sitting was already submitted."))
        if sitting.content.practice:
            return SealedSubmission(
                submission.submission_id, sitting.id, envelope, key.key_id, None
            )
        session.add(
            ExamSubmission(
                submission_id=submission.submission_id,
                sitting_id=sitting.id,
                exam_id=submission.exam_id,
                exam_version=submission.exam_version,
                candidate_name=submission.candidate_name,
                envelope=envelope,
                device_public_key=key.public_pem,
                imported=False,
            )
        )
        item = _queue(session, submission.submission_id, envelope, key.public_pem, key.key_id)
    return SealedSubmission(submission.submission_id, sitting.id, envelope, key.key_id, item)


def _queue(
    session: Session,
    submission_id: str,
    envelope: dict[str, Any],
    public_pem: str,
    fingerprint: str,
) -> int:
    """Queue the device key's registration (once) and the submission after it."""
    resource = f"device-key/{fingerprint}"
    key_item = session.scalars(
        select(OutboxItem).where(OutboxItem.resource == resource).order_by(OutboxItem.id)
    ).first()
    if key_item is None:
        key_item = enqueue(
            session,
            resource=resource,
            method="POST",
            path=DEVICE_KEYS_PATH,
            body={"public_key": public_pem, "key_id": fingerprint},
        )
    item = enqueue(
        session,
        resource=f"exam-submission/{submission_id}",
        method="POST",
        path=SUBMISSIONS_PATH,
        body={"submission_id": submission_id, "envelope": envelope},
        after=key_item,  # the marketplace checks the seal with the registered device key
    )
    session.flush()
    return item.id


def export_submissions(store: Store, output: Path) -> int:
    """Write every sealed submission kept here (sat here or imported) to one file for the
    proctor; returns how many."""
    with store.session() as session:
        rows = session.scalars(select(ExamSubmission).order_by(ExamSubmission.id)).all()
        document = {
            "format": EXPORT_FORMAT,
            "submissions": [
                {"envelope": row.envelope, "device_public_key": row.device_public_key}
                for row in rows
            ],
        }
    try:
        write_atomically(output, json.dumps(document, indent=1).encode(), mode=0o600)
    except OSError as exc:
        raise StorageError(
            _("The file {path} cannot be written: {problem}").format(
                path=output, problem=exc.strerror or exc
            )
        ) from exc
    return len(rows)


def import_submissions(store: Store, source: Path) -> ImportReport:
    """Check each sealed submission in a proctor's file (seal, journal, answers) and queue the
    new ones; one that does not hold is refused and reported, the others still go."""
    opened, refused = _read_export(source)
    queued, already = [], []
    with store.session() as session, session.begin():
        for entry, submission in opened:
            known = session.scalar(
                select(ExamSubmission.id).where(
                    ExamSubmission.submission_id == submission.submission_id
                )
            )
            if known is not None:
                already.append(submission.submission_id)
                continue
            session.add(
                ExamSubmission(
                    submission_id=submission.submission_id,
                    sitting_id=None,
                    exam_id=submission.exam_id,
                    exam_version=submission.exam_version,
                    candidate_name=submission.candidate_name,
                    envelope=entry["envelope"],
                    device_public_key=entry["device_public_key"],
                    imported=True,
                )
            )
            session.flush()  # a file holding one submission twice queues it once
            _queue(
                session,
                submission.submission_id,
                entry["envelope"],
                entry["device_public_key"],
                submission.key_id,
            )
            queued.append(submission.submission_id)
    return ImportReport(queued, already, refused)


def _read_export(
    source: Path,
) -> tuple[list[tuple[dict[str, Any], Submission]], list[Refused]]:
    """The submissions in `source` that hold, and those that do not; a file that is not one
    at all is refused whole."""

    def bad(problem: str) -> InputError:
        return InputError(
            _("{path} is not a file of sealed submissions: {problem}.").format(
                path=source, problem=problem
            )
        )

    try:
        size = source.stat().st_size
        if size > 64 * MAX_SUBMISSION_BYTES:
            most = 64 * MAX_SUBMISSION_BYTES
            raise bad(
                ngettext("it is larger than {n} byte", "it is larger than {n} bytes", most).format(
                    n=format_number(most)
                )
            )
        document = json.loads(source.read_bytes())
    except OSError as exc:
        raise InputError(
            _("The file {path} cannot be read: {problem}").format(
                path=source, problem=exc.strerror or exc
            )
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad(_("it is not JSON")) from exc
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise bad(_("it does not say {format}").format(format=EXPORT_FORMAT))
    entries = document.get("submissions")
    if not isinstance(entries, list):
        raise bad(_("it lists no submissions"))
    found, refused = [], []
    for number, entry in enumerate(entries, start=1):
        try:
            if not isinstance(entry, dict) or not isinstance(entry.get("device_public_key"), str):
                raise SealError(_("it carries no device key"))
            public = public_key_from_pem(
                entry["device_public_key"].encode("ascii", "replace"), _("its device key")
            )
            submission = open_sealed(entry.get("envelope"), public)
            if submission.key_id != key_id(public):
                raise SealError(_("it names another device key than the one it carries"))
        except InputError as exc:
            refused.append(Refused(number, _claimed_id(entry), exc.message))
            continue
        found.append((entry, submission))
    return found, refused


def _claimed_id(entry: Any) -> str | None:
    """The submission id an entry's payload claims, read without trusting it, for the report."""
    try:
        payload = json.loads(base64.b64decode(entry["envelope"]["payload"], validate=True))
        claimed = payload["submission_id"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if not isinstance(claimed, str) or not claimed.isprintable():
        return None
    return claimed[:80]


def fetch_results(
    store: Store, market: Marketplace, tokens: TokenStore, *, cancel: CancelToken
) -> int:
    """Read the marketplace's results for submissions that have none here yet; how many arrived.

    Asks nothing when every submission kept here already has its result.
    """
    from portal.sync.reads import get_signed_in, unexpected

    with store.session() as session:
        waiting = set(
            session.scalars(
                select(ExamSubmission.submission_id).where(
                    ExamSubmission.submission_id.not_in(select(ExamResult.submission_id))
                )
            )
        )
    if not waiting:
        return 0
    response = get_signed_in(market, tokens, SUBMISSIONS_PATH, cancel=cancel)
    if response.status_code != 200:
        raise unexpected(SUBMISSIONS_PATH, response)
    try:
        body = response.json()
    except ValueError:
        body = None  # refused below as not what this app expects
    results = _parse_results(body)
    arrived = 0
    with store.session() as session, session.begin():
        for result in results:
            if result.submission_id not in waiting:
                continue
            session.add(result)
            waiting.discard(result.submission_id)
            arrived += 1
    return arrived


def _parse_results(body: Any) -> list[ExamResult]:
    """The marketplace's results, checked field by field: its answer is untrusted input."""
    from portal.auth.oauth import NetworkError

    try:
        return [
            ExamResult(
                submission_id=str(r["submission_id"]),
                exam_id=str(r["exam_id"]),
                exam_version=str(r["exam_version"]),
                candidate_name=str(r["candidate_name"]),
                score=float(r["score"]),
                max_score=float(r["max_score"]),
                passed=bool(r["passed"]),
                pending_manual=len(r["pending_manual"]),
                report={
                    "sections": list(r["sections"]),
                    "items": list(r["items"]),
                    "final": bool(r["final"]),
                },
                scored_at=_utc(datetime.fromisoformat(str(r["scored_at"]))),
            )
            for r in body["results"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise NetworkError(
            _(
                "The marketplace's answer to {what} is not what this app expects ({problem})."
            ).format(what=SUBMISSIONS_PATH, problem=exc)
        ) from exc


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_results(store: Store) -> list[ResultSummary]:
    """Every result fetched, newest first, named by its exam's title where the package is here."""
    query = (
        select(ExamResult, Exam.title)
        .outerjoin(
            Exam, (Exam.exam_id == ExamResult.exam_id) & (Exam.version == ExamResult.exam_version)
        )
        .order_by(ExamResult.scored_at.desc())
    )
    with store.session() as session:
        return [
            ResultSummary(
                r.submission_id,
                r.exam_id,
                r.exam_version,
                title or r.exam_id,
                r.candidate_name,
                r.score,
                r.max_score,
                r.passed,
                r.pending_manual,
                bool(r.report.get("final", True)),
                r.scored_at,
            )
            for r, title in session.execute(query).tuples()
        ]
