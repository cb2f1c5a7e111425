"""Backends under test: array-API tensor namespaces and LIF neuromorphic models, found by name."""

from __future__ import annotations

import importlib
import importlib.util
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, entry_points, version
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from portal.conformance.lif import LifParams, LifTrace, simulate
from portal.errors import InputError
from portal.i18n import _

ENTRY_POINT_GROUP = "aic_platform.backends"
ARRAY_API_PREFIX = "array-api:"
QISKIT_PREFIX = "qiskit:"  # qiskit:MODULE:FUNCTION, a function that returns a Qiskit BackendV2


@dataclass(frozen=True)
class Capabilities:
    """What a backend says it offers; checks on a dtype or kind it lacks are NOT_SUPPORTED."""

    kind: str  # "tensor", "neuromorphic" or "quantum"
    dtypes: list[str]
    devices: list[str]
    versions: dict[str, str] = field(default_factory=dict)
    # Quantum backends only: the widest circuit they take, their gates, and whether they simulate.
    max_qubits: int | None = None
    basis_gates: list[str] = field(default_factory=list)
    simulator: bool | None = None
    ops: list[str] = field(default_factory=list)  # native ops beyond the array API, by name


@runtime_checkable
class Backend(Protocol):
    """Anything the runner can test: it has a name and describes itself."""

    name: str

    def capabilities(self) -> Capabilities:
        """The backend's kind, dtypes, devices and software versions."""
        ...


@runtime_checkable
class TensorBackend(Backend, Protocol):
    """A backend whose operations are a Python array API standard namespace."""

    xp: Any

    def to_numpy(self, array: Any) -> npt.NDArray[Any]:
        """A host copy of a backend array, so checks compare in NumPy."""
        ...


@runtime_checkable
class NeuromorphicBackend(Backend, Protocol):
    """A backend that runs the fixed-point LIF model of `portal.conformance.lif`."""

    def run_lif(self, currents: npt.NDArray[np.int32], params: LifParams) -> LifTrace:
        """Simulate `currents` (steps x neurons) and return potentials and spikes."""
        ...


class ArrayApiBackend:
    """Any module that is an array API namespace (numpy, array_api_strict, cupy, …)."""

    def __init__(self, module: ModuleType, *, name: str) -> None:
        self.xp = module
        self.name = name

    def capabilities(self) -> Capabilities:
        """Dtypes and devices from the namespace's inspection API (array API 2023.12)."""
        info = self.xp.__array_namespace_info__()
        versions = {
            "array_api": str(getattr(self.xp, "__array_api_version__", "unknown")),
            "python": platform.python_version(),
        }
        top = self.xp.__name__.split(".")[0]
        try:
            versions[top] = version(top)
        except PackageNotFoundError:  # a module outside any installed distribution
            versions[top] = str(getattr(self.xp, "__version__", "unknown"))
        return Capabilities(
            kind="tensor",
            dtypes=sorted(info.dtypes()),
            devices=[str(device) for device in info.devices()],
            versions=versions,
        )

    def to_numpy(self, array: Any) -> npt.NDArray[Any]:
        """A NumPy copy, through DLPack unless it already is NumPy."""
        if isinstance(array, np.ndarray | np.generic):
            return np.asarray(array)
        return np.from_dlpack(array)


class LifReferenceBackend:
    """The reference LIF model itself, so the neuromorphic profile has a backend that passes."""

    name = "lif-reference"

    def capabilities(self) -> Capabilities:
        """Integer state on the CPU."""
        return Capabilities(
            kind="neuromorphic",
            dtypes=["int32"],
            devices=["cpu"],
            versions={"numpy": np.__version__, "python": platform.python_version()},
        )

    def run_lif(self, currents: npt.NDArray[np.int32], params: LifParams) -> LifTrace:
        """The reference simulation."""
        return simulate(currents, params)


def cpu_reference() -> Backend:
    """NumPy's array API namespace: the tensor reference every vendor is compared against."""
    return ArrayApiBackend(np, name="cpu-reference")


def lif_reference() -> Backend:
    """The fixed-point NumPy LIF model."""
    return LifReferenceBackend()


def qiskit_basic() -> Backend:
    """Qiskit's BasicSimulator (portal.conformance.quantum, imported only when asked for)."""
    from portal.conformance.quantum import qiskit_basic

    return qiskit_basic()


def qiskit_aer() -> Backend:
    """Qiskit Aer's simulator, where qiskit-aer is installed."""
    from portal.conformance.quantum import qiskit_aer

    return qiskit_aer()


def _framework(factory: str) -> Callable[[], Backend]:
    """A factory of `frameworks`, imported when called (it imports this module, and torch)."""

    def load() -> Backend:
        from portal.conformance import frameworks

        made: Backend = getattr(frameworks, factory)()
        return made

    return load


# Frozen builds (PyInstaller) carry no entry-point metadata, so the built-ins are also known here.
# torch = CUDA where a GPU is visible, else CPU; torch:cpu and torch:cuda pin the device.
BUILTINS: dict[str, Callable[[], Backend]] = {
    "cpu-reference": cpu_reference,
    "lif-reference": lif_reference,
    "qiskit-basic": qiskit_basic,
    "qiskit-aer": qiskit_aer,
    "torch": _framework("torch_best"),
    "torch:cpu": _framework("torch_cpu"),
    "torch:cuda": _framework("torch_cuda"),
    "jax": _framework("jax_backend"),
    "cupy": _framework("cupy_backend"),
}
# Built-ins that need an optional package: (module to look for, distribution to install).
REQUIRES = {"qiskit-basic": ("qiskit", "qiskit"), "qiskit-aer": ("qiskit_aer", "qiskit-aer")}


class BackendNotInstalledError(InputError):
    """A known backend whose package is not installed: listed as such, and a run cannot start."""


def backend_names() -> list[str]:
    """Every registered backend name: built-ins and the `aic_platform.backends` entry points."""
    return sorted(set(BUILTINS) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def check_backend_spec(spec: str) -> None:
    """Say plainly if `spec` names no backend, without importing it (imports may crash)."""
    if spec.startswith(ARRAY_API_PREFIX):
        module = spec.removeprefix(ARRAY_API_PREFIX)
        try:
            found = module != "" and importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise InputError(_("There is no Python module {module} to test.").format(module=module))
        return
    if spec.startswith(QISKIT_PREFIX):
        from portal.conformance.quantum import check_spec

        check_spec(spec)
        return
    if spec not in BUILTINS and spec not in backend_names():
        raise InputError(
            _("There is no backend “{name}”. Known: {known}; or give array-api:MODULE.").format(
                name=spec, known=", ".join(backend_names())
            )
        )
    if spec in REQUIRES and importlib.util.find_spec(REQUIRES[spec][0]) is None:
        raise BackendNotInstalledError(
            _("{package} is not installed (pip install {package}).").format(
                package=REQUIRES[spec][1]
            )
        )


def load_backend(spec: str) -> Backend:
    """The backend `spec` names: `array-api:MODULE`, `qiskit:MODULE:FUNCTION` or a name."""
    check_backend_spec(spec)
    if spec.startswith(ARRAY_API_PREFIX):
        module = importlib.import_module(spec.removeprefix(ARRAY_API_PREFIX))
        if not hasattr(module, "__array_namespace_info__"):
            raise InputError(
                _(
                    "{module} is not an array API namespace (it has no __array_namespace_info__)."
                ).format(module=module.__name__)
            )
        return ArrayApiBackend(module, name=spec)
    if spec.startswith(QISKIT_PREFIX):
        from portal.conformance.quantum import load_spec

        return load_spec(spec)
    if spec not in BUILTINS:  # built-ins are entry points too, but a vendor's must not replace one
        for ep in entry_points(group=ENTRY_POINT_GROUP, name=spec):
            factory: Callable[[], object] = ep.load()
            found = factory()
            if isinstance(found, Backend):
                return found
            from portal.conformance.quantum import wrap  # a vendor's Qiskit BackendV2

            return wrap(found, name=spec)
    return BUILTINS[spec]()
