"""A module that imports in a script but fails in the runner's forkserver (a fresh interpreter
started with -c), as a module that needs what only the script set up would."""

from __future__ import annotations

import sys

if sys.argv == ["-c"]:
    raise RuntimeError("this module needs the script's set-up")
