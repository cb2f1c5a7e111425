"""report.json against its committed JSON Schema, and report.html: standalone, escaped, plotted."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from portal import i18n
from portal.conformance.challenge import Challenge
from portal.conformance.html import render_html
from portal.conformance.report import canonical_json, report_data, write_reports
from portal.conformance.runner import RunOutcome, run_profile

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "resources" / "schemas" / "conformance-report-v1.json"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'


@pytest.fixture(scope="module")
def validator() -> Any:
    return jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()), validate_formats=True)


@pytest.fixture(scope="module")
def failing_run() -> RunOutcome:
    challenge = Challenge("c-7", "ab" * 32, datetime.now(UTC) + timedelta(days=1))
    return run_profile(
        "array-api:tests.conformance.off_by_matmul",
        "tensor-core-v1",
        seed=11,
        only="matmul.*",
        challenge=challenge,
    )


@pytest.fixture(scope="module")
def passing_run() -> RunOutcome:
    return run_profile("cpu-reference", "tensor-core-v1")


def test_written_reports_validate_against_the_committed_schema(
    validator: Any, failing_run: RunOutcome, passing_run: RunOutcome, tmp_path: Path
) -> None:
    for name, outcome in (("failing", failing_run), ("passing", passing_run)):
        write_reports(outcome, tmp_path / name, key=None)
        report = json.loads((tmp_path / name / "report.json").read_bytes())
        assert [e.message for e in validator.iter_errors(report)] == [], name
    challenged = json.loads((tmp_path / "failing" / "report.json").read_bytes())["challenge"]
    assert challenged["state"] == "challenged" and challenged["baseSeed"] == 11


def test_the_schema_refuses_what_is_not_a_report(validator: Any, failing_run: RunOutcome) -> None:
    good = json.loads(canonical_json(report_data(failing_run)))
    assert validator.is_valid(good)
    broken = []
    for change in (
        lambda r: r.pop("challenge"),
        lambda r: r["challenge"].update(nonce="not hex"),
        lambda r: r["results"][0].update(status="MAYBE"),
        lambda r: r["results"][0]["measured"].update(ratio="big"),
        lambda r: r["toleranceTable"].update(sha256="abc"),
        lambda r: r.update(seed=-1),
        lambda r: r.update(extra=1),
    ):
        report = copy.deepcopy(good)
        change(report)
        broken.append(validator.is_valid(report))
    assert broken == [False] * 7


def test_not_finite_errors_are_strings_the_schema_allows(
    validator: Any, failing_run: RunOutcome
) -> None:
    report = json.loads(canonical_json(report_data(failing_run)))
    report["results"][0]["measured"]["ratio"] = "Infinity"
    assert validator.is_valid(report)
    assert "∞" in render_html(report)


def test_report_html_is_standalone_with_failures_repros_and_a_plot(
    failing_run: RunOutcome, tmp_path: Path
) -> None:
    write_reports(failing_run, tmp_path, key=None)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=|@import|url\(|<link|<script""", page)
    assert "Conformance report: tensor-core-v1 on array-api:tests.conformance.off_by_matmul" in page
    assert "<h3>matmul.float32: " in page and "run_check(" in page  # a failure and its repro
    assert "Challenged by the marketplace (challenge c-7)" in page
    bars = re.findall(r"<rect [^>]*width=\"([0-9.]+)\"", page)
    assert len(bars) == 4  # one per check that measured an error
    limit = re.search(r'<line x1="([0-9.]+)"[^>]*stroke="#b3261e"', page)
    assert limit is not None
    failing = [float(w) for w in bars]
    assert all(260 + w > float(limit.group(1)) for w in failing)  # every matmul past the limit


def test_everything_from_the_backend_is_escaped(failing_run: RunOutcome) -> None:
    report = json.loads(canonical_json(report_data(failing_run)))
    report["backend"]["spec"] = HOSTILE
    report["profile"] = HOSTILE
    for result in report["results"]:
        result["check"] = HOSTILE
        result["message"] = HOSTILE
        result["measured"][HOSTILE] = HOSTILE
        if result["repro"]:
            result["repro"]["snippet"] = HOSTILE
            result["repro"]["dtype"] = HOSTILE
    report["tool"]["version"] = HOSTILE
    page = render_html(report)
    assert "<script" not in page and "<img" not in page and "&amp;amp;" in page
    assert page.count("&lt;script&gt;") > 10


def test_report_html_speaks_the_users_language(failing_run: RunOutcome) -> None:
    i18n.set_locale("fr")
    page = render_html(json.loads(canonical_json(report_data(failing_run))))
    assert '<html lang="fr" dir="ltr">' in page
    i18n.set_locale("ar")
    assert 'dir="rtl"' in render_html(json.loads(canonical_json(report_data(failing_run))))
