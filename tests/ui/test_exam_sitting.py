"""A sitting as a candidate takes it: from the Exams page to the submit by keyboard alone, the
timer's warnings told to screen readers, and the screens at 200 % text and in high contrast."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import keyring
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from keyring.errors import KeyringError
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QAccessible, QColor, QImage, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import select

import ui.exam.window as exam_window
from portal.db.enums import SittingState
from portal.db.models import JournalEntry, Sitting
from portal.errors import StorageError
from portal.exams.library import (
    MAX_ATTEMPTS,
    attempts_left,
    import_package,
    set_practice_code,
    trust_keys,
)
from portal.exams.model import ExamContent
from portal.exams.package import build_package
from portal.settings import Settings
from tests.keyrings import MemoryKeyring
from tests.ui.exam_content import exam_content
from ui.app import Shell
from ui.appearance import apply_appearance
from ui.exam.interactions import (
    AnswerWidget,
    ChoiceAnswer,
    EssayAnswer,
    InlineAnswer,
    OrderAnswer,
    PairsAnswer,
    TextAnswer,
)
from ui.exam.media import MediaPicture
from ui.exam.opening import exam_windows
from ui.exam.start import DoneScreen, RulesScreen, StartScreen
from ui.exam.window import ExamWindow
from ui.operations import running_operations
from ui.pages.exams import ExamsPage

CODE = "7K4Q-M2XD-P9TB"
Key = Qt.Key
Mod = Qt.KeyboardModifier


class RefusingKeyring(MemoryKeyring):
    """A keyring that is there but refuses to keep anything (locked, or denied by policy)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError("the keyring is locked")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _import(
    shell: Shell, tmp_path: Path, content: ExamContent, *, media: dict[str, bytes] | None = None
) -> int:
    """A proctor's package, signed by a key this data dir trusts, imported as the page would."""
    key = Ed25519PrivateKey.generate()
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    trust_keys(shell.state.data_dir, [pem], source="test proctor")
    package = build_package(
        content,
        code=CODE,
        signing_key=key,
        out=tmp_path / "exam.aicexam",
        expires_at=datetime.now(UTC) + timedelta(days=7),
        kdf_n=2**14,
        media=media,
    )
    assert shell.state.store is not None
    pk = import_package(shell.state.store, package)
    shell.state.sig_changed.emit()
    return pk


def _focus() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def _key(qtbot: QtBot, key: Key, modifier: Mod = Mod.NoModifier) -> None:
    """Press a key where the keyboard focus is, as a candidate would."""
    qtbot.keyClick(_focus(), key, modifier)


def _type(qtbot: QtBot, text: str) -> None:
    qtbot.keyClicks(_focus(), text)


def _tab_to(qtbot: QtBot, target: QWidget) -> None:
    for _n in range(30):
        if _focus() is target:
            return
        _key(qtbot, Key.Key_Tab)
    raise AssertionError(f"Tab never reached {target!r}")


def _open_start_screen(shell: Shell, qtbot: QtBot) -> ExamWindow:
    """Ctrl+4 to the Exams page, Tab to the list, Down to the exam, Enter: the start screen."""
    window = shell.window
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Key.Key_4, Mod.ControlModifier)
    page = window.page("exams")
    assert isinstance(page, ExamsPage)
    qtbot.waitUntil(lambda: page.exams.rowCount() == 1)
    window.rail.setFocus()  # where the keyboard is after the shortcut
    _tab_to(qtbot, page.exams)
    _key(qtbot, Key.Key_Down)
    _key(qtbot, Key.Key_Return)
    qtbot.waitUntil(lambda: bool(exam_windows()) and exam_windows()[0].isVisible())
    exam = exam_windows()[0]
    exam.activateWindow()
    qtbot.waitUntil(exam.isActiveWindow)
    assert isinstance(exam.stack.currentWidget(), StartScreen)
    return exam


def _start(shell: Shell, qtbot: QtBot) -> ExamWindow:
    """Fill the start screen and accept the rules from the keyboard; the sitting is shown."""
    exam = _open_start_screen(shell, qtbot)
    start = exam.start_screen
    assert _focus() is start.name
    _type(qtbot, "Ada Lovelace")
    _key(qtbot, Key.Key_Tab)
    _type(qtbot, "P-1042")
    _key(qtbot, Key.Key_Tab)
    assert _focus() is start.code
    _type(qtbot, "7k4q m2xd p9tx")  # one letter wrong
    _key(qtbot, Key.Key_Return)
    qtbot.waitUntil(start.problem.isVisible)
    assert "not right" in start.problem.text() and "4 more tries" in start.problem.text()
    assert _focus() is start.code  # the code is selected, ready to be typed again
    _type(qtbot, CODE)
    _key(qtbot, Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(exam.stack.currentWidget(), RulesScreen))
    rules = exam.stack.currentWidget()
    assert isinstance(rules, RulesScreen)
    assert "There are 8 items." in rules.rules.text()
    assert _focus() is rules.start
    _key(qtbot, Key.Key_Return)
    qtbot.waitUntil(lambda: exam.view is not None and exam.stack.currentWidget() is exam.view)
    return exam


def _answer(qtbot: QtBot, widget: AnswerWidget) -> None:
    """Answer the item shown with keys only, from where Next left the focus."""
    assert widget.isAncestorOf(_focus())
    if isinstance(widget, ChoiceAnswer):
        _key(qtbot, Key.Key_Space)
        if not widget.single:
            _key(qtbot, Key.Key_Tab)
            _key(qtbot, Key.Key_Space)
    elif isinstance(widget, TextAnswer):
        _type(qtbot, "aic-portal cert verify")
    elif isinstance(widget, EssayAnswer):
        _type(qtbot, "So that a copied package reveals nothing.")
    elif isinstance(widget, OrderAnswer):
        _key(qtbot, Key.Key_Down, Mod.AltModifier)
    elif isinstance(widget, PairsAnswer):
        for n, _combo in enumerate(widget.combos.values()):
            if n:
                _key(qtbot, Key.Key_Tab)
            _key(qtbot, Key.Key_Down)
    else:
        assert isinstance(widget, InlineAnswer)
        _key(qtbot, Key.Key_Down)


@pytest.fixture(autouse=True)
def no_exam_window_left(shell: Shell, qtbot: QtBot) -> Iterator[None]:
    """The exam window is a window of its own: close it before the shell's store goes."""
    yield
    for window in exam_windows():
        window._leaving = True
        window.close()
    qtbot.waitUntil(lambda: not exam_windows())
    qtbot.waitUntil(lambda: not running_operations())


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(exam_window, "sitting_clock", fake)
    return fake


@pytest.fixture
def announcements(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """What was sent to screen readers as announcements."""
    said: list[tuple[str, Any]] = []

    def update(event: Any) -> None:
        if hasattr(event, "message"):
            said.append((event.message(), event.politeness()))

    monkeypatch.setattr(QAccessible, "updateAccessibility", staticmethod(update))
    return said


@pytest.fixture
def plain_look() -> Iterator[None]:
    yield
    apply_appearance(QApplication.instance(), Settings())


def test_a_whole_sitting_by_keyboard_only(
    shell: Shell, qtbot: QtBot, tmp_path: Path, clock: FakeClock, memory_keyring: MemoryKeyring
) -> None:
    _import(shell, tmp_path, exam_content())
    exam = _start(shell, qtbot)
    view = exam.view
    assert view is not None and view.total == 8
    kinds = set()
    for n in range(1, 9):
        assert view.current == n
        widget = view.pages[n].answer
        kinds.add(type(widget).__name__)
        _answer(qtbot, widget)
        assert widget.answer(), f"item {n} ({type(widget).__name__}) has no answer"
        if widget.typed:  # saved after a pause in the typing, without moving on
            assert view.typing.interval() <= 500
            qtbot.waitUntil(lambda w=widget, n=n: view.session.answer(n) == w.answer())
        if n == 3:
            _key(qtbot, Key.Key_F, Mod.ControlModifier)
            assert view.flag.isChecked()
        if n < 8:
            _key(qtbot, Key.Key_PageDown, Mod.ControlModifier)
    assert len(kinds) == 6  # match and gap match share one widget
    _key(qtbot, Key.Key_PageUp, Mod.ControlModifier)
    assert view.current == 7
    qtbot.waitUntil(view.all_saved)
    assert view.save_state.text().endswith("Saved")
    session = view.session
    for n in range(1, 9):
        assert session.answer(n) == view.pages[n].answer.answer() != []
    assert session.flagged(3) and not session.flagged(2)
    assert view.strip.item(2).data(Qt.ItemDataRole.AccessibleTextRole) == (
        "Item 3: answered, flagged for review"
    )

    _key(qtbot, Key.Key_R, Mod.ControlModifier)
    assert view.panels.currentWidget() is view.review
    assert _focus() is view.review.list
    assert view.review.counts.text() == "8 answered  ·  0 not answered  ·  1 flagged"
    _key(qtbot, Key.Key_Down)
    _key(qtbot, Key.Key_Down)
    _key(qtbot, Key.Key_Return)  # jump to item 3 from the review
    assert view.current == 3 and view.panels.currentWidget() is view.items_panel
    _key(qtbot, Key.Key_R, Mod.ControlModifier)
    _tab_to(qtbot, view.review.submit)
    _key(qtbot, Key.Key_Space)
    qtbot.waitUntil(lambda: exam.findChild(QMessageBox, "confirmSubmit") is not None)
    box = exam.findChild(QMessageBox, "confirmSubmit")
    assert "0 items are not answered." in box.text()
    assert "1 item is flagged for review." in box.text()
    box.activateWindow()
    qtbot.waitUntil(box.isActiveWindow)
    _key(qtbot, Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(exam.stack.currentWidget(), DoneScreen))
    qtbot.waitUntil(lambda: not running_operations())

    store = shell.state.store
    assert store is not None
    with store.session() as db:
        sitting = db.scalars(select(Sitting)).one()
        assert sitting.state == SittingState.SUBMITTED
        assert (sitting.candidate_name, sitting.partner_id) == ("Ada Lovelace", "P-1042")
        journaled = db.scalars(select(JournalEntry).where(JournalEntry.sitting_id == sitting.id))
        answered_items = {entry.item_id for entry in journaled}
    assert answered_items == {view.items[n].item.id for n in range(1, 9)}
    done = exam.stack.currentWidget()
    exam.activateWindow()  # the window manager's part once the question box has gone
    qtbot.waitUntil(exam.isActiveWindow)
    assert _focus() is done.close_button
    _key(qtbot, Key.Key_Space)
    qtbot.waitUntil(lambda: not exam_windows())


def test_timer_warnings_are_announced_and_time_up_submits(
    shell: Shell,
    qtbot: QtBot,
    tmp_path: Path,
    clock: FakeClock,
    announcements: list[tuple[str, Any]],
    memory_keyring: MemoryKeyring,
) -> None:
    _import(shell, tmp_path, exam_content(duration_s=15 * 60))
    exam = _start(shell, qtbot)
    view = exam.view
    assert view is not None
    assert view.timer.label.text() == "Time left: 15:00"
    clock.now += 5 * 60 + 5
    qtbot.waitUntil(view.warning.isVisible)
    assert view.warning.accessibleName() == (
        "10 minutes left. Answers are submitted when the time is up."
    )
    assert announcements[0][0].startswith("The sitting code is not right.")  # the start screen's
    assert announcements[1:] == [
        (
            "10 minutes left. Answers are submitted when the time is up.",
            QAccessible.AnnouncementPoliteness.Assertive,
        )
    ]
    clock.now += 9 * 60
    qtbot.waitUntil(lambda: len(announcements) == 3)
    assert announcements[2][0] == "1 minute left. Answers are submitted when the time is up."
    clock.now += 60
    qtbot.waitUntil(lambda: isinstance(exam.stack.currentWidget(), DoneScreen))
    done = exam.stack.currentWidget()
    assert done.text.text().startswith("The time was up, so your answers were submitted.")
    qtbot.waitUntil(lambda: not running_operations())
    exam.close()


def _fits(widget: QWidget) -> None:
    """Shown whole: as large as it asks to be and not cut off by its parents."""
    assert widget.isVisible(), widget
    hint = widget.minimumSizeHint()
    assert widget.width() >= hint.width() and widget.height() >= hint.height(), widget
    assert widget.visibleRegion().boundingRect() == widget.rect(), widget


def test_200_percent_text_and_high_contrast_fit(
    shell: Shell,
    qtbot: QtBot,
    tmp_path: Path,
    clock: FakeClock,
    plain_look: None,
    memory_keyring: MemoryKeyring,
) -> None:
    base = QApplication.font().pointSizeF()
    shell.state.update_settings(text_scale=200, high_contrast=True)
    assert QApplication.font().pointSizeF() == pytest.approx(base * 2)
    assert QApplication.palette().color(QPalette.ColorRole.Window) == QColor("#000000")
    _import(shell, tmp_path, exam_content())
    exam = _start(shell, qtbot)
    exam.resize(1024, 768)
    view = exam.view
    assert view is not None
    buttons = [view.back, view.next, view.flag, view.review_button, view.submit_button]
    for n in range(1, 9):
        view.go(n)
        qtbot.wait(10)
        page = view.pages[n]
        assert page.title.font().pointSizeF() > base * 2  # headings scale with the text
        for widget in (*buttons, view.timer.label, page.title):
            if widget.isEnabled() or widget is not view.back:
                _fits(widget)
        first = page.answer.first_focus()
        page.ensureWidgetVisible(first)
        assert first.visibleRegion().boundingRect() == first.rect(), (n, first)
        image = exam.grab().toImage()
        assert image.pixelColor(2, 2) == QColor("#000000")
    view.show_review()
    _fits(view.review.submit)
    controls = [
        widget
        for widget in exam.findChildren(QWidget)
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        and isinstance(
            widget, QAbstractButton | QComboBox | QLineEdit | QPlainTextEdit | QListWidget
        )
    ]
    assert len(controls) > 30  # every item's answer controls, the navigation, the review
    for widget in controls:  # what a screen reader says for each
        accessible = QAccessible.queryAccessibleInterface(widget)
        assert accessible.text(QAccessible.Text.Name).strip(), widget


def test_text_size_and_theme_from_the_settings_page(
    shell: Shell, qtbot: QtBot, plain_look: None
) -> None:
    base = QApplication.font().pointSizeF()
    window = shell.window
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Key.Key_6, Mod.ControlModifier)
    page = window.page("settings")
    _tab_to(qtbot, page.text_size)
    _key(qtbot, Key.Key_End)
    assert shell.state.settings.text_scale == 200
    qtbot.waitUntil(lambda: shell.window is not window)  # rebuilt, so headings scale too
    assert QApplication.font().pointSizeF() == pytest.approx(base * 2)
    window = shell.window
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    page = window.page("settings")
    assert window.current_page() == "settings"
    _tab_to(qtbot, page.high_contrast)
    _key(qtbot, Key.Key_Space)
    assert shell.state.settings.high_contrast
    qtbot.waitUntil(
        lambda: QApplication.palette().color(QPalette.ColorRole.Window) == QColor("#000000")
    )
    qtbot.waitUntil(lambda: not running_operations())
    saved = shell.state.data_dir.settings.read_text()
    assert '"text_scale": 200' in saved and '"high_contrast": true' in saved


def test_import_from_the_exams_page_and_a_damaged_package_in_words(
    shell: Shell, qtbot: QtBot, tmp_path: Path
) -> None:
    shell.window.show_page("exams")
    page = shell.window.page("exams")
    assert isinstance(page, ExamsPage)
    broken = tmp_path / "broken.aicexam"
    broken.write_bytes(b"AICEXAM1 not a package at all")
    page.import_package(broken)
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, "errorDialog") is not None)
    box = page.findChild(QMessageBox, "errorDialog")
    assert "broken.aicexam" in box.text() and "Traceback" not in box.text()
    box.close()
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    trust_keys(shell.state.data_dir, [pem.decode()], source="test proctor")
    package = build_package(
        exam_content(),
        code=CODE,
        signing_key=key,
        out=tmp_path / "exam.aicexam",
        expires_at=datetime.now(UTC) + timedelta(days=7),
        kdf_n=2**14,
    )
    page.import_package(package)
    qtbot.waitUntil(lambda: page.exams.rowCount() == 1)
    assert page.exams.item(0, 0).text() == "AIC Platform Foundations"
    qtbot.waitUntil(lambda: not running_operations())


def test_an_interrupted_sitting_reopens_where_it_was_with_its_answers_after_the_code(
    shell: Shell, qtbot: QtBot, tmp_path: Path, clock: FakeClock, memory_keyring: MemoryKeyring
) -> None:
    _import(shell, tmp_path, exam_content())
    exam = _start(shell, qtbot)
    view = exam.view
    assert view is not None
    _answer(qtbot, view.pages[1].answer)
    first = view.pages[1].answer.answer()
    for _n in range(3):  # on to item 4, answering nothing more
        _key(qtbot, Key.Key_PageDown, Mod.ControlModifier)
    assert view.current == 4
    clock.now += 120
    qtbot.waitUntil(view.all_saved)
    view.checkpoint()
    qtbot.waitUntil(lambda: not running_operations())
    exam.deleteLater()  # gone without a word, as in a crash: nothing is asked or flushed
    qtbot.waitUntil(lambda: not exam_windows())

    shell.state.sig_store_ready.emit()  # what a fresh start does once the store is open
    qtbot.waitUntil(lambda: bool(exam_windows()))
    again = exam_windows()[0]
    again.activateWindow()
    qtbot.waitUntil(again.isActiveWindow)
    start = again.start_screen
    assert start.facts.resuming is not None
    assert (start.name.text(), start.partner.text()) == ("Ada Lovelace", "P-1042")
    assert start.name.isReadOnly() and _focus() is start.code
    _type(qtbot, CODE)
    _key(qtbot, Key.Key_Return)
    qtbot.waitUntil(lambda: again.view is not None)
    resumed = again.view
    assert resumed is not None
    assert resumed.current == 4  # where the candidate was, not the first item not answered
    assert resumed.answers[1] == first
    resumed.go(1)
    assert resumed.current == 1 and resumed.pages[1].answer.answer() == first
    assert resumed.timer.label.text() == "Time left: 28:00"
    resumed.timer.stop()
    resumed.checkpoints.stop()
    qtbot.waitUntil(lambda: not running_operations())
    again._leaving = True
    again.close()


def test_practice_feedback_after_an_answer(
    shell: Shell, qtbot: QtBot, tmp_path: Path, clock: FakeClock, memory_keyring: MemoryKeyring
) -> None:
    _import(shell, tmp_path, exam_content(practice=True))
    exam = _start(shell, qtbot)
    view = exam.view
    assert view is not None and view.check_button.isVisible()
    for n in range(1, 9):
        if isinstance(view.pages[n].answer, InlineAnswer):
            break
        _key(qtbot, Key.Key_PageDown, Mod.ControlModifier)
    page = view.pages[view.current]
    _tab_to(qtbot, view.check_button)
    _key(qtbot, Key.Key_Space)
    assert page.feedback.text() == "Not answered yet."
    combo = page.answer.combo
    _tab_to(qtbot, combo)
    while combo.currentData() != "keyring":
        _key(qtbot, Key.Key_Down)
    _tab_to(qtbot, view.check_button)
    _key(qtbot, Key.Key_Space)
    assert page.feedback.text() == "Correct."
    assert page.feedback.isVisible()
    _tab_to(qtbot, combo)
    _key(qtbot, Key.Key_Up)
    assert combo.currentData() != "keyring"
    assert not page.feedback.isVisible()  # a changed answer hides the old verdict
    qtbot.waitUntil(view.all_saved)
    view.timer.stop()
    view.checkpoints.stop()
    exam._leaving = True
    exam.close()


def _reopen(shell: Shell, qtbot: QtBot) -> ExamWindow:
    """What a fresh start does once the store is open: the sitting left open is offered."""
    shell.state.sig_store_ready.emit()
    qtbot.waitUntil(lambda: bool(exam_windows()))
    again = exam_windows()[0]
    again.activateWindow()
    qtbot.waitUntil(again.isActiveWindow)
    assert again.start_screen.facts.resuming is not None
    return again


def _crash(exam: ExamWindow, qtbot: QtBot) -> None:
    """Gone without a word: nothing is asked or flushed."""
    qtbot.waitUntil(lambda: not running_operations())
    exam.deleteLater()
    qtbot.waitUntil(lambda: not exam_windows())


def test_a_practice_exam_downloaded_through_sync_opens_without_a_code(
    shell: Shell, qtbot: QtBot, tmp_path: Path, clock: FakeClock, memory_keyring: MemoryKeyring
) -> None:
    pk = _import(shell, tmp_path, exam_content(practice=True))
    store = shell.state.store
    assert store is not None
    set_practice_code(store, pk, CODE)  # what portal.sync.exams keeps for a practice offer
    exam = _open_start_screen(shell, qtbot)
    start = exam.start_screen
    assert not start.code.isVisible()  # nothing to type: the marketplace gave the code
    _type(qtbot, "Ada Lovelace")
    _key(qtbot, Key.Key_Tab)
    _type(qtbot, "P-1042")
    _key(qtbot, Key.Key_Return)
    qtbot.waitUntil(
        lambda: isinstance(exam.stack.currentWidget(), RulesScreen) or start.problem.isVisible()
    )
    assert not start.problem.isVisible(), start.problem.text()
    assert attempts_left(store, pk) == MAX_ATTEMPTS  # the empty code was no wrong try
    _key(qtbot, Key.Key_Return)
    qtbot.waitUntil(lambda: exam.view is not None and exam.stack.currentWidget() is exam.view)
    assert exam.view is not None and exam.view.check_button.isVisible()


def test_a_sitting_reopened_with_no_time_left_is_submitted_at_once(
    shell: Shell, qtbot: QtBot, tmp_path: Path, clock: FakeClock, memory_keyring: MemoryKeyring
) -> None:
    _import(shell, tmp_path, exam_content(duration_s=15 * 60))
    exam = _start(shell, qtbot)
    view = exam.view
    assert view is not None
    _answer(qtbot, view.pages[1].answer)
    qtbot.waitUntil(view.all_saved)
    view.timer.stop()  # the app is killed before its clock notices
    view.checkpoints.stop()
    clock.now += 15 * 60
    view.session.checkpoint()  # the last checkpoint saw the time run out
    _crash(exam, qtbot)

    again = _reopen(shell, qtbot)
    _type(qtbot, CODE)
    _key(qtbot, Key.Key_Return)
    qtbot.waitUntil(lambda: again.view is not None)
    resumed = again.view
    assert resumed is not None
    assert resumed.ended  # at once: nothing can be changed on the way to the submit
    assert not resumed.pages[resumed.current].answer.isEnabled()
    assert not resumed.next.isEnabled() and not resumed.submit_button.isEnabled()
    qtbot.waitUntil(lambda: isinstance(again.stack.currentWidget(), DoneScreen))
    done = again.stack.currentWidget()
    assert done.text.text().startswith("The time was up, so your answers were submitted.")
    qtbot.waitUntil(lambda: not running_operations())
    store = shell.state.store
    assert store is not None
    with store.session() as db:
        assert db.scalars(select(Sitting)).one().state == SittingState.SUBMITTED
    again.close()
    qtbot.waitUntil(lambda: not exam_windows())

    shell.state.sig_store_ready.emit()  # the next start offers no sitting to reopen
    qtbot.waitUntil(lambda: not running_operations())
    assert not exam_windows()


def test_a_failed_save_is_shown_until_retried_whatever_saves_after_it(
    shell: Shell,
    qtbot: QtBot,
    tmp_path: Path,
    clock: FakeClock,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _import(shell, tmp_path, exam_content())
    exam = _start(shell, qtbot)
    view = exam.view
    assert view is not None
    session = view.session
    real_save = session.save_answer
    failing = {1}  # item 1's saves fail until the disk is back

    def flaky(number: int, answer: list[str]) -> None:
        if number in failing:
            raise StorageError("The answer could not be saved to the database: disk I/O error")
        real_save(number, answer)

    monkeypatch.setattr(session, "save_answer", flaky)
    _answer(qtbot, view.pages[1].answer)
    qtbot.waitUntil(view.retry.isVisible)
    wanted = view.pages[1].answer.answer()
    assert view.save_state.text().startswith("⚠ Not saved: item 1.")
    assert "disk I/O error" in view.save_state.text()
    assert "✓" not in view.strip.item(0).text()
    assert 1 not in view.answered()

    _key(qtbot, Key.Key_PageDown, Mod.ControlModifier)
    _answer(qtbot, view.pages[2].answer)  # this one saves
    qtbot.waitUntil(lambda: session.answer(2) != [])
    qtbot.waitUntil(lambda: not running_operations())
    assert view.save_state.text().startswith("⚠ Not saved: item 1.")  # not "Saved"
    assert "✓" in view.strip.item(1).text() and "✓" not in view.strip.item(0).text()
    assert not view.all_saved() and session.answer(1) == []

    failing.clear()
    view.retry.click()  # sends item 1's answer as it is now
    qtbot.waitUntil(view.all_saved)
    assert session.answer(1) == wanted
    assert view.save_state.text() == "✓ Saved" and not view.retry.isVisible()
    assert "✓" in view.strip.item(0).text()


def test_no_keyring_is_said_on_the_start_screen_before_any_answer(
    shell: Shell, qtbot: QtBot, tmp_path: Path, clock: FakeClock
) -> None:
    _import(shell, tmp_path, exam_content())  # the tests' keyring backend is keyring's "fail"
    exam = _open_start_screen(shell, qtbot)
    _type(qtbot, "Ada Lovelace")
    _key(qtbot, Key.Key_Tab)
    _type(qtbot, "P-1042")
    _key(qtbot, Key.Key_Tab)
    _type(qtbot, CODE)
    _key(qtbot, Key.Key_Return)
    start = exam.start_screen
    qtbot.waitUntil(start.problem.isVisible)
    assert start.problem.text().startswith("The sitting code is right, but the sitting cannot")
    assert "No OS keyring is available" in start.problem.text()
    assert exam.stack.currentWidget() is start and exam.view is None
    store = shell.state.store
    assert store is not None
    with store.session() as db:
        assert db.scalars(select(Sitting)).first() is None


def test_a_refusing_keyring_is_said_on_the_start_screen(
    shell: Shell, qtbot: QtBot, tmp_path: Path, clock: FakeClock
) -> None:
    before = keyring.get_keyring()
    keyring.set_keyring(RefusingKeyring())
    try:
        _import(shell, tmp_path, exam_content())
        exam = _open_start_screen(shell, qtbot)
        for text in ("Ada Lovelace", "P-1042"):
            _type(qtbot, text)
            _key(qtbot, Key.Key_Tab)
        _type(qtbot, CODE)
        _key(qtbot, Key.Key_Return)
        start = exam.start_screen
        qtbot.waitUntil(start.problem.isVisible)
        assert "The OS keyring refused the device key's passphrase" in start.problem.text()
        assert exam.view is None
    finally:
        keyring.set_keyring(before)


def _png(width: int, height: int) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#2a7ab0"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")
    return bytes(data.data())


def test_an_items_pictures_are_shown_under_the_prompt_scaled_to_fit(
    shell: Shell, qtbot: QtBot, tmp_path: Path, clock: FakeClock, memory_keyring: MemoryKeyring
) -> None:
    document = exam_content().model_dump()
    document["sections"][0]["items"][0]["media"] = ["diagram.png", "broken.png"]
    picture = _png(900, 300)
    assert len(picture) < 2000
    _import(
        shell,
        tmp_path,
        ExamContent.model_validate(document),
        media={"diagram.png": picture, "broken.png": b"\x89PNG\r\n\x1a\n cut short"},
    )
    exam = _start(shell, qtbot)
    exam.resize(640, 600)
    view = exam.view
    assert view is not None
    n = next(n for n, d in view.items.items() if d.item.id == "q_choice")
    view.go(n)
    page = view.pages[n]
    qtbot.waitUntil(lambda: page.media[0].width() > 0)
    shown, broken = page.media
    assert isinstance(shown, MediaPicture)
    assert shown.accessibleName() == "Picture: diagram.png"
    assert shown.accessibleDescription() == "diagram.png"
    assert page.answer.accessibleDescription() == ("Shown with pictures: diagram.png, broken.png")
    layout = page.widget().layout()
    assert layout.indexOf(page.prompt) < layout.indexOf(shown) < layout.indexOf(page.answer)
    assert 0 < shown.width() <= page.viewport().width() < 900  # scaled down to the page
    assert shown.height() == pytest.approx(shown.width() / 3, abs=2)
    assert broken.objectName() == "mediaProblem"
    assert broken.text() == (
        "The picture “broken.png” cannot be shown: its file is damaged or of a kind this app "
        "cannot show."
    )
    image = page.grab().toImage()
    middle = shown.mapTo(page, shown.rect().center())
    assert image.pixelColor(middle) == QColor("#2a7ab0")
    page.grab().save(str(tmp_path / "item-with-picture.png"))
