"""Imported once by the runner's forkserver, and by nothing else: it loads and warms what every
worker needs, so that a worker forked from the server reads nothing from disk before its checks.

A worker is a fork of the server, so all of this is paid once per portal process, not once per
run. The backend itself is not imported here: each worker loads it afresh, so a vendor's edited
code counts from the next run.
"""

from __future__ import annotations

import gc
import multiprocessing.popen_forkserver  # noqa: F401 - a worker unpickles its pipe end with it
import pkgutil  # noqa: F401 - runpy's, to run the main script again in each worker
from importlib import metadata

import babel.support  # noqa: F401 - what set_locale imports, in a worker for another language
import numpy.ma  # numpy imports these two on first use (np.median, np.random): 15 ms
import numpy.random  # noqa: F401

from portal.conformance import worker  # noqa: F401 - the checks, their helpers and the catalogue
from portal.i18n import format_number

# Capabilities name the backend's distribution version: the first lookup lists every folder of
# sys.path (3 ms). importlib.metadata keys what it listed by the folder's mtime, so an install
# after this point is still seen.
try:
    metadata.version("numpy")
except metadata.PackageNotFoundError:  # a frozen build carries no distribution metadata
    pass
format_number(1.5)  # Babel's CLDR data of the source locale, read on first use


def _warm_numpy() -> None:
    """Run the tensor checks once on the NumPy reference, here in the server: NumPy fills its
    caches (ufunc loops, dtype promotion, the linalg and random modules' state) on first use, and
    a worker forked from a warm server starts its checks without paying that again. No vendor
    code runs: the reference is NumPy, which every tensor check imports anyway."""
    from portal.conformance.backends import cpu_reference
    from portal.conformance.catalogue import execute, profile_checks
    from portal.conformance.tolerances import load_table

    backend, table = cpu_reference(), load_table()
    for check in profile_checks("tensor-core-v1"):
        if not check.id.startswith("performance."):  # timing loops: nothing more to warm
            execute(
                backend, check, spec="cpu-reference", profile="tensor-core-v1", seed=0, table=table
            )


_warm_numpy()
# The server's objects live as long as it does: keeping them out of the collector means a
# worker's collections neither walk them nor copy their pages.
gc.freeze()
