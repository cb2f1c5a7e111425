"""The isolated runner: crashes and hangs are one check's ERROR, seeds reproduce, cancel stops."""

from __future__ import annotations

import threading

import pytest

from portal.cancel import CancelToken
from portal.conformance.results import Status
from portal.conformance.runner import StartError, run_profile
from portal.errors import Cancelled


def test_a_crashing_check_is_an_error_and_the_run_goes_on() -> None:
    outcome = run_profile(
        "array-api:tests.conformance.crashes_in_matmul", "tensor-core-v1", only="*.float32"
    )
    statuses = {r.check: r.status for r in outcome.results}
    assert statuses["matmul.float32"] is Status.ERROR
    assert statuses["matmul.batched.float32"] is Status.ERROR
    assert statuses["softmax.float32"] is Status.PASS  # after the crashes, on a fresh worker
    crashed = next(r for r in outcome.results if r.check == "matmul.float32")
    assert "exit code 3" in crashed.message
    assert crashed.repro is not None and "matmul.float32" in crashed.repro.snippet
    assert outcome.exit_code == 1


def test_a_hanging_check_times_out_as_an_error() -> None:
    outcome = run_profile(
        "array-api:tests.conformance.hangs_in_var",
        "tensor-core-v1",
        only="[ls]*.float32",
        timeout_s=2,
    )
    statuses = {r.check: r.status for r in outcome.results}
    assert statuses == {
        "layer-norm.float32": Status.ERROR,
        "softmax.float32": Status.PASS,
    }
    assert "no answer within 2 s" in outcome.results[1].message


def test_the_same_seed_gives_the_same_measurements_and_another_seed_does_not() -> None:
    def measured(seed: int) -> list[object]:
        outcome = run_profile("cpu-reference", "tensor-core-v1", seed=seed, only="*.float32")
        timed = [r for r in outcome.results if r.check.startswith("performance.")]
        assert timed and all(r.status is Status.PASS for r in timed)
        # Timings differ from run to run by nature; everything else must not.
        return [(r.check, r.status, r.measured) for r in outcome.results if r not in timed]

    assert measured(11) == measured(11)
    assert measured(11) != measured(12)


def test_an_unknown_backend_profile_or_kind_cannot_start() -> None:
    with pytest.raises(StartError, match="There is no backend “nope”"):
        run_profile("nope", "tensor-core-v1")
    with pytest.raises(StartError, match="There is no conformance profile"):
        run_profile("cpu-reference", "nope-v1")
    with pytest.raises(StartError, match="There is no Python module"):
        run_profile("array-api:no_such_module_here", "tensor-core-v1")
    with pytest.raises(StartError, match="is for neuromorphic backends"):
        run_profile("cpu-reference", "neuromorphic-lif-v1")


def test_cancel_stops_the_run_and_its_worker() -> None:
    cancel = CancelToken()
    seen: list[str] = []

    def progress(done: int, total: int | None, message: str) -> None:
        seen.append(message)
        if message == "layer-norm.float32":
            threading.Timer(0.3, cancel.cancel).start()

    with pytest.raises(Cancelled):
        run_profile(
            "array-api:tests.conformance.hangs_in_var",
            "tensor-core-v1",
            only="layer-norm.*",
            timeout_s=60,
            progress=progress,
            cancel=cancel,
        )
    assert seen == ["layer-norm.float32"]


def test_the_worker_speaks_the_language_the_user_chose() -> None:
    from portal.i18n import current_locale, set_locale

    before = current_locale()
    set_locale("fr")
    try:
        outcome = run_profile("cpu-reference", "tensor-core-v1", only="casts")
    finally:
        set_locale(before)
    assert outcome.results[0].message == "les conversions de type sont exactes"
