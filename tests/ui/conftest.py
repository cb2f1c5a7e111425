"""The shell as a user meets it, shared by the UI tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from ui.app import Shell, _arguments
from ui.operations import running_operations


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread() -> Iterator[None]:
    """As the app does: no automatic collection, which could free a Qt object on a worker."""
    enabled = gc.isenabled()
    gc.disable()
    yield
    gc.collect()  # here, on the GUI thread, what the test left behind
    if enabled:
        gc.enable()


@pytest.fixture
def shell(qtbot: QtBot, tmp_path: Path) -> Iterator[Shell]:
    """The app on a fresh data dir with no marketplace, store open and pages idle."""
    started = Shell(_arguments(["--data-dir", str(tmp_path / "data"), "--no-sandbox"]))
    started.start()
    qtbot.waitUntil(lambda: started.state.store is not None and not running_operations())
    yield started
    qtbot.waitUntil(lambda: not running_operations())
    window = started.window
    window.close()
    window.deleteLater()  # its pending timers (a debounced check) die with it
    qtbot.waitUntil(lambda: not shiboken6.isValid(window))
    started.state.close()
    QApplication.instance().setLayoutDirection(Qt.LayoutDirection.LeftToRight)
