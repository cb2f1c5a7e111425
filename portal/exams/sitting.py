"""A candidate's sitting: answers journaled durably before they count as saved, time that survives
a crash, and the sealed submission at the end.

Durability: the journal is written through an engine of its own whose connections run with
`synchronous=FULL` (the store's engine uses NORMAL, which may lose the last commits to a power
cut), each append one `BEGIN IMMEDIATE` transaction, so `save_answer` returns only once the entry
is on disk.

Time: elapsed time is measured with a monotonic clock and persisted with every journal entry and
every `checkpoint()`. After a crash the sitting resumes with the time that was left. Where the
exam's time runs while the app is closed, the wall time between the last persisted moment and the
reopening is added, bounded to [0, the time that was left]: a wall clock set back adds nothing (a
candidate gains no more than an exam whose time stops while closed would give), one set forward
only costs the candidate time. The journal's entries carry their wall time too, for the record.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from portal.db.engine import create_sqlite_engine
from portal.db.enums import SittingState
from portal.db.models import Exam, JournalEntry, Sitting
from portal.db.store import Store
from portal.errors import InputError, StorageError
from portal.exams.delivery import DeliveredItem, deliver, new_seed
from portal.exams.journal import (
    ANSWER,
    FLAG,
    FLAGGED,
    ChainEntry,
    ChainError,
    entry_hash,
    final_state,
    genesis_hash,
    verify_chain,
)
from portal.exams.model import Answer, ExamContent, answer_problem
from portal.exams.scoring import ScoreReport, score
from portal.i18n import _

__all__ = [
    "ChainError",
    "DeliveredItem",
    "SealedSubmission",
    "SittingClosedError",
    "SittingError",
    "SittingSession",
    "SittingSummary",
    "verify_chain",
    "verify_sitting",
]

Clock = Callable[[], float]


class SittingError(InputError):
    """What a sitting cannot do (no such item, an answer the item cannot take, not open)."""


class SittingClosedError(SittingError):
    """The sitting's time is up or it was submitted: no answer can change any more."""


@dataclass(frozen=True)
class SittingSummary:
    """The review screen: item numbers answered, not answered, and flagged for review."""

    answered: list[int]
    unanswered: list[int]
    flagged: list[int]


@dataclass(frozen=True)
class SealedSubmission:
    """A submitted sitting: its signed envelope is stored and queued for the marketplace."""

    submission_id: str
    sitting_id: int
    envelope: dict[str, Any]
    key_id: str
    outbox_item_id: int | None
    """None for a practice exam: it is scored here and goes nowhere."""


def journal_engine(database: Path) -> Engine:
    """An engine on the store's file whose every connection syncs each commit (FULL) and whose
    transactions begin IMMEDIATE (the write lock taken up front, so appends take turns)."""
    engine = create_sqlite_engine(database)
    event.listen(engine, "connect", _full_sync)  # after the store's pragmas, so FULL wins
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _full_sync(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# Built once, with its values bound per call: a Core insert on the table compiles once and is
# cached, where `insert(JournalEntry).values(...)` cost more per save than the disk sync itself.
_APPEND = insert(JournalEntry.metadata.tables[JournalEntry.__tablename__])


def _now(wall_clock: Clock) -> datetime:
    return datetime.fromtimestamp(wall_clock(), UTC)


class SittingSession:
    """An open sitting: the candidate's items, answers and flags, the clock, the journal."""

    def __init__(
        self,
        store: Store,
        engine: Engine,
        row: Sitting,
        content: ExamContent,
        entries: list[ChainEntry],
        *,
        clock: Clock,
        wall_clock: Clock,
        elapsed_ms: int,
    ) -> None:
        self.store, self._engine, self.content = store, engine, content
        self.id: int = row.id
        self.uid: str = row.uid
        self.language: str = row.language
        self.candidate_name: str = row.candidate_name
        self.partner_id: str = row.partner_id
        self.seed: int = row.seed
        self.items: list[DeliveredItem] = deliver(content, row.seed)
        self._clock, self._wall = clock, wall_clock
        self._base_ms, self._mono0 = elapsed_ms, clock()
        self._genesis = genesis_hash(
            uid=row.uid,
            exam_id=content.exam_id,
            version=content.version,
            seed=row.seed,
            candidate_name=row.candidate_name,
            partner_id=row.partner_id,
            language=row.language,
        )
        self._last_hash = verify_chain(entries, genesis=self._genesis)
        self._seq = len(entries)
        self._last_ms = entries[-1].elapsed_ms if entries else 0
        self._answers, self._flags = final_state(entries)
        self._open = row.state == SittingState.IN_PROGRESS
        self.position: int | None = row.position
        """The item number the candidate last moved to, if any (where a reopening shows)."""

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        store: Store,
        *,
        exam_pk: int,
        content: ExamContent,
        candidate_name: str,
        partner_id: str,
        language: str,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
    ) -> SittingSession:
        """Begin a new sitting of the exam stored as `exam_pk`, with a fresh recorded seed."""
        candidate_name, partner_id = candidate_name.strip(), partner_id.strip()
        if not candidate_name or len(candidate_name) > 200:
            raise SittingError(_("The candidate's name must be 1 to 200 characters."))
        if not partner_id or len(partner_id) > 64:
            raise SittingError(_("The partner id must be 1 to 64 characters."))
        if language not in content.languages:
            raise SittingError(
                _("The exam is not offered in {language}; it is in {languages}.").format(
                    language=language, languages=", ".join(content.languages)
                )
            )
        engine = journal_engine(_database(store))
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                _check_exam(session, exam_pk, content)
                row = Sitting(
                    exam_pk=exam_pk,
                    candidate_name=candidate_name,
                    partner_id=partner_id,
                    language=language,
                    seed=new_seed(),
                    uid=str(uuid.uuid4()),
                    state=SittingState.IN_PROGRESS,
                    elapsed_ms=0,
                    seen_at=_now(wall_clock),
                    started_at=_now(wall_clock),
                )
                session.add(row)
            return cls(
                store, engine, row, content, [], clock=clock, wall_clock=wall_clock, elapsed_ms=0
            )
        except BaseException:
            engine.dispose()
            raise

    @classmethod
    def resume(
        cls,
        store: Store,
        sitting_id: int,
        content: ExamContent,
        *,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
    ) -> SittingSession:
        """Reopen a sitting after a crash or a close, with every saved answer and the time left.

        A journal whose chain does not hold is refused (ChainError): it was changed outside the
        app, and nothing it says can be trusted.
        """
        engine = journal_engine(_database(store))
        try:
            with Session(engine) as session:
                row = session.get(Sitting, sitting_id)
                if row is None:
                    raise SittingError(_("There is no sitting {id}.").format(id=sitting_id))
                _check_exam(session, row.exam_pk, content)
                stored = session.scalars(
                    select(JournalEntry)
                    .where(JournalEntry.sitting_id == sitting_id)
                    .order_by(JournalEntry.seq)
                ).all()
                entries = [_chain_entry(e) for e in stored]
                last_wall = max([row.seen_at or row.started_at, *(e.recorded_at for e in stored)])
            elapsed = max([row.elapsed_ms, *(e.elapsed_ms for e in entries)])
            limit = content.duration_s * 1000
            if content.time_runs_while_closed and row.state == SittingState.IN_PROGRESS:
                closed_ms = int((wall_clock() - last_wall.timestamp()) * 1000)
                elapsed += min(max(closed_ms, 0), max(limit - elapsed, 0))
            opened = cls(
                store,
                engine,
                row,
                content,
                entries,
                clock=clock,
                wall_clock=wall_clock,
                elapsed_ms=elapsed,
            )
            opened.checkpoint()  # the time added while closed is counted once, not at each open
            return opened
        except BaseException:
            engine.dispose()
            raise

    @staticmethod
    def find_open(store: Store) -> int | None:
        """The sitting still in progress (the newest, if several), to reopen after a crash."""
        with store.session() as session:
            return session.scalar(
                select(Sitting.id)
                .where(Sitting.state == SittingState.IN_PROGRESS)
                .order_by(Sitting.id.desc())
                .limit(1)
            )

    def close(self, *, position: int | None = None) -> None:
        """Persist the time (and the item on screen) and let go of the journal's connections
        (the sitting stays open)."""
        self.checkpoint(position=position)
        self._engine.dispose()

    def __enter__(self) -> SittingSession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- answering -------------------------------------------------------------------------

    def answer(self, number: int) -> Answer:
        """The saved answer of item `number` (empty when none)."""
        return list(self._answers.get(self._delivered(number).item.id, []))

    def flagged(self, number: int) -> bool:
        """Whether item `number` is flagged for review."""
        return self._delivered(number).item.id in self._flags

    def save_answer(self, number: int, answer: Answer) -> None:
        """Journal the answer of item `number`; once this returns it survives a crash or power
        cut. The same answer again writes nothing."""
        delivered = self._delivered(number)
        self._check_writable()
        answer = list(answer)
        problem = answer_problem(delivered.item, answer)
        if problem is not None:
            raise SittingError(_("Item {number}: {problem}").format(number=number, problem=problem))
        if answer == self._answers.get(delivered.item.id, []):
            return
        self._append(ANSWER, delivered.item.id, answer)
        if answer:
            self._answers[delivered.item.id] = answer
        else:
            self._answers.pop(delivered.item.id, None)

    def set_flag(self, number: int, flagged: bool) -> None:
        """Flag item `number` for review, or clear the flag (journaled like an answer)."""
        item_id = self._delivered(number).item.id
        self._check_writable()
        if flagged == (item_id in self._flags):
            return
        self._append(FLAG, item_id, FLAGGED if flagged else [])
        if flagged:
            self._flags.add(item_id)
        else:
            self._flags.discard(item_id)

    def summary(self) -> SittingSummary:
        """Which items are answered, unanswered and flagged, by number."""
        answered = [d.number for d in self.items if d.item.id in self._answers]
        return SittingSummary(
            answered=answered,
            unanswered=[d.number for d in self.items if d.item.id not in self._answers],
            flagged=[d.number for d in self.items if d.item.id in self._flags],
        )

    def answers(self) -> dict[str, Answer]:
        """Every saved answer by item id, as scoring and the submission take them."""
        return {item_id: list(answer) for item_id, answer in self._answers.items()}

    def journal(self) -> list[ChainEntry]:
        """The sitting's journal as stored, read back from the database."""
        with Session(self._engine) as session:
            return [
                _chain_entry(e)
                for e in session.scalars(
                    select(JournalEntry)
                    .where(JournalEntry.sitting_id == self.id)
                    .order_by(JournalEntry.seq)
                )
            ]

    @property
    def genesis(self) -> str:
        """The hash the journal's first entry follows (binds the chain to this sitting)."""
        return self._genesis

    @property
    def is_open(self) -> bool:
        """Whether the sitting is still in progress (not yet submitted)."""
        return self._open

    # -- time ------------------------------------------------------------------------------

    def elapsed_ms(self) -> int:
        """Time used so far, by the monotonic clock; never less than what was persisted."""
        running = int((self._clock() - self._mono0) * 1000)
        return max(self._base_ms + max(running, 0), self._last_ms)

    def remaining_ms(self) -> int:
        """Time left, never below zero."""
        return max(self.content.duration_s * 1000 - self.elapsed_ms(), 0)

    def expired(self) -> bool:
        """Whether the time is up (answers can then no longer change; submit still works)."""
        return self.remaining_ms() == 0

    def checkpoint(self, *, position: int | None = None) -> None:
        """Persist the elapsed time (and the wall time it was seen), so a crash loses at most
        the seconds since the last call; and `position`, the item number on screen, where a
        reopened sitting shows the candidate again. The position is not an answer: it is kept
        with the sitting's row, outside the journal and its chain."""
        if position is not None:
            self._delivered(position)
        if not self._open:
            return
        elapsed = min(self.elapsed_ms(), self.content.duration_s * 1000)
        values: dict[str, Any] = {"elapsed_ms": elapsed, "seen_at": _now(self._wall)}
        if position is not None:
            values["position"] = position
        try:
            with self._engine.begin() as connection:
                connection.execute(update(Sitting).where(Sitting.id == self.id).values(**values))
        except OperationalError as exc:
            raise _storage(exc) from exc
        if position is not None:
            self.position = position

    # -- submitting ------------------------------------------------------------------------

    def score(self) -> ScoreReport:
        """The score over the items this candidate was given: for practice exams, whose package
        carries the keys (a certification exam raises ScoringError: the marketplace scores it)."""
        return score(self.content, self.answers(), delivered=[d.item.id for d in self.items])

    def submit(self) -> SealedSubmission:
        """Seal the final answers and the journal with the device key and queue them for the
        marketplace (a practice exam's are only sealed); the sitting is then closed."""
        from portal.exams.submissions import seal_and_queue

        if not self._open:
            raise SittingClosedError(_("This sitting was already submitted."))
        self._last_ms = min(self.elapsed_ms(), self.content.duration_s * 1000)
        sealed = seal_and_queue(self, self._engine, self.journal(), self._last_ms, self._wall)
        self._open = False
        return sealed

    # -- inside ----------------------------------------------------------------------------

    def _delivered(self, number: int) -> DeliveredItem:
        if not 1 <= number <= len(self.items):
            raise SittingError(
                _("There is no item {number}; the exam has {count}.").format(
                    number=number, count=len(self.items)
                )
            )
        return self.items[number - 1]

    def _check_writable(self) -> None:
        if not self._open:
            raise SittingClosedError(_("This sitting was submitted; answers cannot change."))
        if self.expired():
            raise SittingClosedError(_("The time is up; answers can no longer change."))

    def _append(self, kind: str, item_id: str, answer: Answer) -> None:
        """One entry, in one FULL-synced transaction, chained to the one before."""
        seq = self._seq + 1
        elapsed = min(self.elapsed_ms(), self.content.duration_s * 1000)
        digest = entry_hash(
            seq=seq,
            kind=kind,
            item_id=item_id,
            answer=answer,
            elapsed_ms=elapsed,
            prev_hash=self._last_hash,
        )
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    _APPEND,
                    {
                        "sitting_id": self.id,
                        "seq": seq,
                        "kind": kind,
                        "item_id": item_id,
                        "answer": answer,
                        "elapsed_ms": elapsed,
                        "recorded_at": _now(self._wall),
                        "prev_hash": self._last_hash,
                        "entry_hash": digest,
                    },
                )
        except IntegrityError as exc:
            raise SittingError(
                _(
                    "This sitting was changed by another window or process; close it and "
                    "reopen the sitting."
                )
            ) from exc
        except OperationalError as exc:
            raise _storage(exc) from exc
        self._seq, self._last_hash, self._last_ms = seq, digest, elapsed


def verify_sitting(store: Store, sitting_id: int) -> int:
    """Check a stored sitting's journal chain; returns how many entries it holds."""
    with store.session() as session:
        row = session.get(Sitting, sitting_id)
        if row is None:
            raise SittingError(_("There is no sitting {id}.").format(id=sitting_id))
        exam = session.get(Exam, row.exam_pk)
        assert exam is not None, "the foreign key keeps it"
        entries = [_chain_entry(e) for e in row.journal]
        genesis = genesis_hash(
            uid=row.uid,
            exam_id=exam.exam_id,
            version=exam.version,
            seed=row.seed,
            candidate_name=row.candidate_name,
            partner_id=row.partner_id,
            language=row.language,
        )
    verify_chain(entries, genesis=genesis)
    return len(entries)


def _chain_entry(e: JournalEntry) -> ChainEntry:
    return ChainEntry(
        seq=e.seq,
        kind=e.kind,
        item_id=e.item_id,
        answer=list(e.answer),
        elapsed_ms=e.elapsed_ms,
        prev_hash=e.prev_hash,
        entry_hash=e.entry_hash,
    )


def _check_exam(session: Session, exam_pk: int, content: ExamContent) -> None:
    exam = session.get(Exam, exam_pk)
    if exam is None:
        raise SittingError(_("There is no exam package {id} on this computer.").format(id=exam_pk))
    if (exam.exam_id, exam.version) != (content.exam_id, content.version):
        raise SittingError(
            _("The content given is {given} {gv}, but the sitting is of {exam} {version}.").format(
                given=content.exam_id, gv=content.version, exam=exam.exam_id, version=exam.version
            )
        )


def _database(store: Store) -> Path:
    name = store.engine.url.database
    assert name, "the store is a SQLite file"
    return Path(name)


def _storage(exc: OperationalError) -> StorageError:
    return StorageError(
        _("The answer could not be saved to the database: {problem}").format(problem=exc.orig)
    )
