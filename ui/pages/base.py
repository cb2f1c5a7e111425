"""A page that loads its records on a worker and shows them, an empty state, or a wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from portal.i18n import _
from ui.operations import CoreOp
from ui.state import AppState
from ui.widgets import EmptyState, heading

if TYPE_CHECKING:
    from portal.db.store import Store


class Page(QWidget):
    """A navigation page; subclasses build their widgets and hand them to `install`."""

    def __init__(self, state: AppState, title: str) -> None:
        super().__init__()
        self.state = state
        self._loading = False
        self._again = False
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading(title), 1)
        self.actions_bar = QHBoxLayout()
        top.addLayout(self.actions_bar)
        outer.addLayout(top)
        self.stack = QStackedWidget()
        self.waiting = QLabel(
            _("Opening the local store…") if state.store is None else _("Loading…")
        )
        self.waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.waiting.setWordWrap(True)
        self.stack.addWidget(self.waiting)
        outer.addWidget(self.stack, 1)
        self._load_records: Callable[[Store], Any] | None = None
        self._show_records: Callable[[Any], bool] = lambda _records: False
        state.sig_store_ready.connect(self.reload)
        state.sig_changed.connect(self.reload)
        state.sig_store_failed.connect(self._store_failed)

    def install(
        self,
        *,
        empty: EmptyState | None,
        content: QWidget,
        load: Callable[[Store], Any],
        show: Callable[[Any], bool],
    ) -> None:
        """Give the page its empty state, its content, how to read (on a worker) and to show.

        `show` returns False when there are no records, and the empty state is shown instead;
        a page whose content has its own way of saying "nothing yet" passes no empty state.
        """
        self.empty, self.content = empty, content
        if empty is not None:
            self.stack.addWidget(empty)
        self.stack.addWidget(content)
        self._load_records, self._show_records = load, show
        if self.state.store is not None:
            self.reload()

    def reload(self) -> None:
        """Read the records again; a reload asked for while one runs happens after it."""
        store, load = self.state.store, self._load_records
        if store is None or load is None:
            return
        if self._loading:
            self._again = True
            return
        self._loading = True
        CoreOp(self, lambda _ctx: load(store), name=f"load {type(self).__name__}").success(
            self._loaded
        ).failure(self._failed).run_in_background()

    def _loaded(self, records: Any) -> None:
        self._loading = False
        has_records = self._show_records(records)
        self.stack.setCurrentWidget(
            self.empty if self.empty is not None and not has_records else self.content
        )
        if self._again:
            self._again = False
            self.reload()

    def _failed(self, error: BaseException) -> None:
        from ui.dialogs import show_error

        self._loading = False
        self._again = False
        show_error(self, error)

    def _store_failed(self, _error: object) -> None:
        self.waiting.setText(
            _("The local store could not be opened. See the message shown, then restart the app.")
        )
