"""NumPy's namespace whose float32 sum is 0.8e-6 too small: softmax's error lands just under its
limit (1e-6 relative), above the warning level, so softmax.float32 is a QUALITY_WARNING."""

from __future__ import annotations

from typing import Any

import numpy as _np

__array_api_version__ = _np.__array_api_version__
__array_namespace_info__ = _np.__array_namespace_info__


def sum(x: Any, /, **kwargs: Any) -> Any:
    result = _np.sum(x, **kwargs)
    if result.dtype == _np.float32:
        return result * _np.float32(1 - 0.8e-6)
    return result


def __getattr__(name: str) -> Any:
    return getattr(_np, name)
