"""quantum-gate-v1 on real Qiskit simulators and on deliberately buggy BackendV2s."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from portal.conformance.backends import (
    BackendNotInstalledError,
    backend_names,
    check_backend_spec,
    load_backend,
)
from portal.conformance.catalogue import execute, profile_checks
from portal.conformance.quantum import QiskitBackend, QuantumBackend
from portal.conformance.results import CheckResult, Status, passed
from portal.conformance.runner import run_profile
from portal.conformance.tolerances import load_table
from portal.errors import InputError
from tests.test_cli import aic

PROFILE = "quantum-gate-v1"
FAKES = "qiskit:tests.conformance.buggy_qiskit:"


def _run_here(spec: str, *, only: str | None = None, seed: int = 7) -> dict[str, CheckResult]:
    backend, table = load_backend(spec), load_table()
    return {
        check.id: execute(backend, check, spec=spec, profile=PROFILE, seed=seed, table=table)
        for check in profile_checks(PROFILE, only=only)
    }


@pytest.mark.parametrize("spec", ["qiskit-basic", "qiskit-aer"])
def test_the_qiskit_simulators_pass_every_check(spec: str) -> None:
    for check, result in _run_here(spec).items():
        assert passed(result.status), (check, result.message)


def test_capabilities_say_quantum_qubits_gates_simulator_and_versions() -> None:
    backend = load_backend("qiskit-basic")
    assert isinstance(backend, QuantumBackend) and isinstance(backend, QiskitBackend)
    caps = backend.capabilities()
    assert (caps.kind, caps.max_qubits, caps.simulator) == ("quantum", 24, True)
    assert {"cx", "h", "x", "u"} <= set(caps.basis_gates) and "measure" not in caps.basis_gates
    assert caps.versions["qiskit"].startswith("2.")
    aer = load_backend("qiskit-aer").capabilities()
    assert aer.max_qubits == 30 and "qiskit-aer" in aer.versions
    assert not any(gate.startswith("save_") for gate in aer.basis_gates)


def test_statistical_results_keep_every_attempt_and_the_derived_shots() -> None:
    bell = _run_here("qiskit-basic", only="quantum.bell")["quantum.bell"]
    measured = bell.measured
    (test,) = measured["tests"]
    attempt = test["attempts"][0]
    assert attempt["shots"] == 3731  # k = 3 (00, 11, the rest), alpha 1e-6 / 7 tests / 3 tries
    assert attempt["false_alarm_bound"] <= measured["alpha_per_test"] / 3
    assert attempt["counts_total"] == 3731 and len(attempt["counts_sha256"]) == 16
    assert measured["threshold"] == 0.05 and measured["tvd"] < 0.025


def test_a_backend_that_flips_a_bit_fails_with_measured_tvd_and_circuits() -> None:
    results = _run_here(FAKES + "flipping")
    statuses = {check: r.status for check, r in results.items()}
    for check in ("basis-states", "bit-order", "bell", "ghz", "mirror"):
        assert statuses[f"quantum.{check}"] is Status.FAIL, check
    assert statuses["quantum.shots"] is Status.PASS
    mirror = results["quantum.mirror"].measured
    assert mirror["tvd"] >= 0.05 and mirror["ratio"] > 1
    failed = [t for t in mirror["tests"] if t["status"] == "FAIL"]
    assert failed and all("OPENQASM 2.0" in t["qasm"] and t["attempts"] for t in failed)
    repro = results["quantum.bell"].repro
    assert repro is not None and repro.seed == 7
    assert f"run_check('{FAKES}flipping', '{PROFILE}', 'quantum.bell', seed=7)" in repro.snippet


def test_a_reversed_bit_order_is_named_as_such() -> None:
    results = _run_here(FAKES + "reversed_bits", only="quantum.[bgr]*")
    order = results["quantum.bit-order"]
    assert order.status is Status.FAIL
    assert "bit order is reversed" in order.message
    assert results["quantum.bell"].status is Status.PASS
    assert results["quantum.rotations"].status is Status.FAIL
    wrong = results["quantum.basis-states"].measured["wrong"]
    assert {"circuit": "basis_0001", "expected": "0001", "got": {"1000": 64}}.items() <= (
        wrong[0].items()
    )


def test_a_backend_without_a_seed_passes_with_the_seed_check_not_supported() -> None:
    results = _run_here(FAKES + "unseeded")
    assert results["quantum.seed"].status is Status.NOT_SUPPORTED
    assert not results["quantum.seed"].required
    others = [r for check, r in results.items() if check != "quantum.seed"]
    assert all(passed(r.status) for r in others)


def test_bad_qiskit_specs_are_refused_plainly() -> None:
    with pytest.raises(InputError, match="There is no Python module no_such_vendor"):
        check_backend_spec("qiskit:no_such_vendor:make")
    with pytest.raises(InputError, match="is not qiskit:MODULE:FUNCTION"):
        check_backend_spec("qiskit:tests.conformance.buggy_qiskit")
    with pytest.raises(InputError, match="has no function nope"):
        load_backend(FAKES + "nope")
    with pytest.raises(InputError, match="neither a conformance backend nor a Qiskit BackendV2"):
        load_backend(FAKES + "not_a_backend")


def test_a_vendor_entry_point_returning_a_backend_v2_is_found_and_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = tmp_path / "fake_vendor-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-vendor\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[aic_platform.backends]\nbuggy-qpu = tests.conformance.buggy_qiskit:flipping\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "buggy-qpu" in backend_names()
    backend = load_backend("buggy-qpu")
    assert isinstance(backend, QiskitBackend) and backend.name == "buggy-qpu"
    outcome = run_profile("buggy-qpu", PROFILE, only="quantum.bell")  # in the worker process
    assert [r.status for r in outcome.results] == [Status.FAIL]
    assert outcome.capabilities["kind"] == "quantum" and outcome.exit_code == 1


def test_qiskit_aer_missing_is_said_and_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qiskit_aer", None)  # as if it were not installed
    with pytest.raises(BackendNotInstalledError, match=r"qiskit-aer is not installed"):
        load_backend("qiskit-aer")


def _cli_without_aer(*args: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys; sys.modules['qiskit_aer'] = None; from portal.cli import main; "
        f"sys.exit(main({list(args)!r}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_command_line_without_qiskit_aer(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    listed = _cli_without_aer(*data, "conformance", "backends")
    assert "qiskit-aer: qiskit-aer is not installed (pip install qiskit-aer)." in listed.stdout
    assert "qiskit-basic: quantum; 24 qubits; simulator;" in listed.stdout
    run = ["conformance", "run", "--profile", PROFILE, "--no-sign", "--out", str(tmp_path / "o")]
    done = _cli_without_aer(*data, *run, "--backend", "qiskit-aer")
    assert done.returncode == 2
    assert "qiskit-aer is not installed" in done.stderr and not (tmp_path / "o").exists()


def test_the_command_line_passes_qiskit_basic_and_fails_the_buggy_backend(
    tmp_path: Path,
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    run = [*data, "conformance", "run", "--profile", PROFILE, "--no-sign"]
    done = aic(*run, "--backend", "qiskit-basic", "--out", str(tmp_path / "ok"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "ok" / "report.json").read_text())
    assert report["passed"] is True and report["summary"]["PASS"] == 9
    assert report["backend"]["capabilities"]["kind"] == "quantum"
    assert report["toleranceTable"]["version"] == 1
    done = aic(*run, "--backend", FAKES + "flipping", "--out", str(tmp_path / "bad"))
    assert done.returncode == 1, done.stderr
    assert re.search(r"Failed +quantum\.bell  largest TVD", done.stdout)
    report = json.loads((tmp_path / "bad" / "report.json").read_text())
    failed = [r for r in report["results"] if r["status"] == "FAIL"]
    assert len(failed) >= 5 and all(r["repro"]["seed"] == 0 for r in failed)
    suite = ET.parse(tmp_path / "bad" / "report.junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == str(len(failed))


def test_a_table_without_quantum_limits_is_an_error_that_says_so() -> None:
    shipped = Path("portal/conformance/tolerances-v1.toml").read_text()
    table = load_table(shipped.split("[quantum]")[0].encode())
    (check,) = profile_checks(PROFILE, only="quantum.bell")
    result = execute(
        load_backend("qiskit-basic"),
        check,
        spec="qiskit-basic",
        profile=PROFILE,
        seed=1,
        table=table,
    )
    assert result.status is Status.ERROR
    assert "has no [quantum] tvd_threshold" in result.message
