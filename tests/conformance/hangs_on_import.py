"""A vendor module whose import never returns, as a driver waiting on absent hardware can."""

from __future__ import annotations

import time

time.sleep(3600)
