"""Python's cyclic garbage collection, run on the GUI thread only.

A Qt object that the collector frees on a worker thread runs its C++ destructor there, and that
can deadlock against the GUI thread (seen in the tests: QObject::~QObject on a worker waiting for
the GIL while the GUI thread, holding it, waits for Qt's signal lock). So automatic collection is
off, and a timer on the GUI thread collects, generation by generation, when Python would have.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Turns automatic collection off and does it from the GUI thread's event loop instead."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect_due)
        self.timer.start(INTERVAL_MS)

    def collect_due(self) -> None:
        """Collect the generations whose allocation counts passed Python's thresholds."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):  # the oldest due one; collecting it collects the younger
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return
