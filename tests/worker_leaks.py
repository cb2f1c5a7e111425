"""A pytest plugin that fails any test leaving a background operation running (napari's habit)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

GRACE_MS = 2000


@pytest.fixture(autouse=True)
def _no_leftover_workers() -> Iterator[None]:
    """After each test, every operation it started must have delivered its result."""
    operations = sys.modules.get("ui.operations")
    before = set(operations.running_operations()) if operations else set()
    yield
    operations = sys.modules.get("ui.operations")
    if operations is None:
        return
    from PySide6.QtWidgets import QApplication

    leftover = sorted(set(operations.running_operations()) - before)
    if not leftover:
        return
    operations.cancel_all()
    operations.wait_for_workers(GRACE_MS * 5)
    QApplication.processEvents()
    pytest.fail(
        "the test left background operations running: " + ", ".join(leftover), pytrace=False
    )
