"""Quantum backends: any Qiskit BackendV2 (BasicSimulator, Aer, a vendor's) behind one adapter.

A vendor plugs in a backend in one of two ways, both a function with no arguments that returns a
Qiskit `BackendV2`: `--backend qiskit:package.module:function`, or an entry point in the group
`aic_platform.backends` (the name is then what `--backend` takes). Qiskit is imported only when
a quantum backend is loaded, so the other profiles do not pay for it.
"""

from __future__ import annotations

import importlib
import importlib.util
import platform
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from portal.conformance.backends import QISKIT_PREFIX, Backend, Capabilities
from portal.errors import InputError
from portal.i18n import _

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

# Not gates: what a backend's target lists besides its basis gates.
NON_GATES = {"measure", "reset", "delay", "barrier", "global_phase", "store", "if_else", "for_loop"}
NON_GATES |= {"while_loop", "switch_case", "break_loop", "continue_loop", "box"}


@runtime_checkable
class QuantumBackend(Backend, Protocol):
    """A backend that samples Qiskit circuits: counts keyed by bitstring, clbit 0 rightmost."""

    def run_counts(
        self,
        circuits: Sequence[QuantumCircuit],
        *,
        shots: int,
        seed: int | None,
    ) -> list[dict[str, int]]:
        """Sample each circuit `shots` times; `seed` fixes a simulator's samples."""
        ...


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


class QiskitBackend:
    """A Qiskit `BackendV2`: circuits are transpiled for its target, then run with shots."""

    def __init__(self, backend: Any, *, name: str, max_qubits: int | None = None) -> None:
        self.backend = backend
        self.name = name
        self.max_qubits = max_qubits if max_qubits is not None else backend.num_qubits

    @property
    def simulator(self) -> bool:
        """A backend that takes `seed_simulator` samples pseudo-randomly: its seed must repeat."""
        return hasattr(self.backend.options, "seed_simulator")

    def capabilities(self) -> Capabilities:
        """Kind quantum; qubits, basis gates, simulator or not, and the Qiskit versions."""
        versions = {"python": platform.python_version()}
        for package in ("qiskit", "qiskit-aer"):
            if (found := _package_version(package)) is not None:
                versions[package] = found
        vendor = type(self.backend).__module__.split(".")[0]
        if vendor not in ("qiskit", "qiskit_aer"):
            versions[vendor] = _package_version(vendor) or str(
                getattr(self.backend, "backend_version", "unknown")
            )
        return Capabilities(
            kind="quantum",
            dtypes=[],
            devices=[str(self.backend.name)],
            versions=versions,
            max_qubits=self.max_qubits,
            basis_gates=sorted(
                name
                for name in set(self.backend.operation_names) - NON_GATES
                if not name.startswith(("save_", "set_"))  # Aer's snapshot instructions
            ),
            simulator=self.simulator,
        )

    def run_counts(
        self,
        circuits: Sequence[QuantumCircuit],
        *,
        shots: int,
        seed: int | None,
    ) -> list[dict[str, int]]:
        """Transpile without optimisation (a mirror circuit must not fold away), run, count.

        Transpiling against the backend's target is how every Qiskit user submits, so a circuit
        wider than the target is refused there, and one the target leaves open by the backend.
        """
        from qiskit import transpile

        compiled = transpile(
            list(circuits), backend=self.backend, optimization_level=0, seed_transpiler=0
        )
        options: dict[str, Any] = {"shots": shots}
        if seed is not None and self.simulator:
            options["seed_simulator"] = seed
        result = self.backend.run(compiled, **options).result()
        return [
            _bitstrings(result.get_counts(index), circuit.num_clbits)
            for index, circuit in enumerate(circuits)
        ]


def _bitstrings(counts: dict[str, int], width: int) -> dict[str, int]:
    """Counts keyed by `width`-bit strings (register spaces dropped), summed where keys merge."""
    merged: dict[str, int] = {}
    for key, count in counts.items():
        bits = key.replace(" ", "").zfill(width)
        merged[bits] = merged.get(bits, 0) + int(count)
    return merged


def wrap(found: object, *, name: str) -> Backend:
    """A factory's product as a backend: a conformance Backend as is, a Qiskit BackendV2 wrapped."""
    if isinstance(found, Backend):
        return found
    if importlib.util.find_spec("qiskit") is not None:
        from qiskit.providers import BackendV2

        if isinstance(found, BackendV2):
            return QiskitBackend(found, name=name)
    raise InputError(
        _(
            "{name} gave a {type}, which is neither a conformance backend nor a Qiskit BackendV2."
        ).format(name=name, type=type(found).__name__)
    )


def check_spec(spec: str) -> None:
    """Say plainly if `qiskit:MODULE:FUNCTION` is malformed or its module missing (no import)."""
    module, _sep, function = spec.removeprefix(QISKIT_PREFIX).partition(":")
    if not module or not function.isidentifier():
        raise InputError(
            _("“{spec}” is not qiskit:MODULE:FUNCTION (a function returning a BackendV2).").format(
                spec=spec
            )
        )
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise InputError(_("There is no Python module {module} to test.").format(module=module))


def load_spec(spec: str) -> Backend:
    """The backend a `qiskit:MODULE:FUNCTION` spec names, made by calling the function."""
    check_spec(spec)
    module_name, _sep, function = spec.removeprefix(QISKIT_PREFIX).partition(":")
    factory: Callable[[], object] | None = getattr(
        importlib.import_module(module_name), function, None
    )
    if not callable(factory):
        raise InputError(
            _("{module} has no function {function}.").format(module=module_name, function=function)
        )
    return wrap(factory(), name=spec)


def qiskit_basic() -> Backend:
    """Qiskit's own BasicSimulator: the statevector reference for the quantum profile."""
    from qiskit.providers.basic_provider import BasicSimulator

    # Its target leaves num_qubits open; the simulator refuses circuits over this many.
    return QiskitBackend(
        BasicSimulator(), name="qiskit-basic", max_qubits=BasicSimulator.MAX_QUBITS_STATEVECTOR
    )


def qiskit_aer() -> Backend:
    """Qiskit Aer's simulator, where qiskit-aer is installed."""
    from qiskit_aer import AerSimulator

    return QiskitBackend(AerSimulator(), name="qiskit-aer")
