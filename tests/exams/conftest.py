"""Fixtures for the exam tests: a marketplace key and a package builder with a cheap scrypt cost
(so tests stay quick); an open store with an exam package row, and a fake clock for sittings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.db.store import Store
from portal.exams.model import ExamContent
from portal.exams.package import build_package
from portal.paths import DataDir
from tests.exams.content import add_exam, exam
from tests.exams.samples import MEDIA, sample_exam

CODE = "7K4Q-M2XD-P9TB"
FAST_KDF = 2**14  # the lowest cost a package may ask for; real packages use KDF_N

BuildPackage = Callable[..., Path]


@pytest.fixture
def market_key() -> Ed25519PrivateKey:
    """The marketplace's signing key in these tests."""
    return Ed25519PrivateKey.generate()


@pytest.fixture
def make_package(tmp_path: Path, market_key: Ed25519PrivateKey) -> BuildPackage:
    """Build a package of `content` (the sample exam by default) under tmp_path."""

    def build(
        content: ExamContent | None = None,
        *,
        name: str = "sample.aicexam",
        expires_at: datetime | None = None,
        code: str = CODE,
        key: Ed25519PrivateKey | None = None,
    ) -> Path:
        return build_package(
            content or sample_exam(),
            code=code,
            signing_key=key or market_key,
            out=tmp_path / name,
            expires_at=expires_at or datetime.now(UTC) + timedelta(days=30),
            media=MEDIA,
            kdf_n=FAST_KDF,
        )

    return build


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
