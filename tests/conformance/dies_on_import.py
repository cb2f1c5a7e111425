"""A vendor module whose import kills its process, as a broken native library can."""

from __future__ import annotations

import os

os._exit(3)
