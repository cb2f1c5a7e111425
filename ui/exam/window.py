"""The exam window: start screen, rules, the sitting and its outcome, one after the other.

Reopening an interrupted sitting asks for the sitting code again: the package stays encrypted
on disk and its key is derived from the code, which is never stored; the answers and the time
left come back from the journal untouched, and the sitting shows the item it was on.

The device key that seals the submission is made (or read) right after the code is accepted,
before the rules: a machine with no OS keyring is told so on the start screen, not at Submit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from portal.errors import PortalError
from portal.i18n import _, current_locale, format_number, format_percent
from ui.appearance import FOCUS_QSS
from ui.dialogs import ask
from ui.exam.start import DoneScreen, RulesScreen, StartFacts, StartScreen
from ui.operations import CoreOp, OpContext
from ui.state import AppState

if TYPE_CHECKING:
    from portal.db.store import Store
    from portal.exams.model import ExamContent
    from portal.exams.package import OpenedExam
    from portal.exams.sitting import SittingSession
    from ui.exam.sitting_view import SittingView

Opened = tuple["SittingSession", dict[int, list[str]], set[int]]

sitting_clock: Callable[[], float] = time.monotonic
"""The clock sittings are timed with: monotonic, so moving the wall clock changes nothing."""


class ExamWindow(QWidget):
    """One sitting from the first screen to the last; closing mid-sitting keeps everything."""

    sig_finished = Signal()
    """The window closed (submitted, cancelled or left for later)."""

    def __init__(
        self,
        state: AppState,
        facts: StartFacts,
        *,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("examWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(facts.title)
        if not state.settings.high_contrast:
            self.setStyleSheet(FOCUS_QSS)
        self.state = state
        self.facts = facts
        self.content: ExamContent | None = None
        self.media: dict[str, bytes] = {}
        self.session: SittingSession | None = None
        self.view: SittingView | None = None
        self._leaving = False
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.start_screen = StartScreen(facts, default_language=current_locale())
        self.start_screen.sig_continue.connect(self._unlock)
        self.start_screen.sig_cancel.connect(self.close)
        self._show(self.start_screen)
        self.resize(960, 720)

    def _show(self, screen: QWidget) -> None:
        self.stack.addWidget(screen)
        self.stack.setCurrentWidget(screen)
        first = getattr(screen, "first_focus", screen)
        if isinstance(first, QWidget):
            first.setFocus(Qt.FocusReason.OtherFocusReason)

    def _store(self) -> Store:
        assert self.state.store is not None  # the Exams page offers exams once the store is open
        return self.state.store

    # Opening

    def _unlock(self, name: str, partner: str, code: str, language: str) -> None:
        store, exam_pk = self._store(), self.facts.exam_pk
        self.details = (name, partner, language)

        def open_it(_ctx: OpContext) -> OpenedExam:
            from portal.exams.device_key import device_key
            from portal.exams.library import unlock

            opened = unlock(store, exam_pk, code)
            try:
                device_key(store.data_dir)  # the submission is sealed with it: known now
            except PortalError as exc:
                raise PortalError(
                    _(
                        "The sitting code is right, but the sitting cannot start on this "
                        "computer: {problem}"
                    ).format(problem=exc.message),
                    kind=exc.kind,
                ) from exc
            return opened

        self.start_screen.set_busy(True)
        CoreOp(self, open_it, writes=True, name="unlock exam").success(self._unlocked).failure(
            self._refused
        ).run_in_background()

    def _refused(self, error: BaseException) -> None:
        if isinstance(error, PortalError):
            self.start_screen.show_problem(error.message)
        else:
            from ui.dialogs import show_error

            self.start_screen.set_busy(False)
            show_error(self, error)

    def _unlocked(self, opened: OpenedExam) -> None:
        content = self.content = opened.content
        self.media = opened.media
        self.start_screen.set_busy(False)
        if self.facts.resuming is not None:
            self._open_sitting()
            return
        from portal.exams.delivery import deliver

        count = len(deliver(content, 0))  # the draw sizes are the same for every seed
        rules = RulesScreen(content, language=self.details[2], item_count=count)
        rules.sig_start.connect(self._open_sitting)
        rules.sig_cancel.connect(self.close)
        self._show(rules)

    def _open_sitting(self) -> None:
        store, content, clock = self._store(), self.content, sitting_clock
        assert content is not None
        exam_pk, resuming = self.facts.exam_pk, self.facts.resuming
        name, partner, language = self.details

        def open_it(_ctx: OpContext) -> Opened:
            from portal.exams.sitting import SittingSession

            if resuming is not None:
                session = SittingSession.resume(store, resuming, content, clock=clock)
            else:
                session = SittingSession.start(
                    store,
                    exam_pk=exam_pk,
                    content=content,
                    candidate_name=name,
                    partner_id=partner,
                    language=language,
                    clock=clock,
                )
            answers = {d.number: session.answer(d.number) for d in session.items}
            flags = {d.number for d in session.items if session.flagged(d.number)}
            return session, answers, flags

        CoreOp(self, open_it, writes=True, name="open sitting").success(self._sitting).failure(
            self._refused_sitting
        ).run_in_background()

    def _refused_sitting(self, error: BaseException) -> None:
        from ui.dialogs import show_error

        self._show(self.start_screen)
        show_error(self, error)

    def _sitting(self, opened: Opened) -> None:
        from ui.exam.sitting_view import SittingView

        session, answers, flags = opened
        self.session = session
        start_at = 1
        if self.facts.resuming is not None:  # where the candidate was, else the first unanswered
            unanswered = [n for n in sorted(answers) if not answers[n]]
            start_at = session.position or (unanswered[0] if unanswered else 1)
        check = self._checker(session) if session.content.practice else None
        self.view = SittingView(
            session, answers=answers, flags=flags, start_at=start_at, check=check, media=self.media
        )
        self.view.sig_submitted.connect(self._submitted)
        self._show(self.view)
        self.view.go(self.view.current)
        self.state.sig_changed.emit()

    def _checker(self, session: SittingSession) -> Callable[[int, list[str]], str]:
        """Practice feedback: the item scored with the package's key (microseconds of work, so
        on the GUI thread), and the author's explanation."""
        from portal.exams.scoring import score_item

        def check(n: int, answer: list[str]) -> str:
            delivered = session.items[n - 1]
            got = score_item(delivered.item, answer, section_id=delivered.section_id)
            words = {
                "correct": _("Correct."),
                "incorrect": _("Not correct."),
                "unanswered": _("Not answered yet."),
                "manual": _("This answer is scored by a person, not here."),
                "partial": _("Partly correct: {got} of {points} points.").format(
                    got=format_number(got.score), points=format_number(got.max_score)
                ),
            }
            lines = [words[got.status]]
            if delivered.item.feedback and got.status != "unanswered":
                lines.append(delivered.item.feedback.get(session.language) or "")
            return "\n".join(line for line in lines if line)

        return check

    # Ending

    def _submitted(self, result: Any, timed_out: bool) -> None:
        session = self.session
        assert session is not None
        lines = [_("The time was up, so your answers were submitted.")] if timed_out else []
        if session.content.practice:
            from portal.exams.scoring import score

            shown = [d.item.id for d in session.items]
            outcome = score(session.content, session.answers(), delivered=shown)
            lines.append(
                _("Your score: {score}. The pass mark is {mark}: {verdict}.").format(
                    score=format_percent(outcome.fraction),
                    mark=format_percent(session.content.pass_mark),
                    verdict=_("passed") if outcome.passed else _("not passed"),
                )
            )
            if outcome.pending_manual:
                lines.append(
                    _("Written answers are scored by a person and count for nothing here.")
                )
        else:
            lines.append(
                _(
                    "Your answers are sealed on this computer and wait in the outbox. They are "
                    "sent to the marketplace at the next sync, which scores them; the result "
                    "appears on the Exams page after that."
                )
            )
        done = DoneScreen(_("Exam submitted"), lines)
        done.sig_close.connect(self.close)
        self._leaving = True
        self._show(done)
        self.state.sig_changed.emit()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Mid-sitting, ask first; the answers are saved and the time is recorded."""
        view = self.view
        if self._leaving or view is None or view.ended:
            self._release()
            self.sig_finished.emit()
            super().closeEvent(event)
            return
        event.ignore()
        content = self.content
        assert content is not None
        clock = (
            _("The clock keeps running while the app is closed.")
            if content.time_runs_while_closed
            else _("The clock stops until you come back.")
        )
        ask(
            self,
            _("Leave the sitting?"),
            _(
                "Your saved answers are kept. {clock} Reopen the exam with the same sitting code."
            ).format(clock=clock),
            self._leave,
            name="confirmLeave",
        )

    def _leave(self) -> None:
        if self.view is not None:
            self.view.flush()  # what was typed in the last half second is saved before closing
        self._leaving = True
        self.close()

    def _release(self) -> None:
        """Record the time and the item on screen, and let the journal's connections go, on the
        write worker."""
        session, self.session = self.session, None
        position = self.view.current if self.view is not None else None
        if session is not None:
            CoreOp(
                None,
                lambda _ctx: session.close(position=position),
                writes=True,
                name="close sitting",
            ).failure(lambda _error: None).run_in_background()
