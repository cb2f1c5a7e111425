"""A passed certification sitting earns a certificate: issued once by the sandbox, fetched by
sync, verified offline; a failed sitting earns none."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db.models import Certificate, Exam
from portal.db.store import Store
from portal.exams.credentials import digest, verify_credential
from portal.exams.library import trusted_keys
from portal.exams.model import ExamContent
from portal.exams.sitting import SittingSession
from portal.exams.submissions import export_submissions, import_submissions
from portal.paths import DataDir
from tests.exams.content import add_exam, exam
from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox, running_sandbox
from tests.sync.test_engine import drain, signed_in
from tests.test_cli import aic

EXAM = exam()


def offered(_session: Session, exam_id: str, version: str) -> ExamContent | None:
    return EXAM if (exam_id, version) == (EXAM.exam_id, EXAM.version) else None


@pytest.fixture(scope="module")
def exam_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("certs"), exam_content=offered) as running:
        yield running


def _sit(store: Store, *, right: bool) -> str:
    """A sitting answered with the keys (right) or with nothing (wrong), submitted."""
    with store.session() as session:
        pk = session.scalar(select(Exam.id).where(Exam.exam_id == EXAM.exam_id))
    sitting = SittingSession.start(
        store,
        exam_pk=pk or add_exam(store, EXAM),
        content=EXAM,
        candidate_name="Amina Diallo",
        partner_id="lagos-ai",
        language="en",
    )
    if right:
        for delivered in sitting.items:
            key = delivered.item.scoring
            assert key is not None
            kind = delivered.item.interaction.kind
            if key.template == "match_correct":
                one = key.correct[:1] if kind == "text_entry" else key.correct
                sitting.save_answer(delivered.number, one)
            elif key.template == "map_response" and key.mapping is not None:
                best = [k for k, v in key.mapping.entries.items() if v > 0]
                sitting.save_answer(delivered.number, best[:1] if kind == "text_entry" else best)
    sealed = sitting.submit()
    sitting.close()
    return sealed.submission_id


def test_a_pass_brings_a_certificate_that_verifies_offline_and_online(
    exam_sandbox: RunningSandbox, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    data_dir = DataDir(tmp_path / "laptop").ensure()
    store = Store.open(data_dir)
    _sit(store, right=True)
    _sit(store, right=False)
    market, tokens = signed_in(exam_sandbox, data_dir, "ada@lagos-ai.example")
    drain(store, market, tokens)

    with store.session() as session:
        [kept] = session.scalars(select(Certificate)).all()
    assert (kept.holder_name, kept.exam_id, kept.passed) == ("Amina Diallo", EXAM.exam_id, True)
    check = verify_credential(kept.document, trusted_keys=trusted_keys(data_dir))
    assert check.genuine, check.problem
    assert check.partner_id != ""  # the organisation the marketplace knows, not typed text
    with httpx.Client(verify=ssl.create_default_context(cafile=exam_sandbox.tls.ca_cert)) as client:
        online = client.get(check.verification_url).json()
    assert online["status"] == "valid"
    assert online["sha256"] == digest(kept.document) == check.digest

    # the same sealed submission again, through a proctor's file: accepted once, no 2nd certificate
    bundle = tmp_path / "sittings.aicsub"
    export_submissions(store, bundle)
    other = Store.open(DataDir(tmp_path / "proctor").ensure())
    import_submissions(other, bundle)
    proctor_market, proctor_tokens = signed_in(
        exam_sandbox, other.data_dir, "tunde@lagos-ai.example"
    )
    drain(other, proctor_market, proctor_tokens)
    with other.session() as session:
        assert [c.certificate_id for c in session.scalars(select(Certificate))] == [
            kept.certificate_id
        ]

    elsewhere = Store.open(DataDir(tmp_path / "qubit").ensure())
    qubit_market, qubit_tokens = signed_in(
        exam_sandbox, elsewhere.data_dir, "lena@qubitforge.example"
    )
    drain(elsewhere, qubit_market, qubit_tokens)
    with elsewhere.session() as session:
        assert session.scalars(select(Certificate)).all() == []  # not another organisation's
    elsewhere.close()

    saved = tmp_path / "certificate.json"
    data = ["--data-dir", str(data_dir.root)]
    listed = aic(*data, "exam", "certificates")
    assert kept.certificate_id in listed.stdout and "Amina Diallo" in listed.stdout
    wrote = aic(*data, "exam", "certificates", "--save", kept.certificate_id, "-o", str(saved))
    assert wrote.returncode == 0, wrote.stderr
    assert json.loads(saved.read_text()) == kept.document
    verified = aic(*data, "cert", "verify", str(saved))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Genuine: signed by the marketplace and unchanged since." in verified.stdout
    store.close()
    other.close()
