"""The manifest editor: a form and the YAML text kept in step, checked on a worker as you type."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from portal.i18n import _, format_number, ngettext
from portal.plugins.document import Problem, TextCheck, check_text, edit_text, read_text, save_text
from portal.plugins.manifest import MANIFEST_NAME
from ui.code_view import CodeView
from ui.operations import CoreOp
from ui.pages.manifest_form import ManifestForm

CHECK_DELAY_MS = 300
EDIT_DELAY_MS = 150
_MISSING = object()


class ManifestEditor(QWidget):
    """The YAML text is what is saved; form edits are applied to it so its comments survive."""

    sig_saved = Signal()
    """plugin.yaml was written, so the folder is worth linting again."""

    def __init__(self) -> None:
        super().__init__()
        self.path: Path | None = None
        self._pending: dict[str, object] = {}
        self._text_generation = 0
        self._editing = False
        self._save_wanted = False
        self._after_save: list[Callable[[], None]] = []
        self.save_action = QAction(_("Save"), self)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.save_action.triggered.connect(lambda: self.save())
        self.revert_action = QAction(_("Revert…"), self)
        self.revert_action.triggered.connect(self._revert)
        self.undo_action = QAction(_("Undo"), self)
        self.redo_action = QAction(_("Redo"), self)

        self.form = ManifestForm()
        self.form.sig_edited.connect(self._form_edited)
        scroll = QScrollArea()
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.yaml = CodeView()
        self.yaml.setObjectName("manifestYaml")
        self.yaml.textChanged.connect(self._text_changed)
        self.yaml.undoAvailable.connect(self.undo_action.setEnabled)
        self.yaml.redoAvailable.connect(self.redo_action.setEnabled)
        self.yaml.modificationChanged.connect(lambda _modified: self._show_state())
        self.undo_action.triggered.connect(self.yaml.undo)
        self.redo_action.triggered.connect(self.yaml.redo)
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        self.splitter = QSplitter()
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(self.yaml)
        self.splitter.setSizes([1000, 1000])  # half each, whatever the window's width

        self.state_label = QLabel()
        self.state_label.setObjectName("manifestState")
        self.state_label.setWordWrap(True)
        self.problems = QListWidget()
        self.problems.setObjectName("manifestProblems")
        self.problems.itemActivated.connect(self._problem_activated)
        self.problems.hide()

        bar = QHBoxLayout()
        for action in (self.save_action, self.undo_action, self.redo_action, self.revert_action):
            self.addAction(action)
            button = QToolButton()
            button.setDefaultAction(action)
            bar.addWidget(button)
        bar.addWidget(self.state_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.problems)

        self._check_timer = _timer(self, CHECK_DELAY_MS, self._check)
        self._edit_timer = _timer(self, EDIT_DELAY_MS, self._apply_form)
        self.setEnabled(False)
        self._show_state()

    def open(self, path: Path) -> None:
        """Read the manifest on a worker and show it; a folder without one starts empty."""
        self.path = path
        self.setEnabled(False)
        self.state_label.setText(_("Loading…"))
        CoreOp(self, lambda _ctx: read_text(path), name="read manifest").success(
            lambda text: self._loaded(path, text)
        ).failure(self._read_failed).run_in_background()

    def _read_failed(self, error: BaseException) -> None:
        from ui.dialogs import show_error

        self.state_label.setText(_("plugin.yaml cannot be read; see the message."))
        show_error(self, error)

    def _loaded(self, path: Path, text: str | None) -> None:
        if path != self.path:
            return
        self._pending.clear()
        self.yaml.setPlainText(text or "")  # also forgets the undo history of another file
        self.yaml.document().setModified(False)
        self.setEnabled(True)
        self._check_timer.stop()
        self._check()
        if text is None:
            self.state_label.setText(
                _("This folder has no {name} yet: write one here and save it.").format(
                    name=MANIFEST_NAME
                )
            )

    def is_modified(self) -> bool:
        """Whether there are changes that are not in the file yet."""
        return self.yaml.document().isModified() or bool(self._pending)

    def show_line(self, line: int, column: int = 1) -> None:
        """Show a line of plugin.yaml in the YAML view, cursor on it."""
        sizes = self.splitter.sizes()
        if sizes[1] == 0:
            self.splitter.setSizes([sizes[0] // 2, sizes[0] - sizes[0] // 2])
        self.yaml.go_to(line, column)

    def save(self, then: Callable[[], None] | None = None) -> None:
        """Write the text through the round-trip document code; `then` runs once it is saved."""
        if self.path is None or not self.isEnabled():
            return
        if then is not None:
            self._after_save.append(then)
        if self._pending or self._editing:
            self._save_wanted = True  # the form's last edits go into the text first
            self._apply_form()
            return
        self._save_wanted = False
        path, text = self.path, self.yaml.toPlainText()
        # the write worker: one save at a time, in order, so an older text never lands last
        CoreOp(self, lambda _ctx: save_text(path, text), writes=True, name="save manifest").success(
            lambda _none: self._saved(text)
        ).failure(self._save_failed).run_in_background()

    def maybe_leave(self, then: Callable[[], None]) -> None:
        """Run `then` now, or after asking whether to save or drop the changes first."""
        if not self.is_modified():
            then()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            _("Unsaved changes"),
            _("{name} has changes that are not saved. Save them first?").format(name=MANIFEST_NAME),
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("unsavedDialog")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            chosen = box.standardButton(box.clickedButton())
            if chosen == QMessageBox.StandardButton.Save:
                self.save(then)
            elif chosen == QMessageBox.StandardButton.Discard:
                self._pending.clear()
                self.yaml.document().setModified(False)
                then()

        box.finished.connect(answered)
        box.open()

    def _revert(self) -> None:
        if self.path is not None:
            path = self.path
            self.maybe_leave(lambda: self.open(path))

    def _form_edited(self, key: str, value: object) -> None:
        self._pending[key] = value
        self._edit_timer.start()
        self._show_state()

    def _apply_form(self) -> None:
        """Put the form's pending edits into the text, on a worker, as one undoable step."""
        if self._editing or not self._pending:
            return
        self._edit_timer.stop()
        text, changes, generation = (
            self.yaml.toPlainText(),
            dict(self._pending),
            self._text_generation,
        )
        self._editing = True
        CoreOp(
            self, lambda _ctx: edit_text(text, changes, MANIFEST_NAME), name="edit manifest"
        ).success(lambda new: self._form_applied(new, changes, generation)).failure(
            self._form_failed
        ).run_in_background()

    def _form_applied(self, new: str, changes: dict[str, object], generation: int) -> None:
        self._editing = False
        if generation == self._text_generation:  # else the YAML was typed in meanwhile: again
            for key, value in changes.items():
                if self._pending.get(key, _MISSING) == value:
                    del self._pending[key]
            self.yaml.replace_text(new)
        if self._pending:
            self._apply_form()
        elif self._save_wanted:
            self.save()
        self._show_state()

    def _form_failed(self, _error: BaseException) -> None:
        """The text stopped being YAML before the form's edit reached it: the text wins."""
        self._editing = False
        self._pending.clear()
        self._save_wanted = False
        self._after_save.clear()
        self._check()

    def _text_changed(self) -> None:
        self._text_generation += 1
        self._check_timer.start()

    def _check(self) -> None:
        text, generation = self.yaml.toPlainText(), self._text_generation
        CoreOp(self, lambda _ctx: check_text(text, MANIFEST_NAME), name="check manifest").success(
            lambda result: self._checked(result, generation)
        ).run_in_background()

    def _checked(self, result: TextCheck, generation: int) -> None:
        if generation != self._text_generation:
            return  # the text changed again; its own check is on the way
        self.form.setEnabled(result.values is not None)
        if result.values is not None:
            self.form.show_values(result.values, skip=set(self._pending))
        self.form.show_problems(result.problems)
        self.problems.clear()
        for problem in result.problems:
            item = QListWidgetItem(_problem_text(problem))
            item.setData(Qt.ItemDataRole.UserRole, (problem.line, problem.column))
            self.problems.addItem(item)
        self.problems.setVisible(bool(result.problems))
        if result.problems:  # as tall as its lines, up to five, so the editor keeps the room
            rows = min(len(result.problems), 5)
            frame = 2 * self.problems.frameWidth()
            self.problems.setFixedHeight(self.problems.sizeHintForRow(0) * rows + frame + 2)
        if result.values is None:
            text = _("The YAML cannot be read, so the form is locked: correct the text.")
        elif result.problems:
            count = len(result.problems)
            text = ngettext("{n} problem in {name}", "{n} problems in {name}", count).format(
                n=format_number(count), name=MANIFEST_NAME
            )
        else:
            text = _("{name} is valid.").format(name=MANIFEST_NAME)
        self.state_label.setText(text)

    def _problem_activated(self, item: QListWidgetItem) -> None:
        line, column = item.data(Qt.ItemDataRole.UserRole)
        self.show_line(line, column)

    def _saved(self, text: str) -> None:
        if self.yaml.toPlainText() == text:
            self.yaml.document().setModified(False)
        self._show_state()
        self.sig_saved.emit()
        callbacks, self._after_save = self._after_save, []
        for callback in callbacks:
            callback()

    def _save_failed(self, error: BaseException) -> None:
        from ui.dialogs import show_error

        self._after_save.clear()
        show_error(self, error)

    def _show_state(self) -> None:
        self.save_action.setEnabled(self.is_modified())


def _problem_text(problem: Problem) -> str:
    line, column = format_number(problem.line), format_number(problem.column)
    if problem.field:
        return _("Line {line}, column {column}: {field}: {message}").format(
            line=line, column=column, field=problem.field, message=problem.message
        )
    return _("Line {line}, column {column}: {message}").format(
        line=line, column=column, message=problem.message
    )


def _timer(parent: QWidget, delay_ms: int, slot: Callable[[], None]) -> QTimer:
    """A single-shot timer that restarts on each start(): the work waits for a pause in typing."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(delay_ms)
    timer.timeout.connect(slot)
    return timer
