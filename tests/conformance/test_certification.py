"""Certification against the real sandbox over TLS: a challenged run is certified after sync; a
tampered report, a foreign key and a reused challenge are refused in words; an offline run is
unchallenged and cannot be certified."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.auth.oauth import Marketplace
from portal.auth.tokens import TokenStore
from portal.conformance.challenge import Challenge
from portal.conformance.report import write_reports
from portal.conformance.runner import run_profile
from portal.conformance.runs import RunSummary, list_runs, record_run
from portal.conformance.submit import fetch_challenge, queue_submission
from portal.db.enums import Certification, OutboxState
from portal.db.models import OutboxItem
from portal.db.store import Store
from portal.paths import DataDir
from portal.plugins.attestation import file_sha256
from portal.plugins.keys import generate_signing_key, load_signing_key
from portal.sync.outbox import FileToUpload, enqueue
from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox
from tests.sync.test_engine import drain, signed_in

REPORTS = "/v1/conformance/reports"


@pytest.fixture
def store(data_dir: DataDir) -> Iterator[Store]:
    opened = Store.open(data_dir)
    yield opened
    opened.close()


@pytest.fixture
def market(
    sandbox: RunningSandbox, data_dir: DataDir, memory_keyring: MemoryKeyring
) -> tuple[Marketplace, TokenStore]:
    signed = signed_in(sandbox, data_dir, "lena@qubitforge.example")
    generate_signing_key(data_dir)
    return signed


def run_and_record(
    store: Store,
    folder: Path,
    challenge: Challenge | None,
    *,
    only: str | None = None,
    key: Ed25519PrivateKey | None = None,
) -> int:
    outcome = run_profile("cpu-reference", "tensor-core-v1", seed=3, only=only, challenge=challenge)
    write_reports(outcome, folder, key=key or load_signing_key(store.data_dir))
    return record_run(store, outcome, report_dir=folder)


def shown(store: Store, run_id: int) -> RunSummary:
    return next(run for run in list_runs(store) if run.id == run_id)


def queue_unchecked(store: Store, folder: Path) -> int:
    """Queue a report as a modified client could, skipping this app's own verification."""
    report, signature = folder / "report.json", folder / "report.dsse.json"
    with store.session() as session, session.begin():
        item = enqueue(
            session,
            resource=f"conformance-report/{file_sha256(report)}",
            method="POST",
            path=REPORTS,
            body={},
            uploads={
                "report_upload": FileToUpload(report, file_sha256(report)),
                "signature_upload": FileToUpload(signature, file_sha256(signature)),
            },
        )
        session.flush()
        return item.id


def refusal(store: Store, item_id: int) -> str:
    with store.session() as session:
        item = session.get(OutboxItem, item_id)
        assert item is not None and item.state == OutboxState.FAILED
        return item.last_error or ""


def test_a_challenged_run_is_certified_after_sync(
    market: tuple[Marketplace, TokenStore], store: Store, tmp_path: Path
) -> None:
    challenge = fetch_challenge(*market)
    assert len(challenge.nonce) == 64
    run_id = run_and_record(store, tmp_path / "run", challenge)
    report = json.loads((tmp_path / "run" / "report.json").read_bytes())
    assert report["challenge"]["id"] == challenge.id
    assert report["challenge"]["nonce"] == challenge.nonce

    queue_submission(store, tmp_path / "run")
    assert shown(store, run_id).certification == Certification.SUBMITTED
    drain(store, *market)

    run = shown(store, run_id)
    assert (run.certification, run.certification_detail) == (Certification.CERTIFIED, None)


def test_a_reused_challenge_is_refused_and_shown_in_words(
    market: tuple[Marketplace, TokenStore], store: Store, tmp_path: Path
) -> None:
    challenge = fetch_challenge(*market)
    first = run_and_record(store, tmp_path / "first", challenge)
    again = run_and_record(store, tmp_path / "again", challenge, only="matmul.*")
    queue_submission(store, tmp_path / "first")
    queue_submission(store, tmp_path / "again")  # this app cannot know; the marketplace does
    drain(store, *market)

    assert shown(store, first).certification == Certification.CERTIFIED
    refused = shown(store, again)
    assert refused.certification == Certification.REFUSED
    assert refused.certification_detail == (
        f"HTTP 409: The challenge {challenge.id} was already used by another report; each run "
        "needs a challenge of its own: run the profile again."
    )


def test_tampered_and_foreign_reports_are_refused(
    market: tuple[Marketplace, TokenStore], store: Store, tmp_path: Path
) -> None:
    queue_submission(store, _fresh(store, market, tmp_path / "registers-the-key"))
    tampered = _fresh(store, market, tmp_path / "tampered")
    report = tampered / "report.json"
    report.write_bytes(report.read_bytes().replace(b'"seed":', b'"seed": ', 1))
    tampered_item = queue_unchecked(store, tampered)
    foreign = tmp_path / "foreign"
    run_and_record(store, foreign, fetch_challenge(*market), key=Ed25519PrivateKey.generate())
    foreign_item = queue_unchecked(store, foreign)
    drain(store, *market)

    assert refusal(store, tampered_item) == (
        "HTTP 422: report.json was changed after it was signed: its SHA-256 is not the signed one."
    )
    assert "which is not a known signing key" in refusal(store, foreign_item)


def _fresh(store: Store, market: tuple[Marketplace, TokenStore], folder: Path) -> Path:
    run_and_record(store, folder, fetch_challenge(*market))
    return folder


def test_an_offline_run_is_unchallenged_and_not_certified(
    market: tuple[Marketplace, TokenStore], store: Store, tmp_path: Path
) -> None:
    run_id = run_and_record(store, tmp_path / "offline", None)
    report = json.loads((tmp_path / "offline" / "report.json").read_bytes())
    assert report["challenge"] == {"state": "unchallenged"}
    assert not shown(store, run_id).challenged

    queue_submission(store, tmp_path / "offline")
    drain(store, *market)

    run = shown(store, run_id)
    assert run.certification == Certification.UNCHALLENGED
    assert run.certification_detail == (
        "Run without a marketplace challenge: it cannot be certified."
    )
