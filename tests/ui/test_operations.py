"""Background operations: results on the GUI thread, progress, cancel, typed errors, writes."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from portal.errors import InputError
from ui.operations import CoreOp, OpContext, OpHandle, running_operations


def test_result_arrives_on_the_gui_thread(qtbot: QtBot) -> None:
    seen: dict[str, object] = {}

    def work(_ctx: OpContext) -> int:
        seen["worker"] = QThread.currentThread()
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["thread"] = QThread.currentThread()

    CoreOp(None, work).success(done).run_in_background()
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen["value"] == 42
    assert seen["thread"] is QApplication.instance().thread()
    assert seen["worker"] is not seen["thread"]
    assert running_operations() == []


def test_progress_then_cancel(qtbot: QtBot) -> None:
    progress: list[tuple[int, int | None, str]] = []
    outcome: list[str] = []
    started = threading.Event()

    def work(ctx: OpContext) -> None:
        for n in range(1000):
            ctx.progress(n, 1000, f"step {n}")
            started.set()
            ctx.cancel.raise_if_cancelled()
            time.sleep(0.005)

    handle: OpHandle = (
        CoreOp(None, work)
        .progress(lambda *args: progress.append(args))
        .success(lambda _none: outcome.append("finished"))
        .cancelled(lambda: outcome.append("cancelled"))
        .failure(lambda exc: outcome.append(f"failed {exc}"))
        .run_in_background()
    )
    assert started.wait(5)
    qtbot.waitUntil(lambda: len(progress) > 0)
    handle.cancel()
    qtbot.waitUntil(lambda: outcome != [])
    assert outcome == ["cancelled"]
    assert progress[0] == (0, 1000, "step 0")
    assert len(progress) < 1000


def test_progress_counts_past_32_bits(qtbot: QtBot) -> None:
    seen: list[tuple[int, int | None, str]] = []
    done: list[None] = []

    def work(ctx: OpContext) -> None:
        ctx.progress(3_000_000_000, 5_000_000_000, "bytes")

    CoreOp(None, work).progress(lambda *a: seen.append(a)).success(done.append).run_in_background()
    qtbot.waitUntil(lambda: done != [])
    assert seen == [(3_000_000_000, 5_000_000_000, "bytes")]


def test_a_finished_operation_leaves_nothing_behind(qtbot: QtBot) -> None:
    import gc
    import weakref

    from ui import operations

    done: list[int] = []
    handle = CoreOp(None, lambda _ctx: 7).success(done.append).run_in_background()
    job = weakref.ref(handle._job)
    qtbot.waitUntil(lambda: done == [7])
    del handle
    gc.disable()
    try:
        qtbot.waitUntil(lambda: job() is None)  # freed by reference counting, not the collector
    finally:
        gc.enable()
    assert operations.running_operations() == []


def test_typed_error_reaches_the_failure_callback(qtbot: QtBot) -> None:
    errors: list[BaseException] = []

    def work(_ctx: OpContext) -> None:
        raise InputError("The file x.yaml has no name.")

    CoreOp(None, work).failure(errors.append).run_in_background()
    qtbot.waitUntil(lambda: errors != [])
    assert isinstance(errors[0], InputError)
    assert errors[0].message == "The file x.yaml has no name."


def test_unexpected_error_shows_plain_words_and_logs_the_traceback(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)

    def work(_ctx: OpContext) -> None:
        raise KeyError("internal detail")

    with caplog.at_level(logging.ERROR):
        CoreOp(parent, work, name="explode").run_in_background()
        qtbot.waitUntil(lambda: parent.findChild(QMessageBox, "errorDialog") is not None)
    box = parent.findChild(QMessageBox, "errorDialog")
    assert box.windowTitle() == "Unexpected error"
    assert "Your data is safe" in box.text()
    assert "internal detail" not in box.text() and "Traceback" not in box.text()
    assert any(r.exc_info and "internal detail" in str(r.exc_info[1]) for r in caplog.records)
    box.close()


def test_writes_never_overlap(qtbot: QtBot) -> None:
    active = 0
    most = 0
    lock = threading.Lock()
    finished: list[int] = []

    def write(n: int) -> int:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        time.sleep(0.02)
        with lock:
            active -= 1
        return n

    for n in range(6):
        CoreOp(None, lambda _ctx, n=n: write(n), writes=True).success(
            finished.append
        ).run_in_background()
    qtbot.waitUntil(lambda: len(finished) == 6, timeout=10_000)
    assert most == 1
    assert finished == list(range(6))


def test_no_callback_after_the_parent_is_gone(qtbot: QtBot) -> None:
    parent = QWidget()
    release = threading.Event()
    called: list[object] = []
    CoreOp(parent, lambda _ctx: release.wait(5)).success(called.append).run_in_background()
    parent.deleteLater()
    qtbot.waitUntil(lambda: not __import__("shiboken6").isValid(parent))
    release.set()
    qtbot.waitUntil(lambda: running_operations() == [])
    assert called == []
