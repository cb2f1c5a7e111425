"""NumPy as an array API namespace whose import starts a thread that never ends, so the process
that loaded it cannot end by itself after its last check."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as _np

__array_api_version__ = _np.__array_api_version__
__array_namespace_info__ = _np.__array_namespace_info__

# Not a daemon: the interpreter waits for it before it exits.
threading.Thread(target=time.sleep, args=(3600,), name="never ends").start()


def __getattr__(name: str) -> Any:
    return getattr(_np, name)
