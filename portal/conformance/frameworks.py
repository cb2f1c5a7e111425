"""Adapters for tensor libraries that may not be installed: torch (CPU or CUDA), jax and cupy."""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import importlib
import importlib.util
import platform
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from portal.conformance.backends import ArrayApiBackend, Backend, Capabilities
from portal.errors import InputError
from portal.i18n import _

# Array API creation functions that take `device=`; the `*_like` ones follow their argument.
_CREATORS = frozenset({"arange", "asarray", "empty", "eye", "full", "linspace", "ones", "zeros"})
# Beyond the array API's dtypes: what torch computes in on CPU and on CUDA (bfloat16 only where
# the GPU has it).
_LOW_PRECISION = ("float16", "bfloat16")


def _require(module: str, *, package: str) -> ModuleType:
    """Import `module`, or say plainly that `package` is not installed (the backend is listed)."""
    if importlib.util.find_spec(module.split(".")[0]) is None:
        raise InputError(_("{package} is not installed.").format(package=package))
    return importlib.import_module(module)


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


class OnDevice:
    """A namespace whose creation functions put new arrays on one device unless told otherwise."""

    def __init__(self, xp: ModuleType, device: Any) -> None:
        self._xp = xp
        self.device = device
        self.__name__ = xp.__name__

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._xp, name)
        if name in _CREATORS:
            return functools.partial(attr, device=self.device)  # a caller's device= still wins
        return attr


def _cuda_driver_version() -> str:
    """The CUDA driver's version from libcuda itself (torch only reports its runtime)."""
    try:
        libcuda = ctypes.CDLL("libcuda.so.1" if platform.system() == "Linux" else "nvcuda.dll")
    except OSError:
        return "unknown"
    number = ctypes.c_int()
    if libcuda.cuDriverGetVersion(ctypes.byref(number)) != 0:
        return "unknown"
    return f"{number.value // 1000}.{number.value % 1000 // 10}"


class TorchBackend:
    """PyTorch on one device through array-api-compat, plus the native ops torch has."""

    def __init__(self, device: str, *, name: str) -> None:
        torch = _require("torch", package="torch")
        compat = _require("array_api_compat.torch", package="array-api-compat")
        if device == "cuda" and not torch.cuda.is_available():
            raise InputError(
                _("torch {version} sees no CUDA device (CUDA runtime: {cuda}).").format(
                    version=torch.__version__, cuda=torch.version.cuda or _("none in this build")
                )
            )
        self.torch = torch
        self.device = torch.device(
            device, torch.cuda.current_device() if device == "cuda" else None
        )
        self.name = name
        self.xp = OnDevice(compat, self.device)
        functional = torch.nn.functional
        self.native_ops: dict[str, Callable[..., Any]] = {
            "scaled_dot_product_attention": functional.scaled_dot_product_attention,
            "conv2d": functional.conv2d,
            "random.uniform": self._uniform,
        }

    def _uniform(self, seed: int, shape: tuple[int, ...], dtype: Any) -> Any:
        """Uniform [0, 1) numbers from torch's own generator on the device, seeded with `seed`."""
        generator = self.torch.Generator(device=self.device).manual_seed(seed)
        return self.torch.rand(shape, generator=generator, device=self.device, dtype=dtype)

    @functools.cache  # noqa: B019 - one backend per worker; asked for once per check
    def capabilities(self) -> Capabilities:
        """The array API dtypes plus float16 and bfloat16; the device; torch, CUDA, cuDNN."""
        torch = self.torch
        dtypes = set(self.xp.__array_namespace_info__().dtypes(device=self.device))
        dtypes.add("float16")
        if self.device.type != "cuda" or torch.cuda.is_bf16_supported():
            dtypes.add("bfloat16")
        versions = {
            "torch": torch.__version__,
            "array_api": str(self.xp.__array_api_version__),
            "array_api_compat": _version("array-api-compat"),
            "python": platform.python_version(),
        }
        if self.device.type == "cuda":
            props = torch.cuda.get_device_properties(self.device)
            versions |= {
                "cuda_runtime": str(torch.version.cuda),
                "cuda_driver": _cuda_driver_version(),
                "cudnn": str(torch.backends.cudnn.version()),
                "gpu": f"{props.name} (compute capability {props.major}.{props.minor})",
                # torch's defaults, which decide whether float32 conv/matmul run as TF32 there.
                "cudnn_allow_tf32": str(torch.backends.cudnn.allow_tf32),
                "matmul_allow_tf32": str(torch.backends.cuda.matmul.allow_tf32),
            }
        return Capabilities(
            kind="tensor",
            dtypes=sorted(dtypes),
            devices=[str(self.device)],
            versions=versions,
            ops=sorted(self.native_ops),
        )

    def to_numpy(self, array: Any) -> npt.NDArray[Any]:
        """A host copy; bfloat16, which NumPy lacks, is widened to float32 (exactly)."""
        if isinstance(array, np.ndarray | np.generic):
            return np.asarray(array)
        if array.dtype == self.torch.bfloat16:
            array = array.float()
        return np.asarray(array.detach().cpu().numpy())

    def synchronize(self) -> None:
        """Wait for queued device work, so a timing covers the work and not only its launch."""
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)


def torch_best() -> Backend:
    """torch on CUDA where a GPU is visible, else on the CPU."""
    torch = _require("torch", package="torch")
    return TorchBackend("cuda" if torch.cuda.is_available() else "cpu", name="torch")


def torch_cpu() -> Backend:
    """torch on the CPU."""
    return TorchBackend("cpu", name="torch:cpu")


def torch_cuda() -> Backend:
    """torch on the current CUDA device; it cannot start where there is none."""
    return TorchBackend("cuda", name="torch:cuda")


class _HostCopied(ArrayApiBackend):
    """An array API namespace whose arrays may live on a GPU: copied to the host explicitly."""

    def __init__(
        self,
        module: ModuleType,
        *,
        name: str,
        library: ModuleType,
        to_host: Callable[[Any], Any],
    ) -> None:
        super().__init__(module, name=name)
        self._library = library
        self._to_host = to_host

    def capabilities(self) -> Capabilities:
        """The namespace's dtypes and devices, and the library's own version beside them."""
        caps = super().capabilities()
        library = {self._library.__name__: str(getattr(self._library, "__version__", "unknown"))}
        return dataclasses.replace(caps, versions=caps.versions | library)

    def to_numpy(self, array: Any) -> npt.NDArray[Any]:
        """A host copy through the library's own transfer (DLPack cannot leave the GPU)."""
        if isinstance(array, np.ndarray | np.generic):
            return np.asarray(array)
        return np.asarray(self._to_host(array))


def jax_backend() -> Backend:
    """jax.numpy, an array API namespace since jax 0.4.32, on jax's default device."""
    jnp = _require("jax.numpy", package="jax")
    jax = importlib.import_module("jax")
    return _HostCopied(jnp, name="jax", library=jax, to_host=np.asarray)


def cupy_backend() -> Backend:
    """CuPy through array-api-compat, on the current CUDA device."""
    cupy = _require("cupy", package="cupy")
    compat = _require("array_api_compat.cupy", package="array-api-compat")
    return _HostCopied(compat, name="cupy", library=cupy, to_host=cupy.asnumpy)
