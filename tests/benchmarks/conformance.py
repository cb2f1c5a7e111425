"""Conformance benchmark: tensor-core-v1 on cpu-reference, end to end through the runner, against
the same check functions called directly in this process.

The runner side is `run_profile`, as `aic-portal conformance run` calls it: a worker forked from
the runner's forkserver, the check results streamed back over its pipe, the outcome. The baseline
is `execute()` on the same checks with the same seed here, with the backend and the table loaded
once per run, as the worker does; both sides must reach the same verdicts. Both alternate,
`--runs` times each; prints the medians, the runner's total time (goal: <= 60 s on 2 cores) and
its overhead ratio (goal: <= 1.15x the in-process time). The first run through the runner also
starts the forkserver (a new interpreter that imports the checks), which a one-off
`aic-portal conformance run` pays every time: it is printed on its own line, and the median of
the later runs too. OPENBLAS_NUM_THREADS defaults to 1 here (see THREADS).
"""

from __future__ import annotations

import argparse
import multiprocessing
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


Verdicts = list[tuple[str, Status]]


def in_process(spec: str, seed: int) -> tuple[float, Verdicts]:
    """Seconds to load the backend and table and run every check here, and the verdicts."""
    started = time.perf_counter()
    backend, table = load_backend(spec), load_table()
    verdicts = [
        (
            check.id,
            execute(backend, check, spec=spec, profile=PROFILE, seed=seed, table=table).status,
        )
        for check in profile_checks(PROFILE)
    ]
    return time.perf_counter() - started, verdicts


def through_runner(spec: str, seed: int) -> tuple[float, Verdicts]:
    """Seconds for run_profile: worker start, every check over the pipe, the outcome."""
    started = time.perf_counter()
    outcome = run_profile(spec, PROFILE, seed=seed)
    elapsed = time.perf_counter() - started
    # The worker ends by itself after its last result, after run_profile has returned; let it
    # end here, outside both timings, so the next in-process run does not share the CPUs with it.
    for child in multiprocessing.active_children():
        child.join()
    return elapsed, [(r.check, r.status) for r in outcome.results]


def main() -> int:
    """Measure both sides alternately; print medians, the total and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="cpu-reference")
    parser.add_argument("--runs", type=int, default=21)  # a run is ~0.1 s: medians need many
    args = parser.parse_args()
    in_proc, runner = [], []
    for run in range(args.runs):
        seconds, here = in_process(args.backend, run)
        in_proc.append(seconds)
        seconds, there = through_runner(args.backend, run)
        runner.append(seconds)
        assert here == there, [(a, b) for a, b in zip(here, there, strict=True) if a != b]
        assert all(s in (Status.PASS, Status.NOT_SUPPORTED) for _id, s in here), here
    in_s, run_s = statistics.median(in_proc), statistics.median(runner)
    ratio = run_s / in_s
    checks = len(profile_checks(PROFILE))
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"{PROFILE} on {args.backend}: {checks} checks, runs: {args.runs}, BLAS threads: {THREADS}"
        f", load average {load} on {os.cpu_count()} CPUs"
    )
    print(f"  in process s: {', '.join(f'{s:.3f}' for s in in_proc)}")
    print(f"  runner     s: {', '.join(f'{s:.3f}' for s in runner)}")
    print(
        f"first run (the runner's includes starting the forkserver): runner {runner[0]:.3f} s, "
        f"in process {in_proc[0]:.3f} s"
    )
    if args.runs > 2:
        later_in, later_run = statistics.median(in_proc[1:]), statistics.median(runner[1:])
        print(
            f"later runs (median): runner {later_run:.3f} s, in process {later_in:.3f} s, "
            f"ratio {later_run / later_in:.2f}"
        )
    print(
        f"total through the runner (median): {run_s:.2f} s "
        f"(goal <= 60 s: {'met' if run_s <= 60 else 'NOT met'})"
    )
    print(
        f"overhead (median of all runs): runner {run_s:.3f} s, in process {in_s:.3f} s, "
        f"ratio {ratio:.2f} (goal <= 1.15: {'met' if ratio <= 1.15 else 'NOT met'}); "
        f"{(run_s - in_s) * 1e3:.0f} ms more per run"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
