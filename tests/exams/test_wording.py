"""Counts and dates in the exam messages follow the user's language: plural forms through
ngettext (never "1 items"), dates through Babel (never ISO)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from portal import i18n
from portal.cli import main
from portal.db.models import Exam
from portal.db.store import Store
from portal.exams.library import MAX_ATTEMPTS, import_package, trust_keys
from portal.exams.model import answer_problem
from portal.exams.package import ExpiredPackageError
from portal.exams.qti import import_qti
from portal.paths import DataDir
from tests.exams.conftest import BuildPackage

QTI = Path(__file__).parent / "qti"


@pytest.fixture
def trusting(data_dir: DataDir, market_key: Ed25519PrivateKey) -> DataDir:
    pem = market_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    trust_keys(data_dir, [pem.decode()], source="https://market.example")
    return data_dir


def test_one_item_in_one_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "exam.json"
    code = main(["--data-dir", str(tmp_path / "d"), "exam", "import-qti",
                 str(QTI / "v21" / "choice_single.xml"), "-o", str(out)])  # fmt: skip
    assert code == 0
    assert f"to {out}: 1 item in 1 section." in capsys.readouterr().out


def test_one_code_try_left(
    trusting: DataDir, make_package: BuildPackage, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.open(trusting) as store:
        pk = import_package(store, make_package())
        with store.session() as session, session.begin():
            session.execute(
                update(Exam).where(Exam.id == pk).values(failed_unlocks=MAX_ATTEMPTS - 1)
            )
    assert main(["--data-dir", str(trusting.root), "exam", "list"]) == 0
    assert ", 1 code try left" in capsys.readouterr().out


def test_at_most_one_choice() -> None:
    item = import_qti(QTI / "v21" / "choice_single.xml").content.items()[0]
    assert answer_problem(item, ["standard", "deployment"]) == "at most 1 choice"


def test_an_expired_package_names_its_date_in_the_users_language(
    trusting: DataDir, make_package: BuildPackage
) -> None:
    expired = make_package(expires_at=datetime(2026, 3, 4, 12, tzinfo=UTC))
    with Store.open(trusting) as store:
        with pytest.raises(ExpiredPackageError) as caught:
            import_package(store, expired)
        assert "expired on March 4, 2026;" in caught.value.message
        i18n.set_locale("ar")
        with pytest.raises(ExpiredPackageError) as caught:
            import_package(store, expired)
    assert "2026-03-04" not in caught.value.message
    assert "مارس" in caught.value.message  # March, as Arabic writes the date
