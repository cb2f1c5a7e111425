"""The sitting: one item at a time, numbers to jump, flags, review, the clock, and submit.

Every answer change is saved through the single write pool; an item is marked answered, and
"Saved" shown, only once that item's latest `save_answer` has returned (the journal is durable
then). A failed save says so and offers to send the item's answer again. Typed answers are saved
400 ms after the last keystroke, and at once when the candidate moves on.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from portal.i18n import _, format_number, ngettext
from ui.dialogs import ask
from ui.exam.interactions import local
from ui.exam.item_page import ItemPage
from ui.exam.review import NUMBER_ROLE, ReviewPanel, item_state
from ui.exam.timer import ExamTimer
from ui.operations import CoreOp
from ui.widgets import heading

if TYPE_CHECKING:
    from portal.exams.sitting import SittingSession

TYPING_PAUSE_MS = 400
CHECKPOINT_MS = 5000
PREBUILD_AFTER_MS = 30


class SittingView(QWidget):
    """Drives a SittingSession from the keyboard or the mouse."""

    sig_submitted = Signal(object, bool)
    """The sitting was submitted: what `submit()` returned, and whether the time ran out."""

    def __init__(
        self,
        session: SittingSession,
        *,
        answers: dict[int, list[str]],
        flags: set[int],
        start_at: int = 1,
        check: Callable[[int, list[str]], str] | None = None,
        media: dict[str, bytes] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("sitting")
        self.session = session
        self.language = session.language
        self.items = {d.number: d for d in session.items}
        self.total = len(self.items)
        self.sections = {s.id: local(s.title, self.language) for s in session.content.sections}
        self.answers = {n: list(answers.get(n, [])) for n in self.items}
        self.saved = {n: list(answer) for n, answer in self.answers.items()}
        """What the journal holds for each item, as its last returned save left it."""
        self.failed: dict[int, str] = {}
        """Items whose latest save failed, with the reason."""
        self.media = media or {}
        self.flags = set(flags)
        self.check = check
        self.pages: dict[int, ItemPage] = {}
        self.current = 0
        self.ended = False
        self._serial = itertools.count(1)
        self._latest: dict[int, int] = {}
        self._pending: set[int] = set()
        self._typing: set[int] = set()

        self.timer = ExamTimer(session.remaining_ms)
        self.timer.sig_warning.connect(self._warn)
        self.timer.sig_expired.connect(self._time_up)
        self.save_state = QLabel()
        self.save_state.setObjectName("saveState")
        self.save_state.setWordWrap(True)
        self.retry = QPushButton(_("Re&try"))
        self.retry.setObjectName("retrySave")
        self.retry.setAccessibleName(_("Save the answers that were not saved again"))
        self.retry.clicked.connect(self.retry_failed)
        self.retry.hide()
        self.warning = QLabel()
        self.warning.setObjectName("timeWarning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("font-weight: bold; border: 2px solid palette(highlight);")
        self.warning.hide()
        top = QHBoxLayout()
        title = heading(local(session.content.title, self.language))
        top.addWidget(title, 1)
        top.addWidget(self.save_state)
        top.addWidget(self.retry)
        top.addSpacing(12)
        top.addWidget(self.timer)

        self.strip = QListWidget()
        self.strip.setObjectName("itemNumbers")
        self.strip.setAccessibleName(_("Item numbers"))
        self.strip.setAccessibleDescription(_("Choose a number and press Enter to go to it."))
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(True)
        self.strip.setResizeMode(QListView.ResizeMode.Adjust)
        self.strip.setMovement(QListView.Movement.Static)
        self.strip.setUniformItemSizes(True)
        cell = QSize(
            self.fontMetrics().horizontalAdvance("000 ✓ ⚑") + 16, self.fontMetrics().height() + 14
        )
        self.strip.setGridSize(cell)
        self.strip.setMaximumHeight(cell.height() * 3 + 8)
        for n in range(1, self.total + 1):
            entry = QListWidgetItem()
            entry.setData(NUMBER_ROLE, n)
            entry.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            entry.setSizeHint(cell - QSize(4, 4))
            self.strip.addItem(entry)
            self._mark(n)
        self.strip.itemActivated.connect(lambda entry: self.go(entry.data(NUMBER_ROLE)))

        self.stack = QStackedWidget()
        self.back = self._button(_("&Back"), _("Previous item"), lambda: self.go(self.current - 1))
        self.next = self._button(_("&Next"), _("Next item"), lambda: self.go(self.current + 1))
        self.flag = self._button(_("&Flag for review"), _("Flag for review"), self._toggle_flag)
        self.flag.setCheckable(True)
        self.check_button = self._button(
            _("&Check answer"), _("Check the answer"), self._check_answer
        )
        self.review_button = self._button(_("&Review…"), _("Review all items"), self.show_review)
        self.submit_button = self._button(_("&Submit…"), _("Submit the exam"), self.ask_submit)
        self.back.setToolTip(_("Previous item (Ctrl+Page Up)"))
        self.next.setToolTip(_("Next item (Ctrl+Page Down)"))
        self.flag.setToolTip(_("Flag for review (Ctrl+F)"))
        self.review_button.setToolTip(_("Review all items (Ctrl+R)"))
        nav = QHBoxLayout()
        for button in (self.back, self.next, self.flag, self.check_button):
            nav.addWidget(button)
        nav.addStretch(1)
        nav.addWidget(self.review_button)
        nav.addWidget(self.submit_button)

        items_panel = QWidget()
        column = QVBoxLayout(items_panel)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.strip)
        column.addWidget(self.stack, 1)
        column.addLayout(nav)
        self.items_panel = items_panel
        self.check_button.setVisible(
            check is not None
        )  # once it has a parent: no window of its own
        self.review = ReviewPanel()
        self.review.sig_jump.connect(self.go)
        self.review.sig_back.connect(lambda: self.go(self.current))
        self.review.sig_submit.connect(self.ask_submit)
        self.panels = QStackedWidget()
        self.panels.addWidget(items_panel)
        self.panels.addWidget(self.review)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.warning)
        layout.addWidget(self.panels, 1)
        self._shortcut("Ctrl+PgDown", lambda: self.go(self.current + 1))
        self._shortcut("Ctrl+PgUp", lambda: self.go(self.current - 1))
        self._shortcut("Ctrl+F", self._toggle_flag)
        self._shortcut("Ctrl+R", self.show_review)

        self.typing = QTimer(self)
        self.typing.setSingleShot(True)
        self.typing.setInterval(TYPING_PAUSE_MS)
        self.typing.timeout.connect(self.flush)
        self.checkpoints = QTimer(self)
        self.checkpoints.setInterval(CHECKPOINT_MS)
        self.checkpoints.timeout.connect(self.checkpoint)
        self.checkpoints.start()
        self.prebuild = QTimer(self)
        self.prebuild.setSingleShot(True)
        self.prebuild.setInterval(PREBUILD_AFTER_MS)
        self.prebuild.timeout.connect(self._prebuild_neighbours)
        self.go(min(max(start_at, 1), self.total))
        self.timer.tick()  # connected now: a sitting reopened with no time left ends here

    def _button(self, text: str, name: str, on_click: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(name)
        button.clicked.connect(on_click)
        return button

    def _shortcut(self, keys: str, then: Callable[[], object]) -> None:
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(then)

    # Moving between items

    def page(self, n: int) -> ItemPage:
        """The item's page, built the first time it is shown."""
        if n not in self.pages:
            delivered = self.items[n]
            page = ItemPage(
                delivered,
                total=self.total,
                section_title=self.sections.get(delivered.section_id, ""),
                language=self.language,
                media=self.media,
            )
            page.answer.set_answer(self.answers[n])
            page.answer.sig_changed.connect(lambda n=n: self._changed(n))
            page.answer.setEnabled(not self.ended)
            self.pages[n] = page
            self.stack.addWidget(page)
        return self.pages[n]

    def go(self, n: int) -> None:
        """Show item `n` (1-based) with the keyboard on its answer."""
        if not 1 <= n <= self.total:
            return
        self.flush()
        page = self.page(n)
        self.current = n
        focused = self.focusWidget()
        if focused is not None:  # else hiding it walks the focus chain of every page built
            focused.clearFocus()
        self.panels.setCurrentWidget(self.items_panel)
        self.stack.setCurrentWidget(page)
        self.strip.blockSignals(True)
        self.strip.setCurrentRow(n - 1)
        self.strip.blockSignals(False)
        self.back.setEnabled(n > 1 and not self.ended)
        self.next.setEnabled(n < self.total and not self.ended)
        self.flag.blockSignals(True)
        self.flag.setChecked(n in self.flags)
        self.flag.blockSignals(False)
        page.answer.first_focus().setFocus(Qt.FocusReason.OtherFocusReason)
        self.prebuild.start()

    def _prebuild_neighbours(self) -> None:
        """Build the pages next to the one shown while the candidate reads, so Next only
        switches pages (one frame, see tests/benchmarks/exam_navigation.py)."""
        for n in (self.current + 1, self.current - 1):
            if 1 <= n <= self.total and n not in self.pages:
                self.page(n).ensurePolished()

    def show_review(self) -> None:
        """Show the review screen, the first unanswered item selected."""
        self.flush()
        self.review.show_state(self.total, self.answered(), self.flags)
        self.panels.setCurrentWidget(self.review)
        self.review.list.setFocus()

    def answered(self) -> set[int]:
        """The numbers of the items whose answer the journal holds (a save still on its way
        counts: the submit waits for it; a failed one does not)."""
        return {
            n
            for n in self.items
            if n not in self.failed and (self.answers[n] if n in self._pending else self.saved[n])
        }

    def _mark(self, n: int) -> None:
        entry = self.strip.item(n - 1)
        answered = bool(self.saved[n]) and n not in self._pending and n not in self.failed
        flagged, failed = n in self.flags, n in self.failed
        entry.setText(
            format_number(n)
            + (" ✓" if answered else " ⚠" if failed else "")
            + (" ⚑" if flagged else "")
        )
        state = item_state(n, answered=answered, flagged=flagged)
        if failed:
            state = _("Item {n}: the answer is not saved").format(n=format_number(n))
        entry.setData(Qt.ItemDataRole.AccessibleTextRole, state)
        font = entry.font()
        font.setBold(not answered)
        entry.setFont(font)

    # Saving

    def _changed(self, n: int) -> None:
        page = self.pages[n]
        if page.answer.typed:
            self._typing.add(n)
            self._show_save_state()
            self.typing.start()
        else:
            self._save(n)

    def flush(self) -> None:
        """Save what is typed now rather than after the pause."""
        self.typing.stop()
        for n in sorted(self._typing):
            self._save(n)
        self._typing.clear()

    def _save(self, n: int) -> None:
        answer = self.pages[n].answer.answer()
        self.answers[n] = answer
        self.pages[n].feedback.hide()
        serial = self._latest[n] = next(self._serial)
        self._pending.add(n)
        self._mark(n)
        self._show_save_state()
        session = self.session
        CoreOp(
            self, lambda _ctx: session.save_answer(n, answer), writes=True, name="save answer"
        ).success(lambda _result: self._saved(n, serial, answer)).failure(
            lambda error: self._save_failed(n, serial, error)
        ).run_in_background()

    def _saved(self, n: int, serial: int, answer: list[str]) -> None:
        if serial != self._latest[n]:
            return  # a later save of this item is on its way: its outcome tells
        self._pending.discard(n)
        self.saved[n] = answer
        self.failed.pop(n, None)
        self._mark(n)
        self._show_save_state()

    def _save_failed(self, n: int, serial: int, error: BaseException) -> None:
        if serial != self._latest[n]:
            return
        from portal.errors import PortalError

        self._pending.discard(n)
        self.failed[n] = error.message if isinstance(error, PortalError) else str(error)
        self._mark(n)
        self._show_save_state()

    def retry_failed(self) -> None:
        """Send the current answer of every item whose save failed once more."""
        if self.ended:
            return
        for n in sorted(self.failed):
            self._save(n)

    def _show_save_state(self) -> None:
        """One line for every item: what failed first, else whether saves are on their way."""
        if self.ended:
            return  # the submit's own words stay
        if self.failed:
            n = min(self.failed)
            text = _("Not saved: item {n}. {problem}").format(
                n=format_number(n), problem=self.failed[n]
            )
            if len(self.failed) > 1:
                text += " " + ngettext(
                    "{n} more item is not saved.",
                    "{n} more items are not saved.",
                    len(self.failed) - 1,
                ).format(n=format_number(len(self.failed) - 1))
            self.save_state.setText("⚠ " + text)
            self.save_state.setAccessibleName(text)
            if not self.retry.isVisible():
                from ui.exam.timer import announce

                announce(self.save_state, text)
            self.retry.show()
            return
        self.retry.hide()
        if self._pending or self._typing:
            self.save_state.setText(_("Saving…"))
            self.save_state.setAccessibleName(_("Saving…"))
        else:
            self.save_state.setText("✓ " + _("Saved"))
            self.save_state.setAccessibleName(_("All answers saved"))

    def all_saved(self) -> bool:
        """Whether every change has been acknowledged by the journal."""
        return not self._pending and not self._typing and not self.failed

    def _toggle_flag(self) -> None:
        if self.ended or self.panels.currentWidget() is not self.items_panel:
            return
        n = self.current
        flagged = n not in self.flags
        self.flags.symmetric_difference_update({n})
        self.flag.blockSignals(True)
        self.flag.setChecked(flagged)
        self.flag.blockSignals(False)
        self._mark(n)
        session = self.session
        CoreOp(
            self, lambda _ctx: session.set_flag(n, flagged), writes=True, name="flag item"
        ).run_in_background()

    def checkpoint(self) -> None:
        """Record the time used so far and the item on screen (a crash resumes with what was
        left, on that item)."""
        session, position = self.session, self.current
        CoreOp(
            self,
            lambda _ctx: session.checkpoint(position=position),
            writes=True,
            name="checkpoint",
        ).failure(lambda _error: None).run_in_background()

    # Practice feedback

    def _check_answer(self) -> None:
        if self.check is None or self.panels.currentWidget() is not self.items_panel:
            return
        self.flush()
        page, n = self.pages[self.current], self.current
        page.feedback.setText(self.check(n, self.answers[n]))
        page.feedback.show()
        page.feedback.setFocus()

    # Time and submit

    def _warn(self, words: str) -> None:
        self.warning.setText("⚠ " + words)
        self.warning.setAccessibleName(words)
        self.warning.show()

    def ask_submit(self) -> None:
        """Ask before submitting, saying what is unanswered or flagged."""
        if self.ended:
            return
        self.flush()
        unanswered = self.total - len(self.answered())
        parts = [
            ngettext("{n} item is not answered.", "{n} items are not answered.", unanswered).format(
                n=format_number(unanswered)
            ),
            ngettext(
                "{n} item is flagged for review.",
                "{n} items are flagged for review.",
                len(self.flags),
            ).format(n=format_number(len(self.flags))),
            _("Once submitted, no answer can be changed. Submit now?"),
        ]
        ask(self, _("Submit the exam"), "\n\n".join(parts), self.submit, name="confirmSubmit")

    def _time_up(self) -> None:
        self._warn(_("Time is up. Your answers are being submitted."))
        self.submit(timed_out=True)

    def submit(self, *, timed_out: bool = False) -> None:
        """Save what is typed, then submit after every save (the write pool keeps the order)."""
        if self.ended:
            return
        self.flush()
        self.ended = True
        self.timer.stop()
        self.checkpoints.stop()
        for page in self.pages.values():
            page.answer.setEnabled(False)
        for button in (self.next, self.back, self.flag, self.submit_button, self.review_button):
            button.setEnabled(False)
        self.retry.hide()
        self.save_state.setText(_("Submitting…"))
        session = self.session

        def done(result: Any) -> None:
            self.sig_submitted.emit(result, timed_out)

        def failed(error: BaseException) -> None:
            from ui.dialogs import show_error

            self.save_state.setText("⚠ " + _("Not submitted"))
            self.submit_button.setEnabled(True)
            self.review_button.setEnabled(True)
            self.ended = False
            show_error(self, error)

        CoreOp(self, lambda _ctx: session.submit(), writes=True, name="submit sitting").success(
            done
        ).failure(failed).run_in_background()
