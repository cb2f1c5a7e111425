"""Sealed submissions against the real sandbox over TLS: queued and synced, or exported to a file
and imported on a computer that syncs, in either order, accepted once; a tampered seal, journal
or answer refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.oauth import Marketplace, access_token
from portal.auth.tokens import TokenStore
from portal.db.enums import OutboxState, SittingState
from portal.db.models import Exam, ExamResult, OutboxItem, Sitting
from portal.db.store import Store
from portal.errors import InputError
from portal.exams.device_key import device_key
from portal.exams.model import ExamContent
from portal.exams.scoring import score
from portal.exams.seal import Submission, open_sealed, seal
from portal.exams.sitting import SealedSubmission, SittingClosedError, SittingSession
from portal.exams.submissions import (
    export_submissions,
    import_submissions,
    list_results,
)
from portal.paths import DataDir
from portal.plugins.dsse import public_key_from_pem
from tests.exams.content import add_exam, exam
from tests.keyrings import FileKeyring, MemoryKeyring
from tests.sandbox_server import RunningSandbox, running_sandbox
from tests.sync.test_engine import drain, signed_in
from tests.test_cli import aic

EXAM = exam()
SUBMISSIONS = "/v1/exams/submissions"


def offered(_session: Session, exam_id: str, version: str) -> ExamContent | None:
    return EXAM if (exam_id, version) == (EXAM.exam_id, EXAM.version) else None


@pytest.fixture(scope="module")
def exam_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """A sandbox that offers EXAM (with its keys) to score against."""
    with running_sandbox(tmp_path_factory.mktemp("exams"), exam_content=offered) as running:
        yield running


def open_store(root: Path) -> Store:
    return Store.open(DataDir(root).ensure())


def sit(store: Store, *, name: str = "Ada Obi") -> SealedSubmission:
    """A sitting with some right and some wrong answers, submitted."""
    with store.session() as session:
        pk = session.scalar(select(Exam.id).where(Exam.exam_id == EXAM.exam_id))
    sitting = SittingSession.start(
        store,
        exam_pk=pk or add_exam(store, EXAM),
        content=EXAM,
        candidate_name=name,
        partner_id="lagos-ai",
        language="en",
    )
    number = {d.item.id: d.number for d in sitting.items}
    sitting.save_answer(number["single"], ["b"])
    sitting.save_answer(number["multi"], ["a", "c"])
    sitting.save_answer(number["multi"], ["a"])
    sitting.save_answer(number["match"], ["s1 t2", "s2 t1"])
    sitting.save_answer(number["essay"], ["Keys live in the keyring."])
    sitting.set_flag(number["order"], True)
    sealed = sitting.submit()
    sitting.close()
    return sealed


def server_results(market: Marketplace, tokens: TokenStore) -> list[dict[str, object]]:
    with market.client() as client:
        answer = client.get(
            SUBMISSIONS, headers={"Authorization": f"Bearer {access_token(market, tokens)}"}
        )
    assert answer.status_code == 200, answer.text
    results: list[dict[str, object]] = answer.json()["results"]
    return results


def post(
    market: Marketplace, tokens: TokenStore, body: dict[str, object], key: str
) -> httpx.Response:
    with market.client() as client:
        return client.post(
            SUBMISSIONS,
            json=body,
            headers={
                "Authorization": f"Bearer {access_token(market, tokens)}",
                "Idempotency-Key": key,
            },
        )


def test_a_submission_is_sealed_queued_synced_scored_and_its_result_fetched(
    exam_sandbox: RunningSandbox, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    store = open_store(tmp_path / "laptop")
    sealed = sit(store)
    with store.session() as session:
        row = session.get(Sitting, sealed.sitting_id)
        assert row is not None and row.state == SittingState.SUBMITTED
        items = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        assert [i.resource for i in items] == [
            f"device-key/{sealed.key_id}",
            f"exam-submission/{sealed.submission_id}",
        ]
        assert items[1].payload["after"] == items[0].id
    with pytest.raises(SittingClosedError):
        SittingSession.resume(store, sealed.sitting_id, EXAM).save_answer(1, [])
    assert SittingSession.find_open(store) is None
    market, tokens = signed_in(exam_sandbox, store.data_dir, "ada@lagos-ai.example")
    drain(store, market, tokens)
    mine = [r for r in server_results(market, tokens) if r["submission_id"] == sealed.submission_id]
    assert len(mine) == 1
    payload = json.loads(base64.b64decode(sealed.envelope["payload"]))
    expected = score(EXAM, payload["answers"], delivered=payload["delivered"])
    assert mine[0]["score"] == expected.score == 1 + 1.5 + 2
    assert mine[0]["pending_manual"] == ["essay"]
    results = list_results(store)
    assert [
        (r.submission_id, r.score, r.max_score, r.pending_manual, r.final) for r in results
    ] == [(sealed.submission_id, expected.score, expected.max_score, 1, True)]
    store.close()


@pytest.mark.parametrize("first", ["exported", "synced"])
def test_export_and_import_or_sync_in_either_order_is_accepted_once(
    exam_sandbox: RunningSandbox, tmp_path: Path, memory_keyring: MemoryKeyring, first: str
) -> None:
    offline = open_store(tmp_path / "offline-laptop")
    sealed = [sit(offline, name="Sari Wijaya"), sit(offline, name="Tunde Bello")]
    exported = tmp_path / "usb" / "submissions.json"
    exported.parent.mkdir()
    assert export_submissions(offline, exported) == 2
    proctor = open_store(tmp_path / "proctor")
    market, tokens = signed_in(exam_sandbox, proctor.data_dir, "tunde@lagos-ai.example")
    ids = {s.submission_id for s in sealed}

    def by_export() -> None:
        report = import_submissions(proctor, exported)
        assert sorted(report.queued) == sorted(ids) and report.already_here == []
        again = import_submissions(proctor, exported)  # a second import queues nothing
        assert again.queued == [] and sorted(again.already_here) == sorted(ids)
        drain(proctor, market, tokens)

    def by_sync() -> None:
        laptop_market, laptop_tokens = signed_in(
            exam_sandbox, offline.data_dir, "ada@lagos-ai.example"
        )
        drain(offline, laptop_market, laptop_tokens)

    for path in (by_export, by_sync) if first == "exported" else (by_sync, by_export):
        path()
    for store in (offline, proctor):
        with store.session() as session:
            states = session.scalars(
                select(OutboxItem.state).where(OutboxItem.resource.like("exam-submission/%"))
            ).all()
            assert states and set(states) == {OutboxState.DELIVERED}
    results = [r for r in server_results(market, tokens) if r["submission_id"] in ids]
    assert sorted(str(r["submission_id"]) for r in results) == sorted(ids)  # once each
    assert {str(r["candidate_name"]) for r in results} == {"Sari Wijaya", "Tunde Bello"}
    offline.close()
    proctor.close()


def test_a_tampered_submission_is_refused(
    exam_sandbox: RunningSandbox, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    store = open_store(tmp_path / "laptop")
    sealed = sit(store)
    market, tokens = signed_in(exam_sandbox, store.data_dir, "ada@lagos-ai.example")
    drain(store, market, tokens)  # registers the device key; the real one is accepted
    envelope = sealed.envelope
    payload = json.loads(base64.b64decode(envelope["payload"]))

    def with_payload(changed: dict[str, object]) -> dict[str, object]:
        text = json.dumps(changed).encode()
        return {**envelope, "payload": base64.b64encode(text).decode()}

    better = {**payload, "answers": {**payload["answers"], "order": ["x", "w", "z", "y"]}}
    answer = post(
        market,
        tokens,
        {"submission_id": sealed.submission_id, "envelope": with_payload(better)},
        "tamper-1",
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert "seal does not match" in answer.json()["detail"]

    # re-sealed by the real device key, but the answers are not the journal's last state
    key = device_key(store.data_dir)
    opened = open_sealed(envelope, key.private.public_key())
    forged = Submission(**{**opened.__dict__, "submission_id": opened.submission_id})
    forged = Submission(
        **{**forged.__dict__, "answers": {**opened.answers, "order": ["x", "w", "z", "y"]}}
    )
    answer = post(
        market,
        tokens,
        {"submission_id": sealed.submission_id, "envelope": seal(forged, key.private)},
        "tamper-2",
    )
    assert answer.status_code == 422
    assert "final answers are not the journal's last state" in answer.json()["detail"]

    # an entry dropped from the journal, re-sealed: the chain shows it
    cut = Submission(**{**opened.__dict__, "journal": opened.journal[1:]})
    answer = post(
        market,
        tokens,
        {"submission_id": sealed.submission_id, "envelope": seal(cut, key.private)},
        "tamper-3",
    )
    assert answer.status_code == 422 and "journal does not hold" in answer.json()["detail"]

    # the same id with other contents, consistently sealed, is not a second acceptance
    other = Submission(**{**opened.__dict__, "candidate_name": "Someone Else", "journal": []})
    other = Submission(**{**other.__dict__, "answers": {}, "flagged": []})
    answer = post(
        market,
        tokens,
        {"submission_id": sealed.submission_id, "envelope": seal(other, key.private)},
        "tamper-4",
    )
    assert answer.status_code == 409, answer.text

    # sealed by a key nobody registered
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = Ed25519PrivateKey.generate()
    answer = post(
        market,
        tokens,
        {"submission_id": sealed.submission_id, "envelope": seal(opened, stranger)},
        "tamper-5",
    )
    assert answer.status_code == 422 and "not registered" in answer.json()["detail"]

    # an exported file with a changed byte: that submission is refused, naming it
    exported = tmp_path / "out.json"
    export_submissions(store, exported)
    document = json.loads(exported.read_text())
    document["submissions"][0]["envelope"] = with_payload(better)
    exported.write_text(json.dumps(document))
    proctor = open_store(tmp_path / "proctor")
    report = import_submissions(proctor, exported)
    assert report.queued == [] and report.already_here == []
    assert [(r.position, r.submission_id) for r in report.refused] == [(1, sealed.submission_id)]
    assert "seal does not match" in report.refused[0].problem
    with proctor.session() as session:
        assert session.scalars(select(OutboxItem)).all() == []
    assert (
        len(
            [
                r
                for r in server_results(market, tokens)
                if r["submission_id"] == sealed.submission_id
            ]
        )
        == 1
    )
    proctor.close()
    store.close()


def test_a_device_key_of_another_organisation_is_refused(
    exam_sandbox: RunningSandbox, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    store = open_store(tmp_path / "laptop")
    sealed = sit(store)
    market, tokens = signed_in(exam_sandbox, store.data_dir, "ada@lagos-ai.example")
    drain(store, market, tokens)
    elsewhere = open_store(tmp_path / "elsewhere")
    other_market, other_tokens = signed_in(
        exam_sandbox, elsewhere.data_dir, "lena@qubitforge.example"
    )
    answer = post(
        other_market,
        other_tokens,
        {"submission_id": sealed.submission_id, "envelope": sealed.envelope},
        "foreign-1",
    )
    assert answer.status_code == 422 and "not registered to your organisation" in answer.text
    key = public_key_from_pem(device_key(store.data_dir).public_pem.encode(), "key")
    assert open_sealed(sealed.envelope, key).submission_id == sealed.submission_id
    elsewhere.close()
    store.close()


def test_one_bad_submission_does_not_keep_the_others_out(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    offline = open_store(tmp_path / "offline")
    sealed = [sit(offline, name=name) for name in ("Ada Obi", "Sari Wijaya", "Tunde Bello")]
    exported = tmp_path / "usb.json"
    export_submissions(offline, exported)
    document = json.loads(exported.read_text())
    entries = document["submissions"]
    payload = json.loads(base64.b64decode(entries[1]["envelope"]["payload"]))
    payload["candidate_name"] = "Someone Else"  # corrupted on the stick: the seal shows it
    entries[1]["envelope"]["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    entries.append({"envelope": {"payload": "%%%"}, "device_public_key": "not a key"})
    entries.append("nonsense")
    exported.write_text(json.dumps(document))

    proctor = open_store(tmp_path / "proctor")
    report = import_submissions(proctor, exported)
    assert sorted(report.queued) == sorted([sealed[0].submission_id, sealed[2].submission_id])
    assert [(r.position, r.submission_id) for r in report.refused] == [
        (2, sealed[1].submission_id),
        (4, None),
        (5, None),
    ]
    problems = [r.describe() for r in report.refused]
    assert problems[0] == (
        f"submission 2 ({sealed[1].submission_id}): the seal does not match the submission: "
        "it was changed or not signed by this device"
    )
    assert problems[1] == "submission 4: its device key is not a PEM public key."
    assert problems[2] == "submission 5: it carries no device key"
    with proctor.session() as session:
        resources = session.scalars(
            select(OutboxItem.resource).where(OutboxItem.resource.like("exam-submission/%"))
        ).all()
    assert sorted(resources) == sorted(f"exam-submission/{s}" for s in report.queued)

    again = import_submissions(proctor, exported)  # the good ones are here; the bad still named
    assert again.queued == [] and sorted(again.already_here) == sorted(report.queued)
    assert [r.position for r in again.refused] == [2, 4, 5]
    proctor.close()
    offline.close()

    data = ["--data-dir", str(tmp_path / "cli-proctor")]
    done = aic(*data, "exam", "import-submissions", str(exported))
    assert done.returncode == 1, done.stderr
    assert "Queued 2 submissions; `aic-portal sync` sends them." in done.stdout
    assert f"Refused submission 2 ({sealed[1].submission_id}): the seal does not match" in (
        done.stderr
    )
    assert "3 submissions do not hold and were not imported." in done.stderr
    assert "Traceback" not in done.stderr
    del entries[1:]
    exported.write_text(json.dumps(document))
    done = aic(*data, "exam", "import-submissions", str(exported))  # all good, already here
    assert done.returncode == 0, done.stderr
    assert "1 was already here" in done.stdout and done.stderr == ""


def test_results_are_named_by_the_title_of_the_exam_here(data_dir: DataDir) -> None:
    with Store.open(data_dir) as store:
        add_exam(store, EXAM)
        with store.session() as session, session.begin():
            for n, version in enumerate([EXAM.version, "0.9"]):
                session.add(
                    ExamResult(
                        submission_id=f"s{n}",
                        exam_id=EXAM.exam_id,
                        exam_version=version,
                        candidate_name="Ada Obi",
                        score=3.0,
                        max_score=4.0,
                        passed=True,
                        pending_manual=0,
                        report={"final": True},
                        scored_at=datetime(2026, 5, 1 + n, tzinfo=UTC),
                    )
                )
        found = list_results(store)
    assert [(r.exam_version, r.exam_title) for r in found] == [
        ("0.9", EXAM.exam_id),  # no package of that version here
        (EXAM.version, EXAM.title["en"]),
    ]
    done = aic("--data-dir", str(data_dir.root), "exam", "results")
    assert done.returncode == 0, done.stderr
    assert f"Ada Obi  {EXAM.title['en']} {EXAM.version}  3/4 (75%)  passed" in done.stdout


def test_import_refuses_a_file_that_is_not_one(tmp_path: Path, data_dir: DataDir) -> None:
    with Store.open(data_dir) as store:
        bad = tmp_path / "bad.json"
        bad.write_text("{not json")
        with pytest.raises(InputError, match="is not a file of sealed submissions: it is not JSON"):
            import_submissions(store, bad)
        bad.write_text(json.dumps({"format": "something-else"}))
        with pytest.raises(InputError, match="does not say aic-exam-submissions/1"):
            import_submissions(store, bad)
        with pytest.raises(InputError, match="cannot be read"):
            import_submissions(store, tmp_path / "missing.json")


def test_export_import_sync_and_results_from_the_command_line(
    exam_sandbox: RunningSandbox,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offline = open_store(tmp_path / "offline")
    sealed = sit(offline, name="Lena Vogel")
    offline.close()
    proctor = DataDir(tmp_path / "proctor").ensure()
    signed_in(exam_sandbox, proctor, "ada@lagos-ai.example")
    monkeypatch.setenv("AIC_TEST_KEYRING", str(tmp_path / "keyring.json"))
    shared = FileKeyring()
    for (service, account), secret in memory_keyring.entries.items():
        shared.set_password(service, account, secret)
    settings = {"marketplace_url": exam_sandbox.url, "ca_bundle": str(exam_sandbox.tls.ca_cert)}
    proctor.settings.write_text(json.dumps(settings))
    env = {"PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring"}
    usb = tmp_path / "usb.json"

    done = aic(
        "--data-dir", str(tmp_path / "offline"), "exam", "export-submissions", "-o", str(usb)
    )
    assert done.returncode == 0 and f"Wrote 1 sealed submission to {usb}." in done.stdout
    data = ["--data-dir", str(proctor.root)]
    done = aic(*data, "exam", "results", env=env)
    assert "No results yet" in done.stdout
    done = aic(*data, "exam", "import-submissions", str(usb), env=env)
    assert done.returncode == 0, done.stderr
    assert "Queued 1 submission; `aic-portal sync` sends it." in done.stdout
    done = aic(*data, "exam", "import-submissions", str(usb), env=env)
    assert "Queued 0 submissions" in done.stdout and "1 was already here" in done.stdout
    done = aic(*data, "sync", env=env)
    assert done.returncode == 0, done.stderr
    assert "Delivered 2;" in done.stdout  # the device key, then the submission
    assert "1 exam result arrived" in done.stdout
    done = aic(*data, "exam", "results", env=env)
    assert "Lena Vogel  aic-core 1.0  4.5/21 (21%)  not passed (1 item awaits manual" in (
        done.stdout
    ), done.stdout
    usb.write_text("[]")
    done = aic(*data, "exam", "import-submissions", str(usb), env=env)
    assert done.returncode == 1
    assert f"Error: {usb} is not a file of sealed submissions" in done.stderr
    assert sealed.submission_id
