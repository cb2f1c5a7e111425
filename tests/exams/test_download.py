"""End to end over real TLS: the sandbox offers exams, the app pins its key, downloads what the
partner is entitled to, imports it and opens it with the sitting code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.auth.oauth import Marketplace, sign_in
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken, no_progress
from portal.cli import main
from portal.db.models import Exam
from portal.db.store import Store
from portal.demo_accounts import DEMO_EXAM_CODE
from portal.exams.library import trusted_key_list, unlock
from portal.exams.package import WrongCodeError
from portal.paths import DataDir
from portal.sandbox.exams import exam_content
from portal.sandbox.store import open_store
from portal.sync.engine import sync
from portal.sync.exams import download_exams, list_offers
from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox, fake_browser

CERTIFICATION = ("aic-platform-associate", "2026.1")
PRACTICE = ("aic-platform-practice", "2026.1")


@pytest.fixture
def store(data_dir: DataDir) -> Iterator[Store]:
    opened = Store.open(data_dir)
    yield opened
    opened.close()


def _signed_in(
    sandbox: RunningSandbox, data_dir: DataDir, email: str
) -> tuple[Marketplace, TokenStore]:
    market = Marketplace(sandbox.url, sandbox.tls.ca_cert)
    tokens = TokenStore(data_dir.keyring_service, market.account)
    sign_in(
        market,
        tokens,
        open_url=fake_browser(sandbox, email=email),
        cancel=CancelToken(),
        timeout=20,
    )
    return market, tokens


def _rows(store: Store) -> dict[tuple[str, str], Exam]:
    with store.session() as session:
        return {(e.exam_id, e.version): e for e in session.scalars(select(Exam))}


def test_download_import_and_unlock(
    sandbox: RunningSandbox, store: Store, memory_keyring: MemoryKeyring
) -> None:
    market, tokens = _signed_in(sandbox, store.data_dir, "ada@lagos-ai.example")

    report = download_exams(store, market, tokens, progress=no_progress, cancel=CancelToken())

    assert sorted(report.downloaded) == [
        "aic-platform-associate 2026.1",
        "aic-platform-practice 2026.1",
    ]
    assert report.errors == []
    assert [k.source for k in trusted_key_list(store.data_dir)] == [sandbox.url]
    rows = _rows(store)
    certification, practice = rows[CERTIFICATION], rows[PRACTICE]
    assert certification.practice_code is None  # the proctor's to give, never sent
    assert practice.practice_code is not None
    with pytest.raises(WrongCodeError):
        unlock(store, certification.id, "WRONG-CODE-1234")
    opened = unlock(store, certification.id, DEMO_EXAM_CODE)
    assert opened.content.exam_id == CERTIFICATION[0]
    assert all(item.scoring is None for item in opened.content.items())
    assert set(opened.content.languages) == {"en", "fr", "ar"}
    assert all(
        item.scoring is not None
        for item in unlock(store, practice.id, practice.practice_code).content.items()
    )

    again = download_exams(store, market, tokens, progress=no_progress, cancel=CancelToken())
    assert (again.downloaded, again.unchanged) == ([], 2)


def test_another_partners_exam_is_neither_listed_nor_downloaded(
    sandbox: RunningSandbox, store: Store, memory_keyring: MemoryKeyring
) -> None:
    market, tokens = _signed_in(sandbox, store.data_dir, "lena@qubitforge.example")

    offers = list_offers(market, tokens, cancel=CancelToken())
    report = download_exams(store, market, tokens, progress=no_progress, cancel=CancelToken())

    assert [(o.exam_id, o.version) for o in offers] == [PRACTICE]
    assert report.downloaded == ["aic-platform-practice 2026.1"]
    assert list(_rows(store)) == [PRACTICE]
    with market.client() as client:
        from portal.auth.oauth import access_token

        bearer = access_token(market, tokens)
        answer = client.get(
            "/v1/exams/aic-platform-associate/2026.1/package",
            headers={"Authorization": f"Bearer {bearer}"},
        )
    assert answer.status_code == 404


def test_a_sync_downloads_the_exams_too(
    sandbox: RunningSandbox, store: Store, memory_keyring: MemoryKeyring
) -> None:
    market, tokens = _signed_in(sandbox, store.data_dir, "sari@jakarta-edge.example")

    report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())

    assert sorted(report.exams_downloaded) == [
        "aic-platform-associate 2026.1",
        "aic-platform-practice 2026.1",
    ]


def test_sandbox_exam_add_keeps_the_keys_and_offers_it_to_whom_it_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    database = f"sqlite:///{tmp_path / 'market.sqlite3'}"
    sessions = open_store(database)
    from portal.sandbox.seed import seed_demo

    seed_demo(sessions)
    qti = Path(__file__).parent / "qti" / "v21"

    code = main(["--data-dir", str(data), "sandbox", "exam", "add", str(qti), "--db", database,
                 "--code", "QTI-SAMPLE-CODE", "--partner", "Qubit Forge"])  # fmt: skip

    assert code == 0
    out = capsys.readouterr().out
    assert "certification exam qti21-sample 1" in out and "QTI-SAMPLE-CODE" in out
    with sessions() as session:
        content = exam_content(session, "qti21-sample", "1")
        assert content is not None
        assert content.item("choice-single").scoring is not None  # the sandbox scores with it
        assert exam_content(session, "no-such-exam", "1") is None
        from portal.sandbox.store import ExamEntitlement, Organisation, SandboxExam

        entitled = session.scalars(
            select(Organisation.name)
            .join(ExamEntitlement, ExamEntitlement.organisation_id == Organisation.id)
            .join(SandboxExam, SandboxExam.id == ExamEntitlement.exam_pk)
            .where(SandboxExam.exam_id == "qti21-sample")
        ).all()
    assert entitled == ["Qubit Forge"]

    hotspot = qti.parent / "unsupported" / "hotspot.xml"
    bad = main(["--data-dir", str(data), "sandbox", "exam", "add", str(hotspot), "--db", database])
    assert bad == 1
    assert "selectPointInteraction is not supported" in capsys.readouterr().err
    with sessions() as session:
        assert exam_content(session, "hotspot", "1") is None


def test_inspect_and_import_from_the_command_line(
    sandbox: RunningSandbox,
    store: Store,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    market, tokens = _signed_in(sandbox, store.data_dir, "ada@lagos-ai.example")
    download_exams(store, market, tokens, progress=no_progress, cancel=CancelToken())
    package = _rows(store)[CERTIFICATION].package_path
    other = DataDir(tmp_path / "laptop").ensure()  # a sitting laptop that never goes online
    root = ["--data-dir", str(other.root)]

    assert main([*root, "exam", "inspect", package]) == 1
    assert "not a marketplace key this app trusts" in capsys.readouterr().err
    key_file = tmp_path / "marketplace.pub"
    key_file.write_text(
        json.loads((store.data_dir.root / "marketplace-keys.json").read_text())["keys"][0][
            "public_key"
        ]
    )
    assert main([*root, "exam", "trust-key", str(key_file)]) == 0
    assert main([*root, "exam", "inspect", package]) == 0
    shown = capsys.readouterr().out
    assert (
        "AIC-Platform Certified Associate" in shown and "Signature:" in shown and "valid" in shown
    )
    assert "Which kind" not in shown
    assert main([*root, "exam", "import", package]) == 0
    assert "Imported AIC-Platform Certified Associate 2026.1" in capsys.readouterr().out
