"""Core calls off the GUI thread with progress, cancel and typed errors (Anki's CollectionOp)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QWidget

from portal.cancel import CancelToken, Progress
from portal.errors import Cancelled, PortalError

T = TypeVar("T")
log = logging.getLogger(__name__)

_pools: dict[str, QThreadPool] = {}
_running: set[_Job] = set()
_serial = itertools.count(1)


def _pool(kind: str) -> QThreadPool:
    """One pool for reads and network, and a single-thread pool so database writes never overlap."""
    if kind not in _pools:
        pool = QThreadPool()
        if kind == "write":
            pool.setMaxThreadCount(1)
        _pools[kind] = pool
    return _pools[kind]


@dataclass(frozen=True)
class OpContext:
    """What a core call running in the background gets: where to report progress, and a token."""

    cancel: CancelToken
    progress: Progress


class _Relay(QObject):
    """Lives on the GUI thread; signals emitted from the worker reach its slots queued."""

    sig_progress = Signal(object, object, str)
    """Work advanced: done, total (None when unknown) and a message."""
    sig_finished = Signal(bool, object)
    """Work ended: success flag and the result or the exception."""

    def __init__(self, job: _Job) -> None:
        super().__init__()
        self._job: _Job | None = job
        self.sig_progress.connect(self._on_progress)
        self.sig_finished.connect(self._on_finished)

    @Slot(object, object, str)
    def _on_progress(self, done: int, total: int | None, message: str) -> None:
        if self._job is not None:
            self._job.deliver_progress(done, total, message)

    @Slot(bool, object)
    def _on_finished(self, ok: bool, value: object) -> None:
        job, self._job = self._job, None  # break the job<->relay cycle: both go by refcount
        self.deleteLater()
        if job is not None:
            job.deliver_result(ok, value)


class _Job:
    """One run of an operation; kept in `_running` until its result is delivered."""

    def __init__(self, op: CoreOp[Any]) -> None:
        self.op = op
        self.token = CancelToken()
        self.relay = _Relay(self)
        self.label = f"{op.name} #{next(_serial)}"

    def run(self) -> None:
        """The worker half: call the core function and send what came of it to the GUI thread."""
        ctx = OpContext(self.token, self.relay.sig_progress.emit)
        try:
            result = self.op.fn(ctx)
        except BaseException as exc:  # noqa: BLE001 - every failure is delivered, none swallowed
            self.relay.sig_finished.emit(False, exc)
        else:
            self.relay.sig_finished.emit(True, result)

    def deliver_progress(self, done: int, total: int | None, message: str) -> None:
        if self.op.on_progress and self.op.alive():
            self.op.on_progress(done, total, message)

    def deliver_result(self, ok: bool, value: object) -> None:
        _running.discard(self)
        if not self.op.alive():
            if not ok:
                log.info("operation %s failed after its window closed: %r", self.op.name, value)
            return
        if ok:
            if self.op.on_success:
                self.op.on_success(value)
        elif isinstance(value, Cancelled) or self.token.cancelled:
            if self.op.on_cancelled:
                self.op.on_cancelled()
        else:
            if not isinstance(value, PortalError):
                log.error("operation %s failed", self.op.name, exc_info=value)  # type: ignore[arg-type]
            self.op.on_failure(value)  # type: ignore[arg-type]


class OpHandle:
    """What `run_in_background` gives back: a way to cancel the work."""

    def __init__(self, job: _Job) -> None:
        self._job = job

    def cancel(self) -> None:
        """Ask the core call to stop at its next check; `cancelled` callbacks run when it has."""
        self._job.token.cancel()


class CoreOp(Generic[T]):
    """A core call to run on a worker, with callbacks delivered on the GUI thread."""

    def __init__(
        self,
        parent: QWidget | None,
        fn: Callable[[OpContext], T],
        *,
        writes: bool = False,
        name: str | None = None,
    ) -> None:
        self.parent = parent
        self.fn = fn
        self.writes = writes
        self.name = name or getattr(fn, "__qualname__", "operation")
        self.on_success: Callable[[T], object] | None = None
        self.on_progress: Callable[[int, int | None, str], object] | None = None
        self.on_cancelled: Callable[[], object] | None = None
        self.on_failure: Callable[[BaseException], object] = self._show_error

    def success(self, callback: Callable[[T], object]) -> CoreOp[T]:
        """Call `callback(result)` on the GUI thread when the work succeeds."""
        self.on_success = callback
        return self

    def failure(self, callback: Callable[[BaseException], object]) -> CoreOp[T]:
        """Call `callback(error)` instead of showing the error dialog."""
        self.on_failure = callback
        return self

    def progress(self, callback: Callable[[int, int | None, str], object]) -> CoreOp[T]:
        """Call `callback(done, total, message)` on the GUI thread as the work advances."""
        self.on_progress = callback
        return self

    def cancelled(self, callback: Callable[[], object]) -> CoreOp[T]:
        """Call `callback()` when the work stopped because it was cancelled."""
        self.on_cancelled = callback
        return self

    def run_in_background(self) -> OpHandle:
        """Start the work; call from the GUI thread."""
        job = _Job(self)
        _running.add(job)
        _pool("write" if self.writes else "read").start(job.run)
        return OpHandle(job)

    def alive(self) -> bool:
        """False once the parent widget is gone, so no callback touches a deleted window."""
        return self.parent is None or shiboken6.isValid(self.parent)

    def _show_error(self, error: BaseException) -> None:
        from ui.dialogs import show_error

        show_error(self.parent if self.alive() else None, error)


def running_operations() -> list[str]:
    """Operations whose result has not been delivered yet, as "name #serial" (for tests, quit)."""
    return sorted(job.label for job in _running)


def cancel_all() -> None:
    """Ask every running operation to stop, as the app quits."""
    for job in list(_running):
        job.token.cancel()


def wait_for_workers(timeout_ms: int) -> bool:
    """Wait until every worker thread is idle; False if some still work after `timeout_ms`."""
    return all([pool.waitForDone(timeout_ms) for pool in _pools.values()])
