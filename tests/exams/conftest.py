"""Fixtures for the exam tests: an open store with an exam package row, and a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.db.store import Store
from portal.exams.model import ExamContent
from portal.paths import DataDir
from tests.exams.content import add_exam, exam


class FakeClock:
    """A clock the test moves by hand (monotonic or wall)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def store(data_dir: DataDir) -> Iterator[Store]:
    opened = Store.open(data_dir)
    yield opened
    opened.close()


@pytest.fixture
def content() -> ExamContent:
    return exam()


@pytest.fixture
def exam_pk(store: Store, content: ExamContent) -> int:
    return add_exam(store, content)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_780_000_000.0)
