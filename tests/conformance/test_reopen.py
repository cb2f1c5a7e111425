"""A kept run read back from its report.json: the same outcome, signable only if unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal import __version__
from portal.conformance.challenge import Challenge
from portal.conformance.reopen import read_outcome
from portal.conformance.report import report_data, write_reports
from portal.conformance.runner import run_profile
from portal.errors import InputError


def test_a_challenged_run_reads_back_to_the_same_report(tmp_path: Path) -> None:
    challenge = Challenge("c-1", "ab" * 16, datetime.now(UTC) + timedelta(days=7))
    outcome = run_profile(
        "array-api:tests.conformance.off_by_matmul",
        "tensor-core-v1",
        seed=5,
        only="[me]*.float32",
        challenge=challenge,
    )
    write_reports(outcome, tmp_path, key=None)
    read = read_outcome(tmp_path)
    assert read.exact
    assert report_data(read.outcome) == report_data(outcome)
    assert read.outcome.challenge == challenge and read.outcome.base_seed == 5
    assert read.outcome.exit_code == outcome.exit_code == 1


def test_a_changed_report_reads_but_cannot_be_rewritten_and_junk_is_refused(
    tmp_path: Path,
) -> None:
    write_reports(run_profile("cpu-reference", "tensor-core-v1", only="casts"), tmp_path, key=None)
    report = tmp_path / "report.json"
    written_by = f'"name":"aic-portal","version":"{__version__}"'.encode()
    assert written_by in report.read_bytes()
    report.write_bytes(
        report.read_bytes().replace(written_by, b'"name":"aic-portal","version":"0.0.1"')
    )
    read = read_outcome(tmp_path)  # shown, but this version would write other bytes
    assert read.outcome.results[0].check == "casts" and not read.exact
    report.write_text("[1, 2]")
    with pytest.raises(InputError, match="is not a conformance report this app can read"):
        read_outcome(tmp_path)
    with pytest.raises(InputError, match="cannot be read"):
        read_outcome(tmp_path / "missing")
