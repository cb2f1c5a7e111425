"""The sitting's clock: time left, warnings at 10 and 1 minutes told to screen readers."""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from portal.i18n import _, format_number, ngettext

WARN_AT_MS = (10 * 60_000, 60_000)
TICK_MS = 250


def announce(widget: QWidget, text: str) -> None:
    """Have screen readers speak `text` at once (Qt 6.8's announcement event, assertive)."""
    event = QAccessibleAnnouncementEvent(widget, text)
    event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)


def clock_text(ms: int) -> str:
    """Hours, minutes and seconds left, as a clock shows them."""
    seconds = max(0, math.ceil(ms / 1000))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [format_number(hours)] if hours else []
    parts.append(f"{minutes:02d}" if hours else format_number(minutes))
    parts.append(f"{secs:02d}")
    return ":".join(parts)


def minutes_left_text(ms: int) -> str:
    """The warning spoken and shown: how many minutes are left."""
    minutes = max(1, math.ceil(ms / 60_000))
    return ngettext(
        "{n} minute left. Answers are submitted when the time is up.",
        "{n} minutes left. Answers are submitted when the time is up.",
        minutes,
    ).format(n=format_number(minutes))


class ExamTimer(QWidget):
    """Shows the time left from `remaining_ms`; warns once per threshold; says when it is up.

    The constructor emits nothing (no slot is connected yet): whoever connects `sig_expired`
    calls `tick()` once after, so a sitting reopened with no time left ends at once."""

    sig_warning = Signal(str)
    """A warning was given (its words)."""
    sig_expired = Signal()
    """No time is left."""

    def __init__(self, remaining_ms: Callable[[], int]) -> None:
        super().__init__()
        self.remaining_ms = remaining_ms
        self.label = QLabel()
        self.label.setObjectName("timeLeft")
        font = self.label.font()
        font.setBold(True)
        self.label.setFont(font)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        self.warned: set[int] = set()
        self.expired = False
        first = remaining_ms()
        self.warned.update(t for t in WARN_AT_MS if first <= t)  # a resume warns at the next one
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self._show(first)
        self.timer.start()

    def _show(self, left: int) -> None:
        text = _("Time left: {clock}").format(clock=clock_text(left))
        self.label.setText(text)
        self.label.setAccessibleName(text)

    def tick(self) -> None:
        """Show the time left; warn or expire when a threshold passes."""
        left = self.remaining_ms()
        self._show(left)
        if left <= 0:
            if not self.expired:
                self.expired = True
                self.timer.stop()
                self.sig_expired.emit()
            return
        due = [t for t in WARN_AT_MS if left <= t and t not in self.warned]
        if due:
            self.warned.update(t for t in WARN_AT_MS if left <= t)
            words = minutes_left_text(left)
            announce(self, words)
            self.sig_warning.emit(words)

    def stop(self) -> None:
        """Stop counting (the sitting ended)."""
        self.timer.stop()
