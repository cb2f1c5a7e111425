"""Progress and cancellation for long core work, so one function serves CLI, tests and UI."""

from __future__ import annotations

import threading
from typing import Protocol

from portal.errors import Cancelled
from portal.i18n import _


class Progress(Protocol):
    """Told how far long work has got; `total` is None while it is unknown."""

    def __call__(self, done: int, total: int | None, message: str) -> None: ...


def no_progress(done: int, total: int | None, message: str) -> None:
    """A progress sink for callers that show none (the command line, tests)."""


class CancelToken:
    """Set from any thread; long work checks it between steps and stops with `Cancelled`."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was asked for."""
        return self._event.is_set()

    def sleep(self, seconds: float) -> None:
        """Wait, but stop with `Cancelled` as soon as cancellation is asked for."""
        if self._event.wait(max(0.0, seconds)):
            self.raise_if_cancelled()

    def raise_if_cancelled(self) -> None:
        """Stop the work here if cancellation was asked for."""
        if self._event.is_set():
            raise Cancelled(_("The operation was cancelled."))
