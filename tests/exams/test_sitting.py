"""The sitting engine: answers journaled and chained, time by the monotonic clock, resume after a
close or crash, delivery reproducible from the seed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from portal.auth.tokens import NoKeyringError
from portal.db.models import ExamSubmission, JournalEntry, OutboxItem, Sitting
from portal.db.store import Store
from portal.exams.delivery import deliver
from portal.exams.journal import ChainError
from portal.exams.model import ExamContent
from portal.exams.scoring import ScoringError
from portal.exams.sitting import (
    SittingClosedError,
    SittingError,
    SittingSession,
    verify_sitting,
)
from tests.exams.conftest import FakeClock
from tests.exams.content import add_exam, exam
from tests.keyrings import MemoryKeyring


@pytest.fixture
def sitting(
    store: Store, exam_pk: int, content: ExamContent, clock: FakeClock, wall: FakeClock
) -> Iterator[SittingSession]:
    opened = SittingSession.start(
        store,
        exam_pk=exam_pk,
        content=content,
        candidate_name="Ada Obi",
        partner_id="org-7",
        language="en",
        clock=clock,
        wall_clock=wall,
    )
    yield opened
    opened.close()


def number_of(sitting: SittingSession, item_id: str) -> int:
    return next(d.number for d in sitting.items if d.item.id == item_id)


def reopen(
    store: Store, sitting: SittingSession, clock: FakeClock, wall: FakeClock
) -> SittingSession:
    sitting.close()
    return SittingSession.resume(store, sitting.id, sitting.content, clock=clock, wall_clock=wall)


def test_answers_and_flags_survive_a_reopen(
    store: Store, sitting: SittingSession, clock: FakeClock, wall: FakeClock
) -> None:
    single, text = number_of(sitting, "single"), number_of(sitting, "text")
    sitting.save_answer(single, ["b"])
    sitting.save_answer(text, ["DSSE"])
    sitting.save_answer(text, [])  # cleared again
    sitting.set_flag(single, True)
    again = reopen(store, sitting, clock, wall)
    assert again.answer(single) == ["b"]
    assert again.answer(text) == []
    assert again.flagged(single) and not again.flagged(text)
    summary = again.summary()
    assert summary.answered == [single] and summary.flagged == [single]
    assert len(summary.unanswered) == len(again.items) - 1
    assert SittingSession.find_open(store) == sitting.id
    again.close()


def test_the_item_on_screen_survives_a_reopen_outside_the_journal(
    store: Store, sitting: SittingSession, clock: FakeClock, wall: FakeClock
) -> None:
    assert sitting.position is None
    sitting.checkpoint(position=3)

    again = reopen(store, sitting, clock, wall)
    assert again.position == 3
    assert again.journal() == []  # not an answer: the chain is untouched
    verify_sitting(store, again.id)
    with pytest.raises(SittingError):
        again.checkpoint(position=len(again.items) + 1)
    again.close(position=2)
    third = SittingSession.resume(store, again.id, again.content, clock=clock, wall_clock=wall)
    assert third.position == 2
    third.close()


def test_the_same_answer_twice_is_journaled_once(store: Store, sitting: SittingSession) -> None:
    n = number_of(sitting, "single")
    sitting.save_answer(n, ["a"])
    sitting.save_answer(n, ["a"])
    sitting.set_flag(n, False)
    assert [(e.kind, e.item_id) for e in sitting.journal()] == [("answer", "single")]


def test_an_answer_the_item_cannot_take_is_refused_and_not_journaled(
    sitting: SittingSession,
) -> None:
    with pytest.raises(SittingError, match="unknown choices: zz"):
        sitting.save_answer(number_of(sitting, "single"), ["zz"])
    with pytest.raises(SittingError, match="one text"):
        sitting.save_answer(number_of(sitting, "text"), ["a", "b"])
    with pytest.raises(SittingError, match="no item 99"):
        sitting.save_answer(99, ["a"])
    assert sitting.journal() == []


def test_the_journal_is_written_with_full_sync(sitting: SittingSession) -> None:
    with sitting._engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.parametrize("tamper", ["edit", "remove", "reorder", "remove_last_but_relink"])
def test_the_chain_shows_an_edit_removal_or_reorder(
    store: Store, sitting: SittingSession, clock: FakeClock, wall: FakeClock, tamper: str
) -> None:
    for number in range(1, 5):
        item = sitting.items[number - 1]
        answer = item.order["choices"][:1] if "choices" in item.order else []
        if item.item.interaction.kind == "order":
            answer = list(item.order["choices"])
        if answer:
            sitting.save_answer(number, answer)
        sitting.set_flag(number, True)
        clock.advance(1)
    assert verify_sitting(store, sitting.id) >= 4
    with store.session() as session, session.begin():
        entries = session.scalars(
            select(JournalEntry)
            .where(JournalEntry.sitting_id == sitting.id)
            .order_by(JournalEntry.seq)
        ).all()
        if tamper == "edit":
            entries[1].answer = ["flagged"] if entries[1].kind == "answer" else []
        elif tamper == "remove":
            session.delete(entries[1])
        elif tamper == "reorder":
            first, second = entries[0].seq, entries[1].seq
            entries[0].seq, entries[1].seq = -1, first
            session.flush()
            entries[0].seq = second
        else:  # remove an entry and renumber the rest: the next link still breaks
            session.delete(entries[1])
            session.flush()
            for entry in entries[2:]:
                entry.seq -= 1
                session.flush()
    with pytest.raises(ChainError):
        verify_sitting(store, sitting.id)
    sitting.close()
    with pytest.raises(ChainError):
        SittingSession.resume(store, sitting.id, sitting.content, clock=clock, wall_clock=wall)


def test_time_is_measured_with_the_monotonic_clock(
    sitting: SittingSession, clock: FakeClock, wall: FakeClock
) -> None:
    assert sitting.remaining_ms() == 3_600_000
    clock.advance(90)
    wall.advance(-86_400)  # the wall clock moved back a day: nothing changes
    assert sitting.remaining_ms() == 3_510_000
    wall.advance(10 * 86_400)
    assert sitting.remaining_ms() == 3_510_000
    clock.advance(3_600)
    assert sitting.expired() and sitting.remaining_ms() == 0
    with pytest.raises(SittingClosedError, match="time is up"):
        sitting.save_answer(number_of(sitting, "single"), ["a"])


def test_a_crash_resumes_with_the_time_that_was_left(
    store: Store, sitting: SittingSession, clock: FakeClock, wall: FakeClock
) -> None:
    clock.advance(100)
    sitting.save_answer(number_of(sitting, "single"), ["a"])  # persisted with the entry
    clock.advance(20)
    sitting.checkpoint()
    clock.advance(30)  # not persisted: lost to the crash
    sitting._engine.dispose()  # a crash: no close, no last checkpoint
    wall.advance(3_000)  # closed for 50 minutes: this exam's time stops while closed
    after = SittingSession.resume(
        store, sitting.id, sitting.content, clock=FakeClock(5.0), wall_clock=wall
    )
    assert after.remaining_ms() == 3_600_000 - 120_000
    after.close()


def test_time_runs_while_closed_when_the_exam_says_so_bounded_against_clock_tampering(
    store: Store, clock: FakeClock, wall: FakeClock
) -> None:
    content = exam(time_runs_while_closed=True)
    pk = add_exam(store, content.model_copy(update={"version": "2.0"}))
    content = content.model_copy(update={"version": "2.0"})
    sitting = SittingSession.start(
        store,
        exam_pk=pk,
        content=content,
        candidate_name="Ada",
        partner_id="org-7",
        language="en",
        clock=clock,
        wall_clock=wall,
    )
    clock.advance(60)
    sitting.close()
    wall.advance(600)  # ten minutes closed count
    sitting = SittingSession.resume(store, sitting.id, content, clock=clock, wall_clock=wall)
    assert sitting.remaining_ms() == 3_600_000 - 660_000
    sitting.close()
    wall.advance(-86_400)  # the wall clock set back a day while closed: adds nothing, takes none
    sitting = SittingSession.resume(store, sitting.id, content, clock=clock, wall_clock=wall)
    assert sitting.remaining_ms() == 3_600_000 - 660_000
    sitting.close()
    wall.advance(86_400 * 30)  # a month later: the time is used up, never beyond
    sitting = SittingSession.resume(store, sitting.id, content, clock=clock, wall_clock=wall)
    assert sitting.remaining_ms() == 0 and sitting.expired()
    sitting.close()


def test_delivery_is_reproducible_from_the_seed_and_differs_between_candidates(
    content: ExamContent,
) -> None:
    first, again = deliver(content, 1234), deliver(content, 1234)
    assert [(d.item.id, d.order) for d in first] == [(d.item.id, d.order) for d in again]
    others = [deliver(content, seed) for seed in range(1, 9)]
    assert len({tuple(d.item.id for d in o) for o in others}) > 1  # item order differs
    multi = [next(d for d in o if d.item.id == "multi") for o in others]
    assert len({tuple(d.order["choices"]) for d in multi}) > 1  # choice order differs


def test_delivery_draws_from_each_pool_and_honours_fixed_and_no_shuffle(
    content: ExamContent,
) -> None:
    for seed in range(40):
        delivered = deliver(content, seed)
        sections = [d.section_id for d in delivered]
        assert sections == ["all"] * 9 + ["pool"] * 3  # sections in order, 3 drawn of 8
        assert [d.number for d in delivered] == list(range(1, 13))
        multi = next(d for d in delivered if d.item.id == "multi")
        assert multi.order["choices"][4] == "none"  # fixed: stays last
        assert sorted(multi.order["choices"]) == ["a", "b", "c", "d", "none"]
        assert next(d for d in delivered if d.item.id == "text").order == {}
    unshuffled = exam(draw=None).model_copy()
    items = [
        i.model_copy(update={"interaction": i.interaction.model_copy(update={"shuffle": False})})
        if hasattr(i.interaction, "shuffle")
        else i
        for i in unshuffled.sections[0].items
    ]
    plain = unshuffled.model_copy(
        update={"sections": [unshuffled.sections[0].model_copy(update={"items": items})]}
    )
    match = next(d for d in deliver(plain, 7) if d.item.id == "match")
    assert match.order == {"sources": ["s1", "s2"], "targets": ["t1", "t2", "t3"]}


def test_different_candidates_get_different_seeds(
    store: Store, exam_pk: int, content: ExamContent
) -> None:
    seeds = set()
    for n in range(5):
        s = SittingSession.start(
            store,
            exam_pk=exam_pk,
            content=content,
            candidate_name=f"C{n}",
            partner_id="org-7",
            language="en",
        )
        seeds.add(s.seed)
        s.close()
    assert len(seeds) == 5
    with store.session() as session:
        assert len(set(session.scalars(select(Sitting.uid)))) == 5


def test_start_refuses_what_it_cannot_sit(store: Store, exam_pk: int, content: ExamContent) -> None:
    with pytest.raises(SittingError, match="not offered in fr"):
        SittingSession.start(
            store,
            exam_pk=exam_pk,
            content=content,
            candidate_name="Ada",
            partner_id="org-7",
            language="fr",
        )
    with pytest.raises(SittingError, match="name"):
        SittingSession.start(
            store,
            exam_pk=exam_pk,
            content=content,
            candidate_name="  ",
            partner_id="org-7",
            language="en",
        )
    other = content.model_copy(update={"version": "9"})
    with pytest.raises(SittingError, match=r"sitting is of aic-core 1\.0"):
        SittingSession.start(
            store,
            exam_pk=exam_pk,
            content=other,
            candidate_name="Ada",
            partner_id="org-7",
            language="en",
        )
    with store.session() as session:
        assert session.scalars(select(Sitting)).all() == []


def test_another_process_appending_to_the_same_sitting_is_refused(
    store: Store, sitting: SittingSession, clock: FakeClock, wall: FakeClock
) -> None:
    twin = SittingSession.resume(store, sitting.id, sitting.content, clock=clock, wall_clock=wall)
    sitting.save_answer(number_of(sitting, "single"), ["a"])
    with pytest.raises(SittingError, match="another window"):
        twin.save_answer(number_of(sitting, "single"), ["c"])
    twin.close()
    assert verify_sitting(store, sitting.id) == 1


def test_checkpoint_persists_elapsed_time(
    store: Store, sitting: SittingSession, clock: FakeClock
) -> None:
    clock.advance(42.5)
    sitting.checkpoint()
    with store.session() as session:
        assert session.get(Sitting, sitting.id).elapsed_ms == 42_500  # type: ignore[union-attr]


def test_a_practice_exam_scores_here_and_is_not_queued(
    store: Store, memory_keyring: MemoryKeyring
) -> None:
    content = exam(practice=True).model_copy(update={"version": "p1"})
    sitting = SittingSession.start(
        store,
        exam_pk=add_exam(store, content),
        content=content,
        candidate_name="Ada",
        partner_id="org-7",
        language="en",
    )
    sitting.save_answer(number_of(sitting, "single"), ["b"])
    sitting.save_answer(number_of(sitting, "multi"), ["a"])
    report = sitting.score()
    assert report.item("single").status == "correct" and report.item("multi").score == 1.5
    assert report.max_score == 21  # the 18 points of every kind, and the 3 drawn of the pool
    sealed = sitting.submit()
    assert sealed.outbox_item_id is None
    with store.session() as session:
        assert session.scalars(select(OutboxItem)).all() == []
        assert session.scalars(select(ExamSubmission)).all() == []
    sitting.close()


def test_a_submission_that_cannot_be_sealed_leaves_the_sitting_open(
    store: Store, sitting: SittingSession
) -> None:
    sitting.save_answer(number_of(sitting, "single"), ["b"])
    with pytest.raises(NoKeyringError):  # the tests' default keyring refuses everything
        sitting.submit()
    assert sitting.is_open and SittingSession.find_open(store) == sitting.id
    sitting.save_answer(number_of(sitting, "single"), ["c"])


def test_a_certification_exam_is_not_scored_here(store: Store, content: ExamContent) -> None:
    bare = content.without_keys().model_copy(update={"version": "c1"})
    sitting = SittingSession.start(
        store,
        exam_pk=add_exam(store, bare),
        content=bare,
        candidate_name="Ada",
        partner_id="org-7",
        language="en",
    )
    with pytest.raises(ScoringError, match="has no answer key"):
        sitting.score()
    sitting.close()
