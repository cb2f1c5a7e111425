"""torch, float16/bfloat16/int8, attention and timing checks, warnings and standalone repros."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from portal.conformance import lowp
from portal.conformance.backends import load_backend
from portal.conformance.catalogue import profile_checks, repro
from portal.conformance.results import Status
from portal.conformance.runner import StartError, run_profile

PROFILE = "tensor-core-v1"


def _torch() -> object:
    return pytest.importorskip("torch", reason="torch is not installed (pip install '.[torch]')")


def test_torch_cpu_declares_its_dtypes_device_versions_and_native_ops() -> None:
    _torch()
    caps = load_backend("torch:cpu").capabilities()
    assert caps.kind == "tensor" and caps.devices == ["cpu"]
    assert {"float64", "float32", "float16", "bfloat16", "int8"} <= set(caps.dtypes)
    assert caps.versions["torch"].startswith("2.13.0")
    assert caps.versions["array_api_compat"] != "unknown"
    assert caps.ops == ["conv2d", "random.uniform", "scaled_dot_product_attention"]


def test_torch_cuda_without_a_gpu_cannot_start_and_says_why() -> None:
    torch = _torch()
    if torch.cuda.is_available():  # type: ignore[attr-defined]
        assert load_backend("torch:cuda").capabilities().devices[0].startswith("cuda")
        return
    with pytest.raises(StartError, match="sees no CUDA device"):
        run_profile("torch:cuda", PROFILE, only="matmul.float32")


def test_torch_passes_the_whole_profile_with_low_precision_rows_measured() -> None:
    _torch()
    outcome = run_profile("torch:cpu", PROFILE, seed=5)
    statuses = {r.check: r.status for r in outcome.results}
    assert {s for s in statuses.values()} == {Status.PASS}, statuses
    assert outcome.exit_code == 0
    results = {r.check: r for r in outcome.results}
    for dtype in ("float16", "bfloat16"):
        for check in ("matmul", "softmax", "attention", "attention.native", "conv2d.native"):
            assert 0 < results[f"{check}.{dtype}"].measured["ratio"] < 1
    assert results["matmul.int8"].measured["overflow"] == "wraps"
    assert results["reduction.sum.int8"].measured["dtype"] == "torch.int64"
    assert results["determinism.seeded-rng"].measured["same_seed_same_bits"] is True
    timing = results["performance.matmul.float32"].measured
    assert timing["runs"] >= 5 and 0 < timing["median_s"] <= timing["p95_s"]
    assert timing["gflops_median"] == pytest.approx(2 * 256**3 / timing["median_s"] / 1e9)


def test_a_wrong_float16_matmul_fails_with_a_repro_that_shows_it_without_the_portal() -> None:
    outcome = run_profile(
        "array-api:tests.conformance.wrong_float16", PROFILE, seed=4, only="matmul.*"
    )
    statuses = {r.check: r.status for r in outcome.results}
    assert statuses["matmul.float16"] is Status.FAIL
    assert statuses["matmul.float32"] is Status.PASS and statuses["matmul.bfloat16"] is (
        Status.NOT_SUPPORTED
    )
    failed = next(r for r in outcome.results if r.check == "matmul.float16")
    assert failed.measured["ratio"] > 4 and failed.repro is not None
    assert failed.repro.dtype == "float16" and failed.repro.shapes == [[64, 48], [48, 32]]
    printed = _run_isolated(failed.repro.snippet)
    shown = float(re.search(r"max \|got - want\| = (\S+)", printed).group(1))  # type: ignore[union-attr]
    assert shown == pytest.approx(failed.measured["max_abs_error"])


def test_an_error_close_to_the_limit_is_a_quality_warning_and_passes() -> None:
    outcome = run_profile(
        "array-api:tests.conformance.near_limit_softmax", PROFILE, only="softmax.float32"
    )
    (result,) = outcome.results
    assert result.status is Status.QUALITY_WARNING
    assert outcome.table.warn_at < result.measured["ratio"] <= 1
    assert result.repro is None and outcome.exit_code == 0


@pytest.mark.parametrize("spec", ["cpu-reference", "array-api:array_api_strict", "torch:cpu"])
def test_every_standalone_snippet_runs_without_the_portal(spec: str) -> None:
    if spec.startswith("torch"):
        _torch()
    caps = load_backend(spec).capabilities()
    snippets = [
        repro(spec, PROFILE, c.id, seed=1, shapes=[], dtype=c.dtype).snippet
        for c in profile_checks(PROFILE)
        if (not c.dtype or c.dtype in caps.dtypes) and (not c.op or c.op in caps.ops)
    ]
    assert all("run_check(" in s and "import numpy as np" in s for s in snippets)
    _run_isolated("\n".join(snippets))


def _run_isolated(code: str) -> str:
    """Run `code` in a fresh interpreter that cannot import the portal (-I: no cwd, no PYTHONPATH)
    except for the fake backends under tests/, put on the path by the snippet's import."""
    prefix = "import sys\nsys.path.append(sys.argv[1])\n"
    assert "portal" not in code.split("# The same check through the portal")[0]
    done = subprocess.run(
        [sys.executable, "-I", "-c", prefix + code, _repo_tests_root()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _repo_tests_root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2])


@pytest.mark.parametrize("seed", range(5))
def test_bfloat16_rounding_matches_torch(seed: int) -> None:
    torch = _torch()
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(10_000) * 10.0 ** rng.integers(-30, 30, 10_000)).astype(np.float32)
    theirs = torch.from_numpy(x).to(torch.bfloat16).float().numpy()  # type: ignore[attr-defined]
    assert np.array_equal(lowp.rounded(x.astype(np.float64), "bfloat16"), theirs)
    normal = np.abs(theirs[np.isfinite(theirs) & (np.abs(theirs) >= 2.0**-126)])
    bits = torch.from_numpy(normal).to(torch.bfloat16).view(torch.int16)  # type: ignore[attr-defined]
    above = (bits + 1).view(torch.bfloat16).float().numpy()  # type: ignore[attr-defined]
    assert np.array_equal(lowp.spacing(normal, "bfloat16"), above - normal)


@pytest.mark.parametrize(("spec", "module"), [("jax", "jax"), ("cupy", "cupy")])
def test_jax_and_cupy_are_listed_and_say_plainly_when_not_installed(spec: str, module: str) -> None:
    from importlib.util import find_spec

    from portal.conformance.backends import backend_names
    from portal.errors import InputError

    assert spec in backend_names()
    if find_spec(module) is not None:
        assert load_backend(spec).capabilities().versions[module] != "unknown"
        return
    with pytest.raises(InputError, match=f"^{module} is not installed"):
        load_backend(spec)


class _Synchronized:
    """NumPy with a synchronize() that counts, standing in for torch on CUDA."""

    def __init__(self) -> None:
        self.inner = load_backend("cpu-reference")
        self.xp = self.inner.xp
        self.name = "synchronized"
        self.synced = 0

    def capabilities(self) -> object:
        return self.inner.capabilities()

    def to_numpy(self, array: object) -> np.ndarray:
        return self.inner.to_numpy(array)  # type: ignore[attr-defined,no-any-return]

    def synchronize(self) -> None:
        self.synced += 1


def test_timings_wait_for_the_device_through_synchronize_where_the_backend_has_it() -> None:
    from portal.conformance.catalogue import execute
    from portal.conformance.performance_checks import MAX_RUNS, WARMUP
    from portal.conformance.tolerances import load_table

    backend = _Synchronized()
    (check,) = profile_checks(PROFILE, only="performance.matmul.float32")
    result = execute(backend, check, spec="x", profile=PROFILE, seed=0, table=load_table())
    assert result.status is Status.PASS
    assert backend.synced == WARMUP + result.measured["runs"]
    assert 5 <= result.measured["runs"] <= MAX_RUNS


def test_on_device_puts_new_arrays_on_its_device_unless_told_otherwise() -> None:
    torch = _torch()
    from portal.conformance.frameworks import OnDevice

    compat = pytest.importorskip("array_api_compat.torch", reason="array-api-compat is missing")
    meta = OnDevice(compat, torch.device("meta"))  # type: ignore[attr-defined]
    assert meta.asarray(np.ones(3)).device.type == "meta"
    assert meta.zeros(3).device.type == "meta"
    assert meta.ones(3, device="cpu").device.type == "cpu"
    assert meta.__name__ == "array_api_compat.torch" and meta.add is compat.add
