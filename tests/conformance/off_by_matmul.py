"""NumPy's array API namespace with a matmul that is off by 1e-3: a backend the checks must fail."""

from __future__ import annotations

from typing import Any

import numpy as _np

__array_api_version__ = _np.__array_api_version__
__array_namespace_info__ = _np.__array_namespace_info__


def matmul(a: Any, b: Any) -> Any:
    return _np.matmul(a, b) + 1e-3


def __getattr__(name: str) -> Any:
    return getattr(_np, name)
