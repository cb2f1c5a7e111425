"""Sampled counts against an ideal distribution: TVD, shots from an L1 bound, bounded re-runs.

The bound (Bretagnolle–Huber–Carol, in the form of Weissman et al. 2003, "Inequalities for the
L1 deviation of the empirical distribution"): for n independent samples of a distribution p over
k outcomes, P(||p_hat - p||_1 >= e) <= (2^k - 2) exp(-n e^2 / 2). With TVD = ||.||_1 / 2 this is
P(TVD(p_hat, p) >= t) <= (2^k - 2) exp(-2 n t^2), for any p, so it serves twice:

- a perfect backend (it samples the ideal p) shows TVD >= t with probability at most that bound;
- a backend that samples some q with TVD(q, p) >= 2t shows TVD(p_hat, p) >= t except with the
  same probability (triangle inequality), so a sampler off by twice the threshold fails.

Outcomes the ideal never produces are pooled into one category: the TVD is unchanged (p is 0
there) and k stays the ideal's support size plus one, which keeps the shot counts small.

Re-runs: an attempt with TVD below `clear` passes, one at or above `threshold` fails, one in
between is re-run with `growth` times the shots, at most `max_attempts` attempts in all; a last
attempt still in between is a QUALITY_WARNING (it passes, close to the limit). A perfect backend
fails only if some attempt reaches the threshold, so P(FAIL) <= the sum of the attempts' bounds;
the first attempt's shots are derived for alpha / max_attempts and later attempts have more
shots (smaller bounds), so the sum stays within alpha. Every attempt is recorded.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from portal.conformance.results import Status
from portal.errors import InputError
from portal.i18n import _

OTHER = "other"  # the pooled outcomes the ideal distribution never produces


@dataclass(frozen=True)
class TvdPolicy:
    """The limits one statistical test is judged by, from the tolerance table's [quantum]."""

    threshold: float  # a measured TVD at or above this fails
    clear: float  # below this an attempt passes outright; in between it is re-run
    alpha: float  # false-alarm budget of this one test (the run's budget over its tests)
    max_attempts: int
    growth: int  # each re-run has this many times the previous attempt's shots

    def __post_init__(self) -> None:
        if not (0 < self.clear <= self.threshold < 1 and 0 < self.alpha < 1):
            raise InputError(
                _("Invalid quantum limits: need 0 < clear <= threshold < 1 and 0 < alpha < 1.")
            )
        if self.max_attempts < 1 or self.growth < 1:
            raise InputError(_("Invalid quantum limits: attempts and growth must be at least 1."))


@dataclass(frozen=True)
class Attempt:
    """One sampling of a circuit: what was asked, what came back, and how it was judged."""

    shots: int
    counts_total: int  # a backend that returns another number of samples fails outright
    seed: int
    counts_sha256: str
    tvd: float
    threshold: float
    clear: float
    false_alarm_bound: float  # P(a perfect backend reaches the threshold with these shots)


@dataclass(frozen=True)
class Verdict:
    """The status after the last attempt, and every attempt that led to it."""

    status: Status
    attempts: list[Attempt]

    @property
    def tvd(self) -> float:
        """The measured TVD of the attempt that decided."""
        return self.attempts[-1].tvd

    def as_json(self) -> list[dict[str, Any]]:
        """The attempts as plain JSON values, for a result's `measured` data."""
        return [asdict(attempt) for attempt in self.attempts]


def log_outcome_factor(k: int) -> float:
    """ln(2^k - 2), the bound's factor for k outcomes, without overflow for large k."""
    if k < 2:
        raise ValueError("a distribution needs at least two outcomes to be tested")
    return k * math.log(2) + math.log1p(-(2.0 ** (1 - k)))


def false_alarm_bound(shots: int, tvd: float, k: int) -> float:
    """P(TVD(p_hat, p) >= tvd) for `shots` samples of any p over k outcomes (at most 1)."""
    return min(1.0, math.exp(log_outcome_factor(k) - 2 * shots * tvd * tvd))


def shots_for(tvd: float, alpha: float, k: int) -> int:
    """The fewest shots for which a perfect sampler reaches `tvd` with probability <= alpha."""
    return math.ceil((log_outcome_factor(k) - math.log(alpha)) / (2 * tvd * tvd))


def categories(ideal: Mapping[str, float], n_bits: int) -> int:
    """k for the bound: the ideal's support, plus one pooled category if it misses outcomes."""
    support = sum(1 for p in ideal.values() if p > 0)
    return support + (1 if support < 2**n_bits else 0)


def tvd(counts: Mapping[str, int], ideal: Mapping[str, float]) -> float:
    """Total-variation distance between the counts' frequencies and the ideal distribution."""
    shots = sum(counts.values())
    if shots <= 0:
        raise ValueError("no shots to compare")
    keys = set(counts) | set(ideal)
    return 0.5 * sum(abs(counts.get(key, 0) / shots - ideal.get(key, 0.0)) for key in keys)


def counts_digest(counts: Mapping[str, int]) -> str:
    """A short SHA-256 of the counts, so a report pins what each attempt saw."""
    data = json.dumps(dict(sorted(counts.items())), separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def first_shots(policy: TvdPolicy, k: int) -> int:
    """The first attempt's shots: the bound at the threshold within alpha / max_attempts."""
    return shots_for(policy.threshold, policy.alpha / policy.max_attempts, k)


def sequential_test(
    sample: Callable[[int, int], Mapping[str, int]],
    ideal: Mapping[str, float],
    *,
    n_bits: int,
    policy: TvdPolicy,
    seeds: Callable[[], int],
) -> Verdict:
    """Sample (shots, seed) -> counts until an attempt is clear or failed, or attempts run out."""
    k = categories(ideal, n_bits)
    shots = first_shots(policy, k)
    attempts: list[Attempt] = []
    for number in range(policy.max_attempts):
        seed = seeds()
        counts = sample(shots, seed)
        total = sum(counts.values())
        measured = tvd(counts, ideal) if total > 0 else 1.0
        attempts.append(
            Attempt(
                shots=shots,
                counts_total=total,
                seed=seed,
                counts_sha256=counts_digest(counts),
                tvd=measured,
                threshold=policy.threshold,
                clear=policy.clear,
                false_alarm_bound=false_alarm_bound(shots, policy.threshold, k),
            )
        )
        if measured >= policy.threshold or total != shots:
            return Verdict(Status.FAIL, attempts)
        if measured < policy.clear:
            return Verdict(Status.PASS, attempts)
        if number + 1 < policy.max_attempts:
            shots *= policy.growth
    return Verdict(Status.QUALITY_WARNING, attempts)
