"""Low-precision floats in NumPy: bfloat16 (which NumPy lacks) held as float32, rounded right."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

# bfloat16: float32's exponent range with 8 significant bits (7 stored).
_BF16_MANTISSA = 7
_BF16_MIN_EXP = -126
_BF16_MAX = (2 - 2.0**-_BF16_MANTISSA) * 2.0**127


def host_dtype(dtype: str) -> str:
    """The NumPy dtype that holds `dtype`'s values exactly (float32 for bfloat16)."""
    return "float32" if dtype == "bfloat16" else dtype


def rounded(values: npt.NDArray[Any], dtype: str) -> npt.NDArray[Any]:
    """`values` rounded to nearest-even in `dtype`, as a `host_dtype` array."""
    if dtype != "bfloat16":
        return values.astype(dtype)
    x = values.astype(np.float64)
    quantum = _spacing_bf16(x)
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.rint(x / quantum) * quantum  # exact scaling by a power of two, then half-even
        out = np.where(np.abs(out) > _BF16_MAX, np.copysign(np.inf, x), out)
    return np.where(np.isfinite(x), out, x).astype(np.float32)


def spacing(values: npt.NDArray[Any], dtype: str) -> npt.NDArray[np.float64]:
    """The distance to the next `dtype` number after each value (one unit in the last place)."""
    if dtype != "bfloat16":
        return np.abs(np.spacing(values.astype(np.float64).astype(dtype))).astype(np.float64)
    return _spacing_bf16(values.astype(np.float64))


def _spacing_bf16(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    _mantissa, exponent = np.frexp(np.where(np.isfinite(x), x, 1.0))
    return np.ldexp(1.0, np.maximum(exponent - 1, _BF16_MIN_EXP) - _BF16_MANTISSA)
