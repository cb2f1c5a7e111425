"""The sandbox marketplace as a child process on loopback: the default when none is configured.

A child process, not a thread: the client reaches the sandbox over HTTPS only, and the app's own
memory stays free of the server's.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

from portal.auth.oauth import Marketplace, NetworkError
from portal.cancel import CancelToken
from portal.i18n import _
from portal.paths import DataDir

START_TIMEOUT_S = 60.0
_URL = re.compile(r"https://(?:127\.0\.0\.1|\[::1\]):\d+")


class EmbeddedSandbox:
    """Starts `aic-portal sandbox serve --port 0 --seed-demo` for a data dir and stops it.

    The server stops by itself when this app ends in any way, a crash or a kill included.
    """

    def __init__(self, data_dir: DataDir) -> None:
        self.data_dir = data_dir
        self.process: subprocess.Popen[str] | None = None

    def command(self) -> list[str]:
        """The same `aic-portal` this app is, run as the sandbox server."""
        if getattr(sys, "frozen", False):
            cli = Path(sys.executable).with_name("aic-portal" + (".exe" if os.name == "nt" else ""))
            start = [str(cli)]
        else:
            start = [sys.executable, "-m", "portal.cli"]
        args = ["sandbox", "serve", "--port", "0", "--seed-demo", "--until-stdin-closes"]
        return [*start, "--data-dir", str(self.data_dir.root), *args]

    def start(self, *, cancel: CancelToken, timeout: float = START_TIMEOUT_S) -> Marketplace:
        """Start the server and wait until it says where it listens."""
        log_path = self.data_dir.logs / "sandbox.log"
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.PIPE,  # never written; closed when this app ends, however
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        try:
            return self._wait_for_url(log_path, cancel=cancel, timeout=timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_for_url(self, log_path: Path, *, cancel: CancelToken, timeout: float) -> Marketplace:
        assert self.process is not None
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_drain, args=(self.process, lines), daemon=True).start()
        waited = 0.0
        while waited < timeout:
            cancel.raise_if_cancelled()
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                waited += 0.1
                continue
            if line is None:
                break
            found = _URL.search(line)
            if found:
                ca = self.data_dir.root / "sandbox" / "tls" / "ca.pem"
                return Marketplace(found.group(0), ca, name="embedded-sandbox")
        raise NetworkError(
            _("The embedded sandbox marketplace did not start; its log is {path}.").format(
                path=log_path
            )
        )

    def stop(self) -> None:
        """Stop the server, politely first."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _drain(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    """Read the server's output to the end, so it never blocks on a full pipe."""
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)
    lines.put(None)
