"""A sitting killed with SIGKILL at 100 random moments loses no acknowledged answer, and its
journal's chain still holds after every restart."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

from portal.db.store import Store
from portal.exams.sitting import SittingSession, verify_sitting
from portal.paths import DataDir
from tests.exams.content import add_exam
from tests.exams.kill_child import answer_until_killed, text_exam

ROUNDS = 100


def parse(value: str) -> tuple[int, int]:
    round_no, n = value[1:].split("-")
    return int(round_no), int(n)


def test_every_acknowledged_answer_survives_100_kills(tmp_path: Path) -> None:
    content = text_exam()
    root = tmp_path / "data"
    with Store.open(DataDir(root).ensure()) as store:
        pk = add_exam(store, content)
        SittingSession.start(
            store,
            exam_pk=pk,
            content=content,
            candidate_name="Ada",
            partner_id="org-7",
            language="en",
        ).close()
    # a forkserver that has imported the app once: each child starts in milliseconds, so the
    # kills land across resuming, answering and checkpointing rather than inside imports
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.exams.kill_child"])
    rng = random.Random(20261126)
    acked: dict[str, tuple[int, int]] = {}  # item id -> the latest acknowledged answer
    every_ack: set[tuple[str, str]] = set()
    remaining_before = content.duration_s * 1000
    killed_with_acks = 0
    for round_no in range(ROUNDS):
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=answer_until_killed, args=(str(root), round_no, sender))
        child.start()
        sender.close()
        # one kill in five lands anywhere from the start (reopening, checking the chain); the
        # others at a random moment once the child answers
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0.0, 0.3))
        elif receiver.poll(30):
            assert receiver.recv() is None
            time.sleep(rng.uniform(0.0, 0.08))
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join(10)
        assert child.exitcode == -signal.SIGKILL, f"round {round_no}: {child.exitcode}"
        got = 0
        while receiver.poll():
            try:
                message = receiver.recv()
            except EOFError:
                break
            if message is None:
                continue
            number, value = message
            got += 1
            item_id = _item_of(root, content, number)
            acked[item_id] = parse(value[0])
            every_ack.add((item_id, value[0]))
        receiver.close()
        killed_with_acks += got > 0
        with Store.open(DataDir(root)) as store:
            assert verify_sitting(store, 1) >= len(every_ack)
            sitting = SittingSession.resume(store, 1, content)  # verifies the chain too
            journaled = {(e.item_id, e.answer[0]) for e in sitting.journal()}
            assert every_ack <= journaled, f"round {round_no}: an acknowledged answer is gone"
            answers = sitting.answers()
            for item_id, latest in acked.items():
                # the last acknowledged answer, or one saved after it that was not yet reported
                assert parse(answers[item_id][0]) >= latest, f"round {round_no}: {item_id}"
            assert sitting.remaining_ms() <= remaining_before  # time never comes back
            remaining_before = sitting.remaining_ms()
            sitting.close()
    assert killed_with_acks >= ROUNDS // 2, "most kills should land while answering"


_DELIVERY: dict[int, str] = {}


def _item_of(root: Path, content: object, number: int) -> str:
    """The item id shown as `number` in the sitting (its delivery, from the recorded seed)."""
    if not _DELIVERY:
        from portal.exams.delivery import deliver
        from portal.exams.model import ExamContent

        assert isinstance(content, ExamContent)
        with Store.open(DataDir(root)) as store:
            from portal.db.models import Sitting

            with store.session() as session:
                sitting = session.get(Sitting, 1)
                assert sitting is not None
                seed = sitting.seed
        _DELIVERY.update({d.number: d.item.id for d in deliver(content, seed)})
    return _DELIVERY[number]
