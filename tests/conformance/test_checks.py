"""The checks in this process: the references pass, a wrong backend is caught, limits are judged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from portal.conformance.backends import ArrayApiBackend, load_backend
from portal.conformance.catalogue import execute, profile_checks
from portal.conformance.lif import LifParams, LifTrace, simulate
from portal.conformance.results import Status
from portal.conformance.tolerances import load_table
from tests.conformance import off_by_matmul


@pytest.mark.parametrize(
    ("spec", "profile"),
    [
        ("cpu-reference", "tensor-core-v1"),
        # The minimal namespace: the checks use the standard alone, nothing NumPy adds.
        ("array-api:array_api_strict", "tensor-core-v1"),
        ("lif-reference", "neuromorphic-lif-v1"),
    ],
)
def test_the_reference_backends_pass_their_profiles(spec: str, profile: str) -> None:
    backend, table = load_backend(spec), load_table()
    caps = backend.capabilities()
    for check in profile_checks(profile):
        result = execute(backend, check, spec=spec, profile=profile, seed=7, table=table)
        undeclared = (check.dtype and check.dtype not in caps.dtypes) or (
            check.op and check.op not in caps.ops
        )
        want = Status.NOT_SUPPORTED if undeclared else Status.PASS
        assert result.status is want, (check.id, result.message)
        assert not (undeclared and check.required), check.id


def test_a_matmul_off_by_1e_3_fails_with_the_measured_error_and_a_repro() -> None:
    backend = ArrayApiBackend(off_by_matmul, name="off")
    (check,) = profile_checks("tensor-core-v1", only="matmul.float32")
    result = execute(
        backend, check, spec="array-api:x", profile="tensor-core-v1", seed=3, table=load_table()
    )
    assert result.status is Status.FAIL
    assert result.measured["max_abs_error"] == pytest.approx(1e-3, rel=1e-2)
    assert result.measured["ratio"] > 4
    assert result.repro is not None and result.repro.seed == 3
    assert result.repro.shapes == [[64, 48], [48, 32]] and result.repro.dtype == "float32"
    assert "run_check('array-api:x', 'tensor-core-v1', 'matmul.float32', seed=3)" in (
        result.repro.snippet
    )


def test_the_table_judges_pass_warning_and_fail_and_nan() -> None:
    table = load_table()
    assert table.version == 1 and len(table.sha256) == 64
    assert [table.judge(r) for r in (0.5, 0.75, 0.9, 1.0, 1.01, float("nan"))] == [
        Status.PASS,
        Status.PASS,
        Status.QUALITY_WARNING,
        Status.QUALITY_WARNING,
        Status.FAIL,  # beyond the limit: only a waiver loosens it
        Status.FAIL,
    ]
    assert table.get("sum", "float32").widened(100).rtol == pytest.approx(1.2e-6)


class _OneOffLif:
    """A LIF backend whose leak rounds differently: a bug only bit-exact checks see."""

    name = "one-off"

    def capabilities(self) -> Any:
        return load_backend("lif-reference").capabilities()

    def run_lif(self, currents: np.ndarray, params: LifParams) -> LifTrace:
        trace = simulate(currents, params)
        potentials = trace.potentials.copy()
        potentials[5:] += 1
        return LifTrace(potentials, trace.spikes)


def test_lif_checks_find_the_first_divergent_step() -> None:
    (check,) = profile_checks("neuromorphic-lif-v1", only="lif.impulse-response")
    result = execute(
        _OneOffLif(), check, spec="x", profile="neuromorphic-lif-v1", seed=1, table=load_table()
    )
    assert result.status is Status.FAIL
    assert result.measured["first_divergent_step"] == 5
    assert result.measured["max_potential_error"] == 1
