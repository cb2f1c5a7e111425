"""Importing packages into the data dir, the keys they are checked with, and the code limit."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from portal.db.models import Exam, Sitting
from portal.db.store import Store
from portal.errors import InputError, StorageError
from portal.exams.library import (
    EMBEDDED_SANDBOX_KEY,
    MAX_ATTEMPTS,
    LockedPackageError,
    attempts_left,
    exams_folder,
    import_package,
    reset_attempts,
    set_practice_code,
    trust_keys,
    trusted_key_list,
    unlock,
)
from portal.exams.package import (
    DamagedPackageError,
    ExpiredPackageError,
    UntrustedPackageError,
    WrongCodeError,
)
from portal.paths import DataDir
from tests.exams.conftest import CODE, BuildPackage
from tests.exams.samples import sample_exam

WRONG = "AAAA-BBBB-CCCC"


def _pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def store(data_dir: DataDir, market_key: Ed25519PrivateKey) -> Store:
    trust_keys(data_dir, [_pem(market_key)], source="https://market.example")
    with Store.open(data_dir) as opened:
        return opened


def test_import_keeps_a_verified_copy_and_records_the_exam(
    store: Store, make_package: BuildPackage
) -> None:
    source = make_package()

    pk = import_package(store, source)

    kept = exams_folder(store.data_dir) / "aic-sample-1.0.aicexam"
    assert kept.read_bytes() == source.read_bytes()
    assert [p.name for p in exams_folder(store.data_dir).iterdir()] == [kept.name]
    with store.session() as session:
        row = session.get(Exam, pk)
        assert row is not None
        assert (row.title, row.languages, row.practice, row.failed_unlocks) == (
            "Sample exam",
            ["en", "fr"],
            False,
            0,
        )
        assert row.package_path == str(kept) and row.expires_at is not None
    assert import_package(store, source) == pk  # the same package again: nothing changes


def test_import_title_follows_the_language(store: Store, make_package: BuildPackage) -> None:
    from portal import i18n

    i18n.set_locale("fr")
    pk = import_package(store, make_package())
    with store.session() as session:
        assert session.get(Exam, pk).title == "Examen d’essai"  # type: ignore[union-attr]


def test_a_refused_import_writes_nothing(store: Store, make_package: BuildPackage) -> None:
    path = make_package()
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(DamagedPackageError):
        import_package(store, path)
    folder = exams_folder(store.data_dir)
    assert not folder.exists() or list(folder.iterdir()) == []
    with store.session() as session:
        assert session.scalars(select(Exam)).all() == []


def test_import_refuses_untrusted_and_expired_packages(
    store: Store, make_package: BuildPackage
) -> None:
    with pytest.raises(UntrustedPackageError):
        import_package(store, make_package(key=Ed25519PrivateKey.generate()))
    with pytest.raises(ExpiredPackageError):
        import_package(store, make_package(expires_at=datetime.now(UTC) - timedelta(seconds=1)))


def test_a_killed_import_leaves_the_old_package_whole(
    store: Store, make_package: BuildPackage, tmp_path: Path
) -> None:
    """The copy is written beside the kept package and renamed over it only when complete."""
    first = make_package(name="first.aicexam")
    import_package(store, first)
    kept = exams_folder(store.data_dir) / "aic-sample-1.0.aicexam"
    second = make_package(name="second.aicexam")
    big = tmp_path / "slow.aicexam"
    big.write_bytes(second.read_bytes())
    code = (
        "import os, sys, signal\n"
        "from pathlib import Path\n"
        "import portal.exams.library as library\n"
        "from portal.db.store import Store\n"
        "from portal.paths import DataDir\n"
        "real = library._copy\n"
        "def dying(*args):\n"
        "    real(*args)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "library._copy = dying\n"
        f"store = Store.open(DataDir(Path({str(store.data_dir.root)!r})))\n"
        f"library.import_package(store, Path({str(big)!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
        timeout=60,
        check=False,
    )

    assert done.returncode == -9
    assert kept.read_bytes() == first.read_bytes()
    leftovers = [p.name for p in exams_folder(store.data_dir).iterdir() if p != kept]
    assert all(name.startswith(".import.") for name in leftovers)  # a private temp, never used


def test_a_package_with_sittings_is_not_replaced(store: Store, make_package: BuildPackage) -> None:
    first = make_package(name="first.aicexam")
    pk = import_package(store, first)
    with store.session() as session, session.begin():
        session.add(
            Sitting(exam_pk=pk, candidate_name="Ada", partner_id="p1", language="en", seed=1)
        )

    with pytest.raises(InputError, match="has sittings"):
        import_package(store, make_package(name="second.aicexam"))
    assert import_package(store, first) == pk  # the package it has: fine
    kept = exams_folder(store.data_dir) / "aic-sample-1.0.aicexam"
    assert kept.read_bytes() == first.read_bytes()


def test_unlock_opens_with_the_right_code(store: Store, make_package: BuildPackage) -> None:
    pk = import_package(store, make_package())

    opened = unlock(store, pk, CODE.lower())

    assert opened.content.exam_id == "aic-sample"
    assert attempts_left(store, pk) == MAX_ATTEMPTS


def test_wrong_codes_are_limited_and_survive_a_restart(
    store: Store, make_package: BuildPackage
) -> None:
    pk = import_package(store, make_package())
    for left in range(MAX_ATTEMPTS - 1, 0, -1):
        with pytest.raises(WrongCodeError, match=f"{left} more tr"):
            unlock(store, pk, WRONG)
    store.close()
    reopened = Store.open(store.data_dir)  # as after restarting the app

    with pytest.raises(LockedPackageError, match="Ask the proctor"):
        unlock(reopened, pk, WRONG)
    with pytest.raises(LockedPackageError):
        unlock(reopened, pk, CODE)  # locked: even the right code waits for the proctor
    assert attempts_left(reopened, pk) == 0

    reset_attempts(reopened, pk)
    assert unlock(reopened, pk, CODE).content.exam_id == "aic-sample"


def test_reimporting_does_not_clear_the_count(store: Store, make_package: BuildPackage) -> None:
    pk = import_package(store, make_package(name="a.aicexam"))
    with pytest.raises(WrongCodeError):
        unlock(store, pk, WRONG)

    assert import_package(store, make_package(name="b.aicexam")) == pk
    assert attempts_left(store, pk) == MAX_ATTEMPTS - 1


def test_a_right_code_clears_earlier_wrong_ones(store: Store, make_package: BuildPackage) -> None:
    pk = import_package(store, make_package())
    for _n in range(MAX_ATTEMPTS - 1):
        with pytest.raises(WrongCodeError):
            unlock(store, pk, WRONG)

    unlock(store, pk, CODE)
    assert attempts_left(store, pk) == MAX_ATTEMPTS


def test_a_damaged_kept_file_costs_no_attempt(store: Store, make_package: BuildPackage) -> None:
    pk = import_package(store, make_package())
    kept = exams_folder(store.data_dir) / "aic-sample-1.0.aicexam"
    data = bytearray(kept.read_bytes())
    data[-1] ^= 1
    kept.write_bytes(bytes(data))

    with pytest.raises(DamagedPackageError):
        unlock(store, pk, CODE)
    assert attempts_left(store, pk) == MAX_ATTEMPTS


def test_a_synced_practice_exam_opens_with_its_stored_code_and_no_try_counted(
    store: Store, make_package: BuildPackage
) -> None:
    pk = import_package(store, make_package(sample_exam(practice=True)))
    set_practice_code(store, pk, CODE)  # as portal.sync.exams keeps the listed code

    for _n in range(MAX_ATTEMPTS + 1):  # an empty code is never a wrong try here
        assert unlock(store, pk, "").content.practice
    assert attempts_left(store, pk) == MAX_ATTEMPTS
    with pytest.raises(WrongCodeError, match="4 more tries"):
        unlock(store, pk, WRONG)  # a typed code is still checked as typed


def test_a_stale_stored_practice_code_says_so_without_counting(
    store: Store, make_package: BuildPackage
) -> None:
    pk = import_package(store, make_package(sample_exam(practice=True)))
    set_practice_code(store, pk, WRONG)

    with pytest.raises(WrongCodeError, match="Sync again"):
        unlock(store, pk, "")
    assert attempts_left(store, pk) == MAX_ATTEMPTS


def test_a_certification_exam_never_uses_a_stored_code(
    store: Store, make_package: BuildPackage
) -> None:
    pk = import_package(store, make_package())
    set_practice_code(store, pk, CODE)  # refused for a certification exam: nothing is kept

    with pytest.raises(WrongCodeError, match="4 more tries"):
        unlock(store, pk, "")


def test_unknown_exam(store: Store) -> None:
    with pytest.raises(InputError, match="no exam 42"):
        unlock(store, 42, CODE)


def test_trusted_keys_come_from_the_kept_file_and_the_embedded_sandbox(
    data_dir: DataDir, market_key: Ed25519PrivateKey
) -> None:
    sandbox_key = Ed25519PrivateKey.generate()
    path = data_dir.root / EMBEDDED_SANDBOX_KEY
    path.parent.mkdir(parents=True)
    path.write_text(_pem(sandbox_key))

    assert trust_keys(data_dir, [_pem(market_key)], source="https://m.example") != []
    assert trust_keys(data_dir, [_pem(market_key)], source="https://m.example") == []

    sources = [k.source for k in trusted_key_list(data_dir)]
    assert sources == ["https://m.example", "the embedded sandbox"]


def test_a_damaged_keys_file_is_named(data_dir: DataDir) -> None:
    (data_dir.root / "marketplace-keys.json").write_text("{not json")

    with pytest.raises(StorageError, match=r"marketplace-keys\.json"):
        trusted_key_list(data_dir)
