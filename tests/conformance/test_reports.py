"""Reports: canonical JSON with the table's hash, JUnit XML that parses, a signature that holds."""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.conformance.catalogue import profile_checks
from portal.conformance.report import canonical_json, verify_report, write_reports
from portal.conformance.runner import RunOutcome, run_profile
from portal.conformance.tolerances import TABLE_NAME
from portal.plugins.dsse import SignatureError
from tests.test_cli import aic


@pytest.fixture(scope="module")
def failing_run() -> RunOutcome:
    return run_profile(
        "array-api:tests.conformance.off_by_matmul", "tensor-core-v1", seed=5, only="*.float32"
    )


def test_report_json_is_canonical_and_names_the_tolerance_table(
    failing_run: RunOutcome, tmp_path: Path
) -> None:
    write_reports(failing_run, tmp_path, key=None)
    raw = (tmp_path / "report.json").read_bytes()
    report = json.loads(raw)
    assert canonical_json(report) == raw
    table = Path("portal/conformance", TABLE_NAME).read_bytes()
    assert report["toleranceTable"] == {"version": 1, "sha256": hashlib.sha256(table).hexdigest()}
    assert report["seed"] == 5 and report["passed"] is False
    failed = [r for r in report["results"] if r["status"] == "FAIL"]
    assert {r["check"] for r in failed} == {
        "matmul.float32",
        "matmul.batched.float32",
        "attention.float32",  # composed from matmul
    }
    assert all(r["repro"]["seed"] == 5 and r["measured"]["ratio"] > 4 for r in failed)
    assert not (tmp_path / "report.dsse.json").exists()


def test_junit_xml_parses_with_one_case_per_check(failing_run: RunOutcome, tmp_path: Path) -> None:
    write_reports(failing_run, tmp_path, key=None)
    suite = ET.parse(tmp_path / "report.junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(len(failing_run.results)) and suite.get("failures") == "3"
    failure = suite.find("testcase[@name='matmul.float32']/failure")
    assert failure is not None and "run_check(" in (failure.text or "")


def test_the_signature_verifies_and_a_tampered_report_fails(
    failing_run: RunOutcome, tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    write_reports(failing_run, tmp_path, key=key)
    report = tmp_path / "report.json"
    done = verify_report(report, key.public_key())
    assert (done.profile, done.passed) == ("tensor-core-v1", False)
    with pytest.raises(SignatureError, match="not with the key"):
        verify_report(report, Ed25519PrivateKey.generate().public_key())
    report.write_bytes(report.read_bytes().replace(b'"passed":false', b'"passed":true'))
    with pytest.raises(SignatureError, match="was changed after it was signed"):
        verify_report(report, key.public_key())


def test_the_command_line_exit_codes_and_verify(tmp_path: Path) -> None:
    env = {
        "PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring",
        "AIC_TEST_KEYRING": str(tmp_path / "keyring.json"),
    }
    data = ["--data-dir", str(tmp_path / "data")]
    assert aic(*data, "plugin", "keygen", env=env).returncode == 0
    run = [*data, "conformance", "run", "--profile", "tensor-core-v1"]
    done = aic(*run, "--backend", "cpu-reference", "--out", str(tmp_path / "ok"), env=env)
    assert done.returncode == 0, done.stderr
    assert "Written: " + str(tmp_path / "ok" / "report.dsse.json") in done.stdout
    assert "Recorded as run 1" in done.stdout
    assert "No challenge from the marketplace: No marketplace is configured." in done.stderr
    done = aic(*data, "conformance", "verify", str(tmp_path / "ok" / "report.json"), env=env)
    assert done.returncode == 0, done.stderr
    required = sum(c.required for c in profile_checks("tensor-core-v1"))
    assert (
        f"✓ required checks of tensor-core-v1: {required} of {required} present and passed"
        in done.stdout
    )
    assert "Authentic and passed, but unchallenged: it cannot be certified." in done.stdout
    listed = aic(*data, "conformance", "runs", "1", env=env).stdout
    checks = len(profile_checks("tensor-core-v1"))
    assert f"Run 1: tensor-core-v1 on cpu-reference, Passed, {checks} checks" in listed
    assert "Certification: Not submitted (unchallenged: cannot be certified)" in listed
    report = tmp_path / "ok" / "report.json"
    report.write_bytes(report.read_bytes().replace(b'"seed":0', b'"seed":1'))
    done = aic(*data, "conformance", "verify", str(tmp_path / "ok"), env=env)
    assert done.returncode == 1
    assert "  ✓ signature: valid, by key" in done.stdout
    assert "  ✗ " + str(report) + " was changed after it was signed" in done.stdout
    wrong = "array-api:tests.conformance.off_by_matmul"
    done = aic(
        *run, "--backend", wrong, "--only", "matmul.*", "--out", str(tmp_path / "bad"), "--no-sign"
    )
    assert done.returncode == 1, done.stderr
    assert re.search(r"Failed +matmul\.float32", done.stdout)
    done = aic(*run, "--backend", "nope", "--out", str(tmp_path / "x"), "--no-sign")
    assert done.returncode == 2
    assert "There is no backend “nope”" in done.stderr
    done = aic(*data, "conformance", "backends")
    assert "cpu-reference: tensor;" in done.stdout and "lif-reference: neuromorphic;" in done.stdout
