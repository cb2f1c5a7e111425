"""Tolerances are loosened only by an explicit waiver with a reason, which the report records and
verification shows; a waiver can never tighten a limit, and an unwaived error beyond it fails."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.conformance.html import render_html
from portal.conformance.report import report_data, verify_report, write_reports
from portal.conformance.results import Status
from portal.conformance.runner import run_profile
from portal.conformance.tolerances import WaiverError, load_table, load_waivers
from portal.conformance.verification import ReportRefusedError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "resources" / "schemas" / "conformance-report-v1.json"
OFF_BY = "array-api:tests.conformance.off_by_matmul"
REASON = "vendor ticket 4711: the device accumulates float32 dot products in TF32"


def _file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "waivers.toml"
    path.write_text(body)
    return path


def _matmul_waiver(tmp_path: Path, *, rtol: float = 1e-2, reason: str = REASON) -> Path:
    return _file(
        tmp_path,
        f'[[waiver]]\nop = "matmul"\ndtype = "float32"\nrtol = {rtol}\natol = 1e-2\n'
        f'reason = "{reason}"\n',
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            '[[waiver]]\nop = "matmul"\ndtype = "float32"\nrtol = 1e-9\nreason = "x"\n',
            "only loosen",
        ),
        ('[[waiver]]\nop = "matmul"\ndtype = "float32"\nrtol = 1e-2\n', "needs a reason"),
        (
            '[[waiver]]\nop = "warp"\ndtype = "float32"\nrtol = 1\nreason = "x"\n',
            "no limit for warp",
        ),
        ('[[waiver]]\nop = "matmul"\ndtype = "float32"\nreason = "x"\n', "does not change"),
        ('[[waiver]]\nop = "matmul"\ndtype = "float32"\nrtol = "a"\nreason = "x"\n', "numbers"),
        ("op = 1\n", "no [[waiver]] entries"),
        ("[[waiver\n", "not valid TOML"),
    ],
)
def test_a_waiver_that_would_tighten_or_guess_is_refused_by_name(
    tmp_path: Path, body: str, problem: str
) -> None:
    path = _file(tmp_path, body)
    with pytest.raises(WaiverError, match=re.escape(problem)) as refused:
        load_waivers(path, load_table())
    assert str(path) in refused.value.message


def test_without_a_waiver_an_error_beyond_the_limit_fails() -> None:
    outcome = run_profile(OFF_BY, "tensor-core-v1", only="matmul.float32")
    (result,) = outcome.results
    assert result.status is Status.FAIL and result.measured["ratio"] > 1
    assert outcome.exit_code == 1 and outcome.table.waivers == ()


def test_a_waiver_loosens_the_limit_and_the_signed_report_records_and_shows_it(
    tmp_path: Path,
) -> None:
    waivers = load_waivers(_matmul_waiver(tmp_path), load_table())
    outcome = run_profile(OFF_BY, "tensor-core-v1", only="matmul.float32", waivers=waivers)
    (result,) = outcome.results
    assert result.status is Status.PASS and result.measured["ratio"] <= 1
    table = report_data(outcome)["toleranceTable"]
    assert table["sha256"] == load_table().sha256  # the same table, loosened in the open
    assert table["waivers"] == [
        {
            "op": "matmul",
            "dtype": "float32",
            "reason": REASON,
            "table": {"rtol": 1.2e-7, "atol": 1e-6, "scale": "sqrt_n"},
            "waived": {"rtol": 1e-2, "atol": 1e-2, "scale": "sqrt_n"},
        }
    ]
    validator: Any = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    assert [e.message for e in validator.iter_errors(report_data(outcome))] == []
    assert REASON in render_html(report_data(outcome))

    key = Ed25519PrivateKey.generate()
    write_reports(outcome, tmp_path / "out", key=key)
    verified = verify_report(tmp_path / "out" / "report.json", key.public_key())
    assert verified.waivers == [f"matmul float32 ({REASON})"]
    assert f"tolerance waivers: matmul float32 ({REASON})" in verified.checked


def test_a_report_whose_waiver_tightens_or_rewrites_the_table_is_refused(tmp_path: Path) -> None:
    from portal.conformance.report import canonical_json, statement
    from portal.plugins.dsse import sign_envelope

    waivers = load_waivers(_matmul_waiver(tmp_path), load_table())
    outcome = run_profile(OFF_BY, "tensor-core-v1", only="matmul.float32", waivers=waivers)
    data = report_data(outcome)
    data["toleranceTable"]["waivers"][0]["table"]["rtol"] = 1e-2  # claims the table said so
    report = canonical_json(data)
    key = Ed25519PrivateKey.generate()
    (tmp_path / "report.json").write_bytes(report)
    (tmp_path / "report.dsse.json").write_bytes(
        json.dumps(sign_envelope(json.dumps(statement(report, outcome)).encode(), key)).encode()
    )
    with pytest.raises(ReportRefusedError, match="waiver that does not loosen"):
        verify_report(tmp_path / "report.json", key.public_key())


def test_a_required_check_the_backend_cannot_do_fails_with_a_repro() -> None:
    outcome = run_profile(
        "array-api:tests.conformance.no_float32", "tensor-core-v1", only="softmax.*"
    )
    by_id = {r.check: r for r in outcome.results}
    required = by_id["softmax.float32"]
    assert required.status is Status.FAIL and required.required
    assert "tensor-core-v1 requires this check" in required.message
    assert required.repro is not None and required.repro.dtype == "float32"
    assert by_id["softmax.float16"].status is Status.NOT_SUPPORTED  # optional: may opt out
    assert outcome.exit_code == 1


def test_the_command_line_applies_a_waiver_and_refuses_a_bad_one_before_running(
    tmp_path: Path,
) -> None:
    from tests.test_cli import aic

    data = ["--data-dir", str(tmp_path / "data")]
    run = [*data, "conformance", "run", "--backend", OFF_BY, "--profile", "tensor-core-v1"]
    run += ["--only", "matmul.float32", "--no-sign", "--out", str(tmp_path / "out")]
    waived = aic(*run, "--waiver", str(_matmul_waiver(tmp_path)))
    assert waived.returncode == 0, waived.stderr
    assert f"Waiver: matmul on float32 loosened, because: {REASON}" in waived.stdout
    tighter = aic(*run, "--waiver", str(_matmul_waiver(tmp_path, rtol=1e-9)))
    assert tighter.returncode == 2
    assert "may only loosen the table's limit" in tighter.stderr
    assert "[0/" not in tighter.stderr  # refused before any check ran
