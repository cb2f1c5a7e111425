"""NumPy's array API namespace declaring no float32, which tensor-core-v1 requires."""

from __future__ import annotations

from typing import Any

import numpy as _np

__array_api_version__ = _np.__array_api_version__


class _Info:
    """NumPy's namespace info, less float32 (and float16, which NumPy's info never lists)."""

    def __init__(self) -> None:
        self._info = _np.__array_namespace_info__()

    def dtypes(self, **kwargs: Any) -> dict[str, Any]:
        return {k: v for k, v in self._info.dtypes(**kwargs).items() if k != "float32"}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._info, name)


def __array_namespace_info__() -> _Info:  # noqa: N807 - the standard names it so
    return _Info()


def __getattr__(name: str) -> Any:
    return getattr(_np, name)
