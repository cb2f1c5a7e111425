"""The statistics behind quantum-gate-v1: the L1 bound, derived shots, TVD and bounded re-runs."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.conformance.results import Status
from portal.conformance.sampling import (
    OTHER,
    TvdPolicy,
    categories,
    false_alarm_bound,
    first_shots,
    log_outcome_factor,
    sequential_test,
    shots_for,
    tvd,
)
from portal.conformance.tolerances import load_table
from portal.errors import InputError

POLICY = TvdPolicy(threshold=0.05, clear=0.025, alpha=1e-6 / 7, max_attempts=3, growth=4)


def test_the_bound_and_the_shots_it_derives() -> None:
    assert log_outcome_factor(3) == pytest.approx(math.log(6))
    assert log_outcome_factor(2000) == pytest.approx(2000 * math.log(2))  # no overflow
    # ln(2^3 - 2) + ln(1e6) = 15.607..., over 2 * 0.05^2: 3121.45 -> 3122.
    assert shots_for(0.05, 1e-6, 3) == 3122
    for k in (2, 3, 8, 33):
        n = shots_for(0.05, 1e-7, k)
        assert false_alarm_bound(n, 0.05, k) <= 1e-7 < false_alarm_bound(n - 1, 0.05, k)
    assert false_alarm_bound(1, 0.05, 8) == 1.0


def test_the_attempts_together_stay_within_the_alpha_of_one_test() -> None:
    for k in (2, 3, 8):
        n = first_shots(POLICY, k)
        total = sum(
            false_alarm_bound(n * POLICY.growth**j, POLICY.threshold, k)
            for j in range(POLICY.max_attempts)
        )
        assert total <= POLICY.alpha


def test_tvd_and_pooled_categories() -> None:
    assert tvd({"00": 50, "11": 50}, {"00": 0.5, "11": 0.5}) == 0
    assert tvd({"00": 40, "11": 50, "01": 10}, {"00": 0.5, "11": 0.5}) == pytest.approx(0.1)
    assert tvd({"1": 10}, {"0": 1.0}) == 1.0
    assert categories({"00": 0.5, "11": 0.5}, 2) == 3  # 00, 11 and the pooled rest
    assert categories({"0": 0.25, "1": 0.75}, 1) == 2
    assert categories({format(i, "03b"): 1 / 8 for i in range(8)}, 3) == 8


def test_the_shipped_table_has_the_quantum_limits() -> None:
    limits = load_table().quantum
    assert limits["tvd_threshold"] == 0.05 and limits["tvd_clear"] == 0.025
    assert limits["false_alarm_per_run"] == 1e-6
    assert (limits["max_attempts"], limits["shots_growth"]) == (3, 4)


def test_a_policy_with_impossible_limits_is_refused() -> None:
    with pytest.raises(InputError, match="clear <= threshold"):
        TvdPolicy(threshold=0.05, clear=0.1, alpha=1e-6, max_attempts=3, growth=4)
    with pytest.raises(InputError, match="at least 1"):
        TvdPolicy(threshold=0.05, clear=0.02, alpha=1e-6, max_attempts=0, growth=4)


Sampler = Callable[[int, int], dict[str, int]]


def _exact_sampler(q: dict[str, float]) -> Sampler:
    """Counts that are q times the shots (rounded), so the control flow is deterministic."""

    def sample(shots: int, seed: int) -> dict[str, int]:
        counts = {key: round(p * shots) for key, p in q.items()}
        first = next(iter(counts))
        counts[first] += shots - sum(counts.values())
        return counts

    return sample


def _seeds() -> int:
    return 1


def test_a_borderline_result_is_rerun_with_more_shots_and_every_attempt_is_kept() -> None:
    ideal = {"00": 0.5, "11": 0.5}
    off = {"00": 0.465, "11": 0.5, "01": 0.035}  # TVD 0.035: between clear and threshold
    verdict = sequential_test(_exact_sampler(off), ideal, n_bits=2, policy=POLICY, seeds=_seeds)
    assert verdict.status is Status.QUALITY_WARNING
    n = first_shots(POLICY, 3)
    assert [a.shots for a in verdict.attempts] == [n, 4 * n, 16 * n]
    assert all(a.tvd == pytest.approx(0.035, abs=1e-3) for a in verdict.attempts)
    recorded = verdict.as_json()
    assert set(recorded[0]) >= {"shots", "seed", "counts_sha256", "tvd", "threshold"}
    assert recorded[0]["counts_sha256"] != recorded[1]["counts_sha256"]


def test_a_clear_pass_and_a_clear_fail_take_one_attempt() -> None:
    ideal = {"0": 0.5, "1": 0.5}
    passed = sequential_test(_exact_sampler(ideal), ideal, n_bits=1, policy=POLICY, seeds=_seeds)
    assert passed.status is Status.PASS and len(passed.attempts) == 1
    failed = sequential_test(
        _exact_sampler({"0": 0.4, "1": 0.6}), ideal, n_bits=1, policy=POLICY, seeds=_seeds
    )
    assert failed.status is Status.FAIL and len(failed.attempts) == 1


def test_counts_that_do_not_add_up_to_the_shots_fail() -> None:
    def short(shots: int, seed: int) -> dict[str, int]:
        return {"0": shots // 2, "1": shots // 2 - 1}

    verdict = sequential_test(short, {"0": 0.5, "1": 0.5}, n_bits=1, policy=POLICY, seeds=_seeds)
    assert verdict.status is Status.FAIL and len(verdict.attempts) == 1
    assert verdict.attempts[0].counts_total < verdict.attempts[0].shots


def _multinomial(q: dict[str, float]) -> Sampler:
    keys = list(q)

    def sample(shots: int, seed: int) -> dict[str, int]:
        drawn = np.random.default_rng(seed).multinomial(shots, [q[k] for k in keys])
        return {k: int(n) for k, n in zip(keys, drawn, strict=True) if n}

    return sample


distributions = st.lists(st.integers(1, 20), min_size=2, max_size=8).map(
    lambda weights: {f"o{i}": w / sum(weights) for i, w in enumerate(weights)}
)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(ideal=distributions, seed=st.integers(0, 2**31 - 1))
def test_a_perfect_sampler_passes(ideal: dict[str, float], seed: int) -> None:
    seeds = iter(range(seed, seed + POLICY.max_attempts))
    verdict = sequential_test(
        _multinomial(ideal), ideal, n_bits=4, policy=POLICY, seeds=lambda: next(seeds)
    )
    assert verdict.status in (Status.PASS, Status.QUALITY_WARNING)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(ideal=distributions, seed=st.integers(0, 2**31 - 1))
def test_a_sampler_off_by_twice_the_threshold_fails(ideal: dict[str, float], seed: int) -> None:
    biased = dict(ideal)
    top = max(biased, key=lambda key: biased[key])  # at least 1/8 >= 2 * 0.05
    biased[top] -= 2 * POLICY.threshold
    biased[OTHER] = 2 * POLICY.threshold  # an outcome the ideal never gives
    seeds = iter(range(seed, seed + POLICY.max_attempts))
    verdict = sequential_test(
        _multinomial(biased), ideal, n_bits=4, policy=POLICY, seeds=lambda: next(seeds)
    )
    assert verdict.status is Status.FAIL
