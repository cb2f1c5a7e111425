"""Runs kept in the store: recorded with their results, queued for certification once, listed
with their marketplace state (offline: no marketplace involved here)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.conformance.challenge import Challenge, challenged_seed
from portal.conformance.report import write_reports
from portal.conformance.runner import RunOutcome, run_profile
from portal.conformance.runs import list_runs, record_run, run_detail
from portal.conformance.submit import queue_submission
from portal.db.enums import Certification, CheckStatus, OutboxState, RunStatus
from portal.db.models import OutboxItem
from portal.db.store import Store
from portal.errors import InputError
from portal.paths import DataDir
from portal.plugins.dsse import SignatureError
from portal.plugins.keys import generate_signing_key, load_signing_key
from tests.keyrings import MemoryKeyring

CHALLENGE = Challenge("ch-1", "0f" * 16, datetime.now(UTC) + timedelta(days=1))


@pytest.fixture
def store(data_dir: DataDir) -> Iterator[Store]:
    opened = Store.open(data_dir)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def failing_run() -> RunOutcome:
    return run_profile(
        "array-api:tests.conformance.off_by_matmul",
        "tensor-core-v1",
        seed=5,
        only="matmul.*",
        challenge=CHALLENGE,
    )


def test_a_challenge_changes_the_seed_as_documented(failing_run: RunOutcome) -> None:
    assert failing_run.seed == challenged_seed(5, CHALLENGE.nonce) != 5
    assert failing_run.base_seed == 5
    assert all(r.repro is None or r.repro.seed == failing_run.seed for r in failing_run.results)


def test_record_run_keeps_results_and_the_report_hash(
    failing_run: RunOutcome, store: Store, tmp_path: Path
) -> None:
    write_reports(failing_run, tmp_path / "r", key=None)
    run_id = record_run(store, failing_run, report_dir=tmp_path / "r")
    [summary] = list_runs(store)
    assert (summary.id, summary.status, summary.checks) == (run_id, RunStatus.FAILED, 4)
    assert summary.challenged and summary.certification is None
    detail = run_detail(store, run_id)
    assert detail.challenge_id == "ch-1" and detail.report_sha256 is not None
    failed = [r for r in detail.results if r.status == CheckStatus.FAIL]
    assert {r.check for r in failed} == {
        f"matmul{batched}.{dtype}"
        for batched in ("", ".batched")
        for dtype in ("float32", "float64")
    }
    assert all(r.ratio is not None and r.ratio > 4 and r.repro for r in failed)
    assert [r.required for r in detail.results] == [r.required for r in failing_run.results]
    with pytest.raises(InputError, match="no conformance run 999"):
        run_detail(store, 999)


def test_queue_submission_verifies_first_and_queues_once(
    failing_run: RunOutcome,
    data_dir: DataDir,
    store: Store,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    generate_signing_key(data_dir)
    folder = tmp_path / "signed"
    write_reports(failing_run, folder, key=load_signing_key(data_dir))
    run_id = record_run(store, failing_run, report_dir=folder)

    item_id = queue_submission(store, folder)

    with store.session() as session:
        item = session.get(OutboxItem, item_id)
        assert item is not None and item.state == OutboxState.PENDING
        assert item.action == "POST /v1/conformance/reports"
        assert set(item.payload["uploads"]) == {"report_upload", "signature_upload"}
        assert item.payload["after"] is not None  # the key's registration goes first
    assert run_detail(store, run_id).summary.certification == Certification.SUBMITTED
    with pytest.raises(InputError, match="already queued or sent"):
        queue_submission(store, folder / "report.json")

    tampered = tmp_path / "tampered"
    write_reports(failing_run, tampered, key=load_signing_key(data_dir))
    report = tampered / "report.json"
    report.write_bytes(report.read_bytes().replace(b'"status":"FAIL"', b'"status":"PASS"'))
    with pytest.raises(SignatureError, match="was changed after it was signed"):
        queue_submission(store, tampered)
    (tampered / "report.dsse.json").unlink()
    with pytest.raises(InputError, match="is not signed"):
        queue_submission(store, tampered)
