"""Conformance benchmark: tensor-core-v1 on cpu-reference, end to end through the runner, against
the same check functions called directly in this process.

The runner side is `run_profile` (a spawned worker, one pipe round trip per check, the report
data); the baseline is `execute()` on every check of the profile here, with the backend and the
table loaded once, as the worker does. Both sides alternate, `--runs` times each; prints the
medians, the runner's total time (goal: <= 60 s on 2 cores) and its overhead ratio (goal:
<= 1.15x the in-process time). OPENBLAS_NUM_THREADS defaults to 1 here (see THREADS).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# One BLAS thread on both sides (the worker inherits it): on a shared 2-core machine a second
# BLAS thread per process turns the matmul checks into a measure of the neighbours' load.
THREADS = os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.conformance.backends import load_backend  # noqa: E402
from portal.conformance.catalogue import execute, profile_checks  # noqa: E402
from portal.conformance.results import Status  # noqa: E402
from portal.conformance.runner import run_profile  # noqa: E402
from portal.conformance.tolerances import load_table  # noqa: E402

PROFILE = "tensor-core-v1"


def in_process(spec: str, seed: int) -> float:
    """Seconds to load the backend and table and run every check here."""
    started = time.perf_counter()
    backend, table = load_backend(spec), load_table()
    for check in profile_checks(PROFILE):
        result = execute(backend, check, spec=spec, profile=PROFILE, seed=seed, table=table)
        assert result.status in (Status.PASS, Status.NOT_SUPPORTED), (check.id, result.message)
    return time.perf_counter() - started


def through_runner(spec: str, seed: int) -> float:
    """Seconds for run_profile: worker start, every check over the pipe, the outcome."""
    started = time.perf_counter()
    outcome = run_profile(spec, PROFILE, seed=seed)
    elapsed = time.perf_counter() - started
    assert outcome.exit_code == 0, [r for r in outcome.results if r.status is not Status.PASS]
    return elapsed


def main() -> int:
    """Measure both sides alternately; print medians, the total and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="cpu-reference")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    in_proc, runner = [], []
    for run in range(args.runs):
        in_proc.append(in_process(args.backend, run))
        runner.append(through_runner(args.backend, run))
    in_s, run_s = statistics.median(in_proc), statistics.median(runner)
    ratio = run_s / in_s
    checks = len(profile_checks(PROFILE))
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"{PROFILE} on {args.backend}: {checks} checks, runs: {args.runs}, BLAS threads: {THREADS}"
        f", load average {load} on {os.cpu_count()} CPUs"
    )
    print(f"  in process s: {', '.join(f'{s:.2f}' for s in in_proc)}")
    print(f"  runner     s: {', '.join(f'{s:.2f}' for s in runner)}")
    print(
        f"total through the runner (median): {run_s:.2f} s "
        f"(goal <= 60 s: {'met' if run_s <= 60 else 'NOT met'})"
    )
    print(
        f"overhead (median): runner {run_s:.2f} s, in process {in_s:.2f} s, ratio {ratio:.2f} "
        f"(goal <= 1.15: {'met' if ratio <= 1.15 else 'NOT met'}); "
        f"{(run_s - in_s) * 1e3:.0f} ms more per run"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
