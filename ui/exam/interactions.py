"""One answer widget per interaction, each usable from the keyboard alone and named for readers.

Every widget shows options in the order the sitting drew for this candidate, gives its answer in
the model's `Answer` form (see portal/exams/model.py) and says when the candidate changed it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from portal.exams.model import (
    Answer,
    Choice,
    ChoiceInteraction,
    ExtendedTextInteraction,
    GapMatchInteraction,
    InlineChoiceInteraction,
    Item,
    LocalText,
    MatchInteraction,
    OrderInteraction,
    TextEntryInteraction,
)
from portal.i18n import _, format_number

ID_ROLE = Qt.ItemDataRole.UserRole


def local(text: LocalText, language: str) -> str:
    """The text in the sitting's language (a package is checked to carry every language)."""
    return text.get(language) or next(iter(text.values()), "")


def in_order(choices: Sequence[Choice], order: Sequence[str] | None) -> list[Choice]:
    """The choices in the order drawn for this candidate (the package's order when none)."""
    if not order:
        return list(choices)
    by_id = {c.id: c for c in choices}
    drawn = [by_id[i] for i in order if i in by_id]
    return drawn + [c for c in choices if c.id not in set(order)]


class AnswerWidget(QWidget):
    """The part of an item the candidate answers with."""

    sig_changed = Signal()
    """The candidate changed the answer (not emitted by `set_answer`)."""

    typed = False
    """Whether the answer is typed, so saving waits for a pause in the typing."""

    def answer(self) -> Answer:
        """The answer as shown now; empty when unanswered."""
        raise NotImplementedError

    def set_answer(self, answer: Answer) -> None:
        """Show a saved answer."""
        raise NotImplementedError

    def first_focus(self) -> QWidget:
        """Where the keyboard goes when the item is shown (not a focus proxy: in Qt 6 a proxy
        that is a child makes Tab skip past the widgets after it)."""
        return self._first


class ChoiceAnswer(AnswerWidget):
    """Radio buttons for one response (arrows move and choose, Tab leaves the group), check
    boxes for several (each its own Tab stop, Space ticks)."""

    def __init__(self, interaction: ChoiceInteraction, order: list[str], language: str) -> None:
        super().__init__()
        self.single = interaction.max_choices == 1
        self.limit = interaction.max_choices
        self.group = QButtonGroup(self)  # radios only: grouped check boxes would be one Tab stop
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.buttons: dict[str, QAbstractButton] = {}
        for n, choice in enumerate(in_order(interaction.choices, order), start=1):
            text = local(choice.text, language)
            button: QAbstractButton = QRadioButton(text) if self.single else QCheckBox(text)
            button.setObjectName(f"choice.{choice.id}")
            button.setAccessibleName(text)
            button.setAccessibleDescription(
                _("Option {n} of {count}").format(
                    n=format_number(n), count=format_number(len(interaction.choices))
                )
            )
            if self.single:
                self.group.addButton(button)
            button.toggled.connect(self._toggled)
            self.buttons[choice.id] = button
            layout.addWidget(button)
        self.note = QLabel()
        self.note.setWordWrap(True)
        if not self.single and self.limit:
            self.note.setText(_("Choose up to {count}.").format(count=format_number(self.limit)))
        layout.addWidget(self.note)
        self.note.setVisible(bool(self.note.text()))
        self._first: QWidget = next(iter(self.buttons.values()))
        self._quiet = False

    def _toggled(self, checked: bool) -> None:
        if self._quiet or (self.single and not checked):
            return  # the other half of a radio switch; the checked half reports it
        self._limit()
        self.sig_changed.emit()

    def _limit(self) -> None:
        if self.single or not self.limit:
            return
        full = len(self.answer()) >= self.limit
        for button in self.buttons.values():
            button.setEnabled(button.isChecked() or not full)

    def answer(self) -> Answer:
        return [cid for cid, button in self.buttons.items() if button.isChecked()]

    def set_answer(self, answer: Answer) -> None:
        self._quiet = True
        self.group.setExclusive(False)
        for cid, button in self.buttons.items():
            button.setChecked(cid in answer)
        self.group.setExclusive(True)
        self._quiet = False
        self._limit()

    def first_focus(self) -> QWidget:
        checked = [b for b in self.buttons.values() if b.isChecked()]
        return checked[0] if checked else self._first


class TextAnswer(AnswerWidget):
    """A line for a short answer."""

    typed = True

    def __init__(self, interaction: TextEntryInteraction) -> None:
        super().__init__()
        self.edit = QLineEdit()
        self.edit.setObjectName("textAnswer")
        self.edit.setAccessibleName(_("Your answer"))
        if interaction.expected_length:
            self.edit.setMaxLength(max(interaction.expected_length * 4, 200))
        label = QLabel(_("Your &answer:"))
        label.setBuddy(self.edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.edit)
        layout.addStretch(1)
        self.edit.textEdited.connect(lambda _text: self.sig_changed.emit())
        self._first = self.edit

    def answer(self) -> Answer:
        return [self.edit.text()] if self.edit.text() else []

    def set_answer(self, answer: Answer) -> None:
        self.edit.setText(answer[0] if answer else "")


class EssayAnswer(AnswerWidget):
    """A text box for an answer of several lines; Tab leaves it, so the keyboard is never caught."""

    typed = True

    def __init__(self, interaction: ExtendedTextInteraction) -> None:
        super().__init__()
        self.edit = QPlainTextEdit()
        self.edit.setObjectName("essayAnswer")
        self.edit.setAccessibleName(_("Your answer"))
        self.edit.setTabChangesFocus(True)
        lines = interaction.expected_lines or 8
        self.edit.setMinimumHeight(self.edit.fontMetrics().lineSpacing() * min(lines, 12) + 12)
        label = QLabel(_("Your &answer (Tab leaves the text box):"))
        label.setWordWrap(True)
        label.setBuddy(self.edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.edit, 1)
        self.edit.textChanged.connect(self.sig_changed.emit)
        self._first = self.edit

    def answer(self) -> Answer:
        text = self.edit.toPlainText()
        return [text] if text else []

    def set_answer(self, answer: Answer) -> None:
        self.edit.blockSignals(True)
        self.edit.setPlainText(answer[0] if answer else "")
        self.edit.blockSignals(False)


class _OrderList(QListWidget):
    """A list whose current row moves with Alt+Up and Alt+Down."""

    sig_move = Signal(int)
    """Move the current row by -1 or +1."""

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        """Alt+Up and Alt+Down move the current row; other keys as a list."""
        if event.modifiers() & Qt.KeyboardModifier.AltModifier and event.key() in (
            Qt.Key.Key_Up,
            Qt.Key.Key_Down,
        ):
            self.sig_move.emit(-1 if event.key() == Qt.Key.Key_Up else 1)
            return
        super().keyPressEvent(event)


class OrderAnswer(AnswerWidget):
    """A list with move buttons and Alt+Up/Alt+Down: never drag only."""

    def __init__(self, interaction: OrderInteraction, order: list[str], language: str) -> None:
        super().__init__()
        self.answered = False
        self.list = _OrderList()
        self.list.setObjectName("orderList")
        self.list.setAccessibleName(_("Items to put in order"))
        self.list.setAccessibleDescription(_("Alt+Up and Alt+Down move the selected item."))
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.initial = [c.id for c in in_order(interaction.choices, order)]
        self.texts = {c.id: local(c.text, language) for c in interaction.choices}
        self._fill(self.initial)
        self.up = QPushButton(_("Move &up"))
        self.up.setAccessibleName(_("Move the selected item up"))
        self.down = QPushButton(_("Move do&wn"))
        self.down.setAccessibleName(_("Move the selected item down"))
        self.accept = QPushButton(_("Keep this &order"))
        self.accept.setAccessibleName(_("Answer with the order shown"))
        self.up.clicked.connect(lambda: self._move(-1))
        self.down.clicked.connect(lambda: self._move(1))
        self.accept.clicked.connect(self._keep)
        self.list.sig_move.connect(self._move)
        self.list.model().rowsMoved.connect(self._dragged)
        self.state = QLabel()
        self.state.setWordWrap(True)
        hint = QLabel(_("Select an item, then move it with the buttons or Alt+Up and Alt+Down."))
        hint.setWordWrap(True)
        buttons = QVBoxLayout()
        for button in (self.up, self.down, self.accept):
            buttons.addWidget(button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(hint)
        layout.addLayout(row)
        layout.addWidget(self.state)
        self._first = self.list
        self._show_state()

    def _fill(self, ids: list[str]) -> None:
        self.list.clear()
        for n, cid in enumerate(ids, start=1):
            entry = QListWidgetItem(f"{format_number(n)}. {self.texts[cid]}")
            entry.setData(ID_ROLE, cid)
            self.list.addItem(entry)
        self.list.setCurrentRow(0)

    def _ids(self) -> list[str]:
        return [self.list.item(r).data(ID_ROLE) for r in range(self.list.count())]

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        ids = self._ids()
        ids[row], ids[target] = ids[target], ids[row]
        self._fill(ids)
        self.list.setCurrentRow(target)
        self._changed()

    def _dragged(self, *_args: object) -> None:
        self._fill(self._ids())  # renumber
        self._changed()

    def _keep(self) -> None:
        self._changed()
        self.list.setFocus()

    def _changed(self) -> None:
        self.answered = True
        self._show_state()
        self.sig_changed.emit()

    def _show_state(self) -> None:
        self.state.setText(
            _("Your order is recorded as shown.")
            if self.answered
            else _("Not answered yet: move an item, or keep this order.")
        )
        self.accept.setEnabled(not self.answered)

    def answer(self) -> Answer:
        return self._ids() if self.answered else []

    def set_answer(self, answer: Answer) -> None:
        self.answered = bool(answer)
        row = max(self.list.currentRow(), 0)
        self._fill(list(answer) if answer else self.initial)
        self.list.setCurrentRow(row)
        self._show_state()


class PairsAnswer(AnswerWidget):
    """A combo box of targets per source (match) or of gap texts per gap (gap match)."""

    def __init__(
        self,
        rows: list[tuple[str, str]],
        options: list[tuple[str, str]],
        *,
        gap_first: bool,
        intro: str = "",
    ) -> None:
        super().__init__()
        self.gap_first = gap_first  # gap match answers read "GAPTEXT GAP"; match "SOURCE TARGET"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if intro:
            text = QLabel(intro)
            text.setWordWrap(True)
            text.setTextFormat(Qt.TextFormat.PlainText)
            layout.addWidget(text)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.combos: dict[str, QComboBox] = {}
        for row_id, label_text in rows:
            combo = QComboBox()
            combo.setObjectName(f"pair.{row_id}")
            combo.setAccessibleName(label_text)
            combo.addItem(_("— not answered —"), "")
            for option_id, option_text in options:
                combo.addItem(option_text, option_id)
            combo.currentIndexChanged.connect(lambda _i: self.sig_changed.emit())
            label = QLabel(label_text)
            label.setWordWrap(True)
            label.setBuddy(combo)
            form.addRow(label, combo)
            self.combos[row_id] = combo
        layout.addLayout(form)
        layout.addStretch(1)
        self._first = next(iter(self.combos.values()))

    def answer(self) -> Answer:
        pairs = []
        for row_id, combo in self.combos.items():
            chosen = combo.currentData()
            if chosen:
                pairs.append(f"{chosen} {row_id}" if self.gap_first else f"{row_id} {chosen}")
        return pairs

    def set_answer(self, answer: Answer) -> None:
        chosen: dict[str, str] = {}
        for value in answer:
            first, _sep, second = value.partition(" ")
            row_id, option = (second, first) if self.gap_first else (first, second)
            chosen[row_id] = option
        for row_id, combo in self.combos.items():
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(chosen.get(row_id, ""))))
            combo.blockSignals(False)


class InlineAnswer(AnswerWidget):
    """The sentence with a combo box where the choice goes."""

    def __init__(
        self, interaction: InlineChoiceInteraction, order: list[str], language: str
    ) -> None:
        super().__init__()
        before, after = local(interaction.before, language), local(interaction.after, language)
        self.combo = QComboBox()
        self.combo.setObjectName("inlineChoice")
        self.combo.setAccessibleName(
            _("Fill the blank: {before} … {after}").format(before=before, after=after)
        )
        self.combo.addItem(_("— choose —"), "")
        for choice in in_order(interaction.choices, order):
            self.combo.addItem(local(choice.text, language), choice.id)
        self.combo.currentIndexChanged.connect(lambda _i: self.sig_changed.emit())
        row = QHBoxLayout()
        for part in (before, None, after):
            if part is None:
                row.addWidget(self.combo)
                continue
            label = QLabel(part)
            label.setWordWrap(part is after)  # the text before keeps its width: no lone words
            label.setTextFormat(Qt.TextFormat.PlainText)
            row.addWidget(label, 1 if part is after else 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addStretch(1)
        self._first = self.combo

    def answer(self) -> Answer:
        chosen = self.combo.currentData()
        return [chosen] if chosen else []

    def set_answer(self, answer: Answer) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(0, self.combo.findData(answer[0] if answer else "")))
        self.combo.blockSignals(False)


def gap_text(interaction: GapMatchInteraction, language: str) -> tuple[str, dict[str, str]]:
    """The text with each gap written as a numbered blank, and each gap's name."""
    text = local(interaction.text, language)
    names = {}
    for n, gap in enumerate(interaction.gaps, start=1):
        names[gap] = _("Gap {n}").format(n=format_number(n))
        text = text.replace("{{" + gap + "}}", f"[{names[gap]}: ____]")
    return text, names


def answer_widget(item: Item, order: dict[str, list[str]], language: str) -> AnswerWidget:
    """The answer widget for an item's interaction, options in the candidate's order."""
    i = item.interaction
    if isinstance(i, ChoiceInteraction):
        return ChoiceAnswer(i, order.get("choices", []), language)
    if isinstance(i, TextEntryInteraction):
        return TextAnswer(i)
    if isinstance(i, ExtendedTextInteraction):
        return EssayAnswer(i)
    if isinstance(i, OrderInteraction):
        return OrderAnswer(i, order.get("choices", []), language)
    if isinstance(i, MatchInteraction):
        return PairsAnswer(
            [(c.id, local(c.text, language)) for c in in_order(i.sources, order.get("sources"))],
            [(c.id, local(c.text, language)) for c in in_order(i.targets, order.get("targets"))],
            gap_first=False,
        )
    if isinstance(i, GapMatchInteraction):
        text, names = gap_text(i, language)
        return PairsAnswer(
            [(gap, names[gap]) for gap in i.gaps],
            [
                (c.id, local(c.text, language))
                for c in in_order(i.gap_texts, order.get("gap_texts"))
            ],
            gap_first=True,
            intro=text,
        )
    return InlineAnswer(i, order.get("choices", []), language)
