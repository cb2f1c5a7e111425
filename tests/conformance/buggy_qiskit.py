"""Qiskit BackendV2s with deliberate bugs, for `--backend qiskit:tests.conformance.buggy_qiskit:…`.

Both wrap Qiskit's BasicSimulator and tamper with its counts, seeded by `seed_simulator`, so a
failing check reruns to the very same counts.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from qiskit.providers import BackendV2, Options
from qiskit.providers.basic_provider import BasicSimulator
from qiskit.result import Result
from qiskit.transpiler import Target

CLAIMED_QUBITS = 8


class _Done:
    """A finished job: all `QiskitBackend.run_counts` asks of a job is its result."""

    def __init__(self, result: Result) -> None:
        self._result = result

    def result(self) -> Result:
        return self._result


class BuggyBackend(BackendV2):
    """Flips classical bit 0 in a fraction of shots, or reverses the bit order of every shot."""

    def __init__(self, *, flip: float, reverse: bool) -> None:
        super().__init__(name="buggy_qpu", backend_version="0.1")
        self._inner = BasicSimulator()
        self._flip, self._reverse = flip, reverse

    @property
    def target(self) -> Target:
        return self._inner.target

    @property
    def num_qubits(self) -> int:
        return CLAIMED_QUBITS  # claimed, but wider circuits run anyway: another bug

    @property
    def max_circuits(self) -> None:
        return None

    @classmethod
    def _default_options(cls) -> Options:
        return Options(shots=1024, seed_simulator=None)

    def run(self, run_input: Any, **options: Any) -> _Done:
        result = self._inner.run(run_input, **options).result()
        rng = np.random.default_rng(options.get("seed_simulator"))
        for experiment in result.results:
            width = experiment.header["memory_slots"]
            tampered: Counter[str] = Counter()
            for key, count in sorted(experiment.data.counts.items()):
                value = int(key, 16)
                if self._reverse:
                    value = int(format(value, f"0{width}b")[::-1], 2)
                flipped = int(rng.binomial(count, self._flip))
                tampered[hex(value)] += count - flipped
                tampered[hex(value ^ 1)] += flipped
            experiment.data.counts = {key: n for key, n in tampered.items() if n}
        return _Done(result)


def flipping() -> BackendV2:
    """Bit 0 flipped in 10 % of shots: TVD 0.1 (twice the limit) on Bell and mirror circuits."""
    return BuggyBackend(flip=0.1, reverse=False)


def reversed_bits() -> BackendV2:
    """Qubit 0 reported leftmost: right on symmetric states, wrong on every asymmetric one."""
    return BuggyBackend(flip=0.0, reverse=True)


class UnseededBackend(BackendV2):
    """A correct backend that takes no seed, as hardware does: the seed check is NOT_SUPPORTED."""

    def __init__(self) -> None:
        super().__init__(name="unseeded_qpu", backend_version="0.1")
        self._inner = BasicSimulator()

    @property
    def target(self) -> Target:
        return self._inner.target

    @property
    def num_qubits(self) -> int:
        return CLAIMED_QUBITS

    @property
    def max_circuits(self) -> None:
        return None

    @classmethod
    def _default_options(cls) -> Options:
        return Options(shots=1024)

    def run(self, run_input: Any, **options: Any) -> Any:
        return self._inner.run(run_input, **options)


def unseeded() -> BackendV2:
    """Right answers, no `seed_simulator` option: what a hardware backend looks like."""
    return UnseededBackend()


def not_a_backend() -> object:
    """A factory that returns something else: loading it must say so."""
    return 42
