"""Process age and memory for the start-up budget (stdlib only, so it can be imported first)."""

from __future__ import annotations

import os
import sys
import time

_IMPORTED_AT = time.perf_counter()


def resident_mib() -> float:
    """This process's resident memory now (Linux), else its peak so far, in MiB."""
    try:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def process_age_ms() -> float:
    """Milliseconds since the OS started this process (Linux), else since this module loaded."""
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{os.getpid()}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
            return (time.clock_gettime(time.CLOCK_BOOTTIME) - started) * 1000.0
        except (OSError, IndexError, ValueError):
            pass
    return (time.perf_counter() - _IMPORTED_AT) * 1000.0
