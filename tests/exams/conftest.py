"""A marketplace key and a package builder with a cheap scrypt cost, so tests stay quick."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.exams.model import ExamContent
from portal.exams.package import build_package
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
