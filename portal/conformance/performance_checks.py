"""matmul latency and throughput: measured and reported, never judged (PASS with the numbers).

Latency is the wall time of one n x n matmul until its result is complete: the backend's
`synchronize()` where it has one (torch on CUDA), else until one element of the result is on the
host. After 3 warm-up calls it runs 30 times, or fewer (at least 5) once two seconds have
passed, so a slow machine gives fewer samples but never a FAIL. Throughput is 2n³ floating-point
operations over the median (and over the p95) latency; p95 is the nearest-rank percentile (the
sample below which 95 % of the samples lie), without interpolation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from portal.conformance.checks import CheckContext, Finding
from portal.conformance.results import Status
from portal.conformance.tensor_common import draw, host, per_dtype, put
from portal.i18n import _, format_number

SIZE = 256
WARMUP, MIN_RUNS, MAX_RUNS, BUDGET_S = 3, 5, 30, 2.0


def _completer(ctx: CheckContext) -> Callable[[Any], None]:
    """What waits until a result is complete: the backend's synchronize, or a 1-element copy."""
    synchronize = getattr(ctx.backend, "synchronize", None)

    def complete(result: Any) -> None:
        if callable(synchronize):
            synchronize()
        else:
            host(ctx, result[0:1, 0:1])

    return complete


def matmul_timing(dtype: str) -> Callable[[CheckContext], Finding]:
    """Median and p95 latency of a SIZE x SIZE matmul, and the GFLOP/s they mean."""

    def run(ctx: CheckContext) -> Finding:
        xp = ctx.backend.xp
        a = put(ctx, draw(ctx.rng.standard_normal((SIZE, SIZE)), dtype), dtype)
        b = put(ctx, draw(ctx.rng.standard_normal((SIZE, SIZE)), dtype), dtype)
        complete = _completer(ctx)
        for _warm in range(WARMUP):
            complete(xp.matmul(a, b))
        times: list[float] = []
        started = time.perf_counter()
        while len(times) < MAX_RUNS and (
            len(times) < MIN_RUNS or time.perf_counter() - started < BUDGET_S
        ):
            start = time.perf_counter()
            complete(xp.matmul(a, b))
            times.append(time.perf_counter() - start)
        ranked = sorted(times)
        median = float(np.median(ranked))
        p95 = ranked[math.ceil(0.95 * len(ranked)) - 1]  # nearest rank: no interpolation
        flops = 2.0 * SIZE**3
        measured = {
            "size": SIZE,
            "runs": len(times),
            "median_s": median,
            "p95_s": p95,
            "min_s": min(times),
            "gflops_median": flops / median / 1e9,
            "gflops_p95": flops / p95 / 1e9,
        }
        message = _("median {median} ms, p95 {p95} ms, {gflops} GFLOP/s over {runs} runs").format(
            median=format_number(round(median * 1e3, 3)),
            p95=format_number(round(p95 * 1e3, 3)),
            gflops=format_number(round(measured["gflops_median"], 1)),
            runs=len(times),
        )
        return Finding(Status.PASS, message, measured, [[SIZE, SIZE], [SIZE, SIZE]])

    return run


SNIPPET = """\
import time
a = put(rounded(rng.standard_normal((256, 256)), DTYPE), DTYPE)
b = put(rounded(rng.standard_normal((256, 256)), DTYPE), DTYPE)
times = []
for _ in range(23):
    start = time.perf_counter()
    host(xp.matmul(a, b)[0:1, 0:1])
    times.append(time.perf_counter() - start)
print("median", np.median(times[3:]), "s; p95", np.percentile(times[3:], 95), "s")
"""

CHECKS = per_dtype("performance.matmul", matmul_timing, optional=True, snippet=SNIPPET)
