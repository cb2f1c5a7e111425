"""NumPy as an array API namespace whose matmul kills the process: matmul checks are ERRORs."""

from __future__ import annotations

import os
from typing import Any

import numpy as _np

__array_api_version__ = _np.__array_api_version__
__array_namespace_info__ = _np.__array_namespace_info__


def matmul(a: Any, b: Any) -> Any:
    os._exit(3)


def __getattr__(name: str) -> Any:
    return getattr(_np, name)
