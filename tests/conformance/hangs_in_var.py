"""NumPy's array API namespace whose var never returns: layer-norm checks must time out."""

from __future__ import annotations

import time
from typing import Any

import numpy as _np

__array_api_version__ = _np.__array_api_version__
__array_namespace_info__ = _np.__array_namespace_info__


def var(*args: Any, **kwargs: Any) -> Any:
    time.sleep(3600)


def __getattr__(name: str) -> Any:
    return getattr(_np, name)
