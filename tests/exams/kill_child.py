"""The child of the SIGKILL test: reopens the sitting and answers in a loop, reporting each answer
to the parent only after `save_answer` returned (importable, so a forkserver can preload it)."""

from __future__ import annotations

import random
from multiprocessing.connection import Connection
from pathlib import Path

from sqlalchemy.dialects.sqlite import pysqlite  # noqa: F401 - loaded lazily otherwise
from sqlalchemy.orm import configure_mappers

from portal.db.store import Store
from portal.exams.model import ExamContent
from portal.exams.sitting import SittingSession
from portal.paths import DataDir


def text_exam(count: int = 20) -> ExamContent:
    """An exam of `count` text-entry items: any text is an answer, so each can be told apart."""
    return ExamContent.model_validate(
        {
            "exam_id": "kill-test",
            "version": "1",
            "title": {"en": "Killed"},
            "languages": ["en"],
            "duration_s": 3 * 3600,
            "pass_mark": 0.5,
            "sections": [
                {
                    "id": "s",
                    "title": {"en": "S"},
                    "items": [
                        {
                            "id": f"t{n}",
                            "title": f"text {n}",
                            "prompt": {"en": f"Say {n}"},
                            "interaction": {"kind": "text_entry"},
                        }
                        for n in range(count)
                    ],
                }
            ],
        }
    )


configure_mappers()  # once, in the forkserver that preloads this module, not in every child


def answer_until_killed(root: str, round_no: int, acks: Connection) -> None:
    """Reopen the open sitting and save answers "r{round}-{n}" until the parent kills us."""
    store = Store.open(DataDir(Path(root)))
    sitting_id = SittingSession.find_open(store)
    assert sitting_id is not None
    sitting = SittingSession.resume(store, sitting_id, text_exam())
    acks.send(None)  # reopened: the parent's clock for this round's kill starts now
    rng = random.Random(round_no)
    n = 0
    while True:
        number = rng.randrange(1, len(sitting.items) + 1)
        value = [f"r{round_no}-{n}"]
        sitting.save_answer(number, value)
        acks.send((number, value))  # acknowledged: "saved" is what the UI would now show
        n += 1
        if n % 5 == 0:
            sitting.checkpoint()
