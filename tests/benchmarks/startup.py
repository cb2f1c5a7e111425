"""Start-up budget: the app's time to first paint and idle RSS against a bare PySide6 window.

Runs `aic-portal-gui --measure-startup` and the bare window alternately, five times each, in this
one process, and prints the medians and their ratios (goals: time <= 1.8x, RSS <= 2x).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RUNS = 5
TIME_GOAL = 1.8
RSS_GOAL = 2.0


def measure(command: list[str]) -> tuple[float, float, float]:
    """Run one start-up; returns (ms to first paint, idle RSS in MiB, peak RSS in MiB)."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0 or "startup_ms=" not in output:
        raise SystemExit(f"{command[0]} failed ({child.returncode}): {output!r}")
    values = dict(line.split("=", 1) for line in output.split() if "=" in line)
    return float(values["startup_ms"]), float(values["idle_rss_mib"]), usage.ru_maxrss / 1024


def medians(rows: list[tuple[float, float, float]]) -> list[float]:
    """The median of each column."""
    return [statistics.median(column) for column in zip(*rows, strict=True)]


def main() -> int:
    """Measure both sides alternately and print medians and ratios."""
    gui = Path(sys.executable).with_name("aic-portal-gui")
    with tempfile.TemporaryDirectory() as data:
        app = [str(gui), "--data-dir", data, "--measure-startup"]
        bare = [sys.executable, str(HERE / "bare_window.py")]
        measure(app)  # creates the data dir and database, as a user's first start would
        measure(bare)
        results: dict[str, list[tuple[float, float, float]]] = {"app": [], "bare": []}
        for _run in range(RUNS):
            results["app"].append(measure(app))
            results["bare"].append(measure(bare))
    app_ms, app_idle, app_peak = medians(results["app"])
    bare_ms, bare_idle, bare_peak = medians(results["bare"])
    print(f"platform: {os.environ.get('QT_QPA_PLATFORM', 'default')}, runs: {RUNS} each")
    for name, rows in results.items():
        print(f"  {name:<5} ms: {', '.join(f'{ms:.0f}' for ms, _idle, _peak in rows)}")
    verdict = {True: "met", False: "NOT met"}
    time_ratio, rss_ratio = app_ms / bare_ms, app_idle / bare_idle
    print(
        f"first paint (median): app {app_ms:.0f} ms, bare window {bare_ms:.0f} ms, "
        f"ratio {time_ratio:.2f} (goal <= {TIME_GOAL}: {verdict[time_ratio <= TIME_GOAL]})"
    )
    print(
        f"idle RSS (median): app {app_idle:.0f} MiB once the store is open and the dashboard "
        f"loaded, bare window {bare_idle:.0f} MiB after its paint, ratio {rss_ratio:.2f} "
        f"(goal <= {RSS_GOAL}: {verdict[rss_ratio <= RSS_GOAL]})"
    )
    print(f"peak RSS (median): app {app_peak:.0f} MiB, bare window {bare_peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
