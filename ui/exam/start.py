"""Before and after the sitting: who sits it and the code, the rules, and what was submitted."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from portal.exams.model import ExamContent
from portal.i18n import _, format_duration, format_number, format_percent, language_name, ngettext
from ui.widgets import heading


@dataclass(frozen=True)
class StartFacts:
    """What the start screen knows before the package is opened (from the local store)."""

    exam_pk: int
    title: str
    languages: list[str]
    needs_code: bool
    candidate_name: str = ""
    partner_id: str = ""
    language: str = ""
    resuming: int | None = None
    """The id of the interrupted sitting this screen reopens, if any."""


def scrolling(inner: QWidget) -> QScrollArea:
    """`inner` in a scroll area, so large text scrolls instead of being clipped."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(inner)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


class StartScreen(QWidget):
    """Candidate name, partner id, sitting code and language; the code is checked on a worker."""

    sig_continue = Signal(str, str, str, str)
    """Name, partner id, code and language as entered."""
    sig_cancel = Signal()
    """The candidate left before starting."""

    def __init__(self, facts: StartFacts, *, default_language: str) -> None:
        super().__init__()
        self.facts = facts
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(heading(facts.title))
        if facts.resuming is not None:
            intro = _(
                "This sitting was interrupted. Enter the sitting code again to continue: every "
                "saved answer and the time left are kept. The code is needed because the exam "
                "is kept encrypted and the code is never stored."
            )
        else:
            intro = _("Enter your details and the sitting code the proctor gave you.")
        text = QLabel(intro)
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.name = QLineEdit(facts.candidate_name)
        self.name.setObjectName("candidateName")
        self.name.setAccessibleName(_("Candidate name"))
        self.name.setMaxLength(200)
        self.partner = QLineEdit(facts.partner_id)
        self.partner.setObjectName("partnerId")
        self.partner.setAccessibleName(_("Partner id"))
        self.partner.setMaxLength(64)
        self.code = QLineEdit()
        self.code.setObjectName("sittingCode")
        self.code.setAccessibleName(_("Sitting code"))
        self.code.setEchoMode(QLineEdit.EchoMode.Password)
        self.language = QComboBox()
        self.language.setObjectName("examLanguage")
        self.language.setAccessibleName(_("Exam language"))
        for code in facts.languages:
            self.language.addItem(language_name(code), code)
        wanted = facts.language or default_language.split("_")[0]
        self.language.setCurrentIndex(max(0, self.language.findData(wanted)))
        for label, field in (
            (_("Candidate &name"), self.name),
            (_("&Partner id"), self.partner),
            (_("Sitting &code"), self.code),
            (_("Exam &language"), self.language),
        ):
            caption = QLabel(label)
            caption.setBuddy(field)
            form.addRow(caption, field)
        resuming = facts.resuming is not None
        self.name.setReadOnly(resuming)
        self.partner.setReadOnly(resuming)
        self.language.setEnabled(not resuming and len(facts.languages) > 1)
        form.setRowVisible(self.language, len(facts.languages) > 1)
        form.setRowVisible(self.code, facts.needs_code)
        layout.addLayout(form)
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setAccessibleName(_("Opening the exam"))
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.busy = QLabel(_("Checking the sitting code… This takes a few seconds."))
        self.busy.setWordWrap(True)
        self.busy.hide()
        layout.addWidget(self.busy)
        layout.addWidget(self.progress)
        self.cancel = QPushButton(_("Cancel"))
        self.cancel.clicked.connect(self.sig_cancel.emit)
        self.go = QPushButton(_("Continue"))
        self.go.setObjectName("continue")
        self.go.setDefault(True)
        self.go.clicked.connect(self._continue)
        for field in (self.name, self.partner, self.code):
            field.returnPressed.connect(self._continue)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel)
        row.addWidget(self.go)
        layout.addLayout(row)
        layout.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolling(inner))
        first = self.code if resuming and facts.needs_code else self.name
        self.first_focus: QWidget = first

    def _continue(self) -> None:
        if self.progress.isVisible():
            return
        name, partner = self.name.text().strip(), self.partner.text().strip()
        missing = [
            label
            for label, value in (
                (_("the candidate name"), name),
                (_("the partner id"), partner),
                (_("the sitting code"), self.code.text() or not self.facts.needs_code),
            )
            if not value
        ]
        if missing:
            self.show_problem(_("Please enter {what}.").format(what=missing[0]))
            return
        self.problem.hide()
        self.sig_continue.emit(name, partner, self.code.text(), self.language.currentData())

    def set_busy(self, busy: bool) -> None:
        """Show the wait while the code is checked (scrypt is slow on purpose)."""
        self.progress.setVisible(busy)
        self.busy.setVisible(busy)
        self.go.setEnabled(not busy)
        if busy:
            self.problem.hide()

    def show_problem(self, text: str) -> None:
        """Say what is wrong, where the keyboard is."""
        self.set_busy(False)
        self.problem.setText(text)
        self.problem.setAccessibleName(text)
        self.problem.show()
        from ui.exam.timer import announce

        announce(self.problem, text)
        field = self.code if self.facts.needs_code and not self.code.isReadOnly() else self.name
        field.setFocus()
        field.selectAll()


class RulesScreen(QWidget):
    """What the candidate agrees to before the clock starts."""

    sig_start = Signal()
    """Start the sitting now."""
    sig_cancel = Signal()
    """Leave without starting."""

    def __init__(self, content: ExamContent, *, language: str, item_count: int) -> None:
        super().__init__()
        title = content.title.get(language) or next(iter(content.title.values()))
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(heading(title))
        layout.addWidget(heading(_("Before you start"), level=2))
        minutes = format_duration(content.duration_s, granularity="minute")
        clock = (
            _("The clock keeps running if the app is closed.")
            if content.time_runs_while_closed
            else _("If the app closes, the clock stops and resumes where it was.")
        )
        rules = [
            _("You have {duration} for this exam.").format(duration=minutes),
            ngettext("There is {n} item.", "There are {n} items.", item_count).format(
                n=format_number(item_count)
            ),
            _("You pass with {mark} of the points.").format(mark=format_percent(content.pass_mark)),
            clock,
            _(
                "Each answer is saved as you give it. Move with Next and Back (Ctrl+Page Down, "
                "Ctrl+Page Up) or the item numbers; flag an item to come back to it (Ctrl+F); "
                "see what is left on the review screen (Ctrl+R)."
            ),
            _("You are warned when 10 minutes and 1 minute are left."),
            _("When the time is up, your answers are submitted as they are."),
            (
                _("After each answer you can check it and read why.")
                if content.practice
                else _(
                    "When you submit, your answers are sealed and sent to the marketplace for "
                    "scoring; they cannot be changed after that."
                )
            ),
        ]
        self.rules = QLabel("\n".join(f"• {rule}" for rule in rules))
        self.rules.setObjectName("rules")
        self.rules.setWordWrap(True)
        self.rules.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.rules)
        layout.addStretch(1)
        self.cancel = QPushButton(_("Cancel"))
        self.cancel.clicked.connect(self.sig_cancel.emit)
        self.start = QPushButton(_("Start the exam"))
        self.start.setObjectName("startExam")
        self.start.setDefault(True)
        self.start.clicked.connect(self.sig_start.emit)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel)
        row.addWidget(self.start)
        layout.addLayout(row)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolling(inner))
        self.first_focus: QWidget = self.start


class DoneScreen(QWidget):
    """What happened to the answers, and the result where it is known here (practice)."""

    sig_close = Signal()
    """Close the exam window."""

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(heading(title))
        self.text = QLabel("\n\n".join(lines))
        self.text.setObjectName("outcome")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.text)
        layout.addStretch(1)
        self.close_button = QPushButton(_("Close"))
        self.close_button.setObjectName("closeExam")
        self.close_button.clicked.connect(self.sig_close.emit)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.close_button)
        layout.addLayout(row)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolling(inner))
        self.first_focus: QWidget = self.close_button
