"""Backends are probed in a child process: a vendor import that kills or hangs its process is
that backend's reason, and the backends after it are still read."""

from __future__ import annotations

from portal.conformance.backends import Capabilities
from portal.conformance.probe import probe_backends


def test_a_crashing_import_is_a_reason_and_the_rest_are_still_read() -> None:
    names = [
        "array-api:tests.conformance.dies_on_import",
        "cpu-reference",
        "array-api:no_such_module_here",
        "lif-reference",
    ]
    found = probe_backends(names)
    assert list(found) == names
    assert found[names[0]] == "loading it ended its process (exit code 3)"
    cpu = found["cpu-reference"]
    assert isinstance(cpu, Capabilities) and cpu.kind == "tensor" and "float32" in cpu.dtypes
    assert found[names[2]] == "There is no Python module no_such_module_here to test."
    lif = found["lif-reference"]
    assert isinstance(lif, Capabilities) and lif.kind == "neuromorphic"


def test_a_hanging_import_is_stopped_after_the_time_limit() -> None:
    hangs = "array-api:tests.conformance.hangs_on_import"
    found = probe_backends([hangs, "cpu-reference"], timeout_s=2)
    assert found[hangs] == "loading it took more than 2 s; it was stopped"
    assert isinstance(found["cpu-reference"], Capabilities)
