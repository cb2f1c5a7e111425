"""NumPy's namespace declaring float16 (through its inspection API), whose float16 matmul drops
the K tail beyond a 32-wide tile, a classic kernel bug; float32 and float64 are NumPy's own."""

from __future__ import annotations

from typing import Any

import numpy as _np

__array_api_version__ = _np.__array_api_version__
TILE = 32


class _Info:
    """NumPy's inspection API with float16 added to the dtypes."""

    def __init__(self) -> None:
        self._info = _np.__array_namespace_info__()

    def dtypes(self, **kwargs: Any) -> dict[str, Any]:
        return {**self._info.dtypes(**kwargs), "float16": _np.dtype("float16")}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._info, name)


def __array_namespace_info__() -> _Info:  # noqa: N807 - the array API names it so
    return _Info()


def matmul(a: Any, b: Any) -> Any:
    if a.dtype != _np.float16:
        return _np.matmul(a, b)
    return _np.matmul(a[..., :TILE], b[..., :TILE, :])


def __getattr__(name: str) -> Any:
    return getattr(_np, name)
