"""One item as the candidate sees it: where it is, the prompt, the answer widget, feedback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from portal.i18n import _, format_number
from ui.exam.interactions import AnswerWidget, answer_widget, local
from ui.exam.media import media_widget
from ui.widgets import heading

if TYPE_CHECKING:
    from portal.exams.delivery import DeliveredItem


class ItemPage(QScrollArea):
    """Scrolls rather than clips when the text is large (200 %) or the window small."""

    def __init__(
        self,
        delivered: DeliveredItem,
        *,
        total: int,
        section_title: str,
        language: str,
        media: dict[str, bytes] | None = None,
    ) -> None:
        super().__init__()
        self.delivered = delivered
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        where = _("Item {n} of {total}").format(
            n=format_number(delivered.number), total=format_number(total)
        )
        self.title = heading(where, level=2)
        self.title.setObjectName("itemTitle")
        self.section = QLabel(section_title)
        self.section.setObjectName("hint")
        self.section.setWordWrap(True)
        prompt_text = local(delivered.item.prompt, language)
        self.prompt = QLabel(prompt_text)
        self.prompt.setObjectName("prompt")
        self.prompt.setWordWrap(True)
        self.prompt.setTextFormat(Qt.TextFormat.PlainText)
        self.prompt.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.answer: AnswerWidget = answer_widget(delivered.item, delivered.order, language)
        self.answer.setAccessibleName(f"{where}: {prompt_text}")
        if delivered.item.media:  # the pictures take no focus: the answer says they are there
            self.answer.setAccessibleDescription(
                _("Shown with pictures: {names}").format(names=", ".join(delivered.item.media))
            )
        self.feedback = QLabel()
        self.feedback.setObjectName("feedback")
        self.feedback.setWordWrap(True)
        self.feedback.setTextFormat(Qt.TextFormat.PlainText)
        self.feedback.setFrameShape(QFrame.Shape.StyledPanel)
        self.feedback.hide()
        kept = media or {}
        self.media = [media_widget(name, kept.get(name)) for name in delivered.item.media]
        """One picture, or a line saying it cannot be shown, per media file the item names."""
        for widget in (self.title, self.section, self.prompt, *self.media):
            layout.addWidget(widget)
        layout.addSpacing(8)
        layout.addWidget(self.answer)
        layout.addWidget(self.feedback)
        layout.addStretch(1)
        self.setWidget(inner)
