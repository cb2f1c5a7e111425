"""A vendor backend module whose import fails for want of the CUDA driver."""

from __future__ import annotations

raise OSError("libcuda.so.1: cannot open shared object file")
