"""The embedded sandbox: a child server that never outlives the app that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PARENT = """
import sys, threading
from pathlib import Path
from portal.cancel import CancelToken
from portal.paths import DataDir
from portal.sync.embedded import EmbeddedSandbox

sandbox = EmbeddedSandbox(DataDir(Path(sys.argv[1])).ensure())
sandbox.start(cancel=CancelToken(), timeout=60)
print(sandbox.process.pid, flush=True)
threading.Event().wait()
"""


def running(pid: int) -> bool:
    """Whether `pid` still runs (a zombie nobody reaped yet has stopped running)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads process states in /proc")
def test_the_sandbox_stops_when_the_app_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert running(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 20
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(child), "the sandbox outlived the app that started it"
