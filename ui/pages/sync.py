"""The marketplace connection and the outbox of actions waiting to reach it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from portal.db.enums import OutboxState
from portal.i18n import _, format_datetime, format_number
from portal.sync.connectivity import Reachability
from portal.sync.outbox import DISCARDABLE
from ui.account import AccountPanel
from ui.labels import outbox_state
from ui.operations import CoreOp
from ui.pages.base import Page
from ui.state import AppState
from ui.widgets import EmptyState, RecordTable

if TYPE_CHECKING:
    from portal.db.store import Store
    from portal.sync.outbox import OutboxEntry


class SyncPage(Page):
    """Shows whether the marketplace answers and what the outbox holds."""

    def __init__(self, state: AppState) -> None:
        super().__init__(state, _("Sync"))
        self.connection = QLabel()
        self.connection.setObjectName("connection")
        self.connection.setWordWrap(True)
        check = QPushButton(_("Check now"))
        check.clicked.connect(state.check_reachability)
        self.actions_bar.addWidget(check)
        self.sync_button = QPushButton(_("Sync now"))
        self.sync_button.setObjectName("syncNow")
        self.sync_button.clicked.connect(lambda: state.sync_now())
        self.actions_bar.addWidget(self.sync_button)
        self.layout().insertWidget(1, self.connection)
        self.account = AccountPanel(state)
        self.layout().insertWidget(2, self.account)
        self.progress = QProgressBar()
        self.progress.setObjectName("syncProgress")
        self.cancel_button = QPushButton(_("Cancel"))
        self.cancel_button.clicked.connect(self._cancel)
        self.last_sync = QLabel()
        self.last_sync.setObjectName("lastSync")
        running = QHBoxLayout()
        running.addWidget(self.last_sync, 1)
        running.addWidget(self.progress, 1)
        running.addWidget(self.cancel_button)
        self.layout().insertLayout(3, running)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = RecordTable(
            [_("Resource"), _("Action"), _("State"), _("Attempts"), _("Queued"), _("Last error")]
        )
        layout.addWidget(self.table)
        self.retry_button = QPushButton(_("Send again"))
        self.retry_button.setObjectName("sendAgain")
        self.retry_button.clicked.connect(lambda: self._act_on_selected(retry=True))
        self.discard_button = QPushButton(_("Discard…"))
        self.discard_button.setObjectName("discard")
        self.discard_button.clicked.connect(lambda: self._act_on_selected(retry=False))
        item_actions = QHBoxLayout()
        item_actions.addStretch(1)
        item_actions.addWidget(self.retry_button)
        item_actions.addWidget(self.discard_button)
        layout.addLayout(item_actions)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self._items: dict[int, OutboxEntry] = {}
        self.install(
            empty=EmptyState(
                _("Nothing waiting to sync"),
                _(
                    "What you do offline (publishing a plugin, submitting a conformance report or "
                    "an exam) is saved here first and delivered exactly once when the marketplace "
                    "can be reached."
                ),
            ),
            content=content,
            load=_load,
            show=self._show,
        )
        state.sig_reachability.connect(self._reachability)
        state.sig_sync_progress.connect(self._sync_progress)
        state.sig_sync_finished.connect(self._sync_finished)
        state.sig_settings_changed.connect(self._show_sync_state)
        self._reachability(state.reachability)
        self._show_sync_state()

    def _cancel(self) -> None:
        if self.state.syncing is not None:
            self.state.syncing.cancel()

    def _sync_progress(self, done: int, total: int | None, message: str) -> None:
        self._show_sync_state()
        self.progress.setRange(0, total or 0)
        self.progress.setValue(done)
        self.progress.setFormat(message)

    def _sync_finished(self, outcome: object) -> None:
        self._show_sync_state()
        from portal.sync.engine import SyncReport

        if isinstance(outcome, SyncReport):
            status = getattr(self.window(), "statusBar", None)
            if status is not None:
                status().showMessage(outcome.summary(), 8000)

    def _show_sync_state(self) -> None:
        running = self.state.syncing is not None
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.sync_button.setEnabled(not running and self.state.marketplace() is not None)
        last = self.state.last_sync
        self.last_sync.setText(
            _("Last successful sync: {when}").format(when=format_datetime(last))
            if last
            else _("No sync yet in this session.")
        )

    def _reachability(self, answer: Reachability | None) -> None:
        if answer is None:
            self.connection.setText(_("Checking the marketplace…"))
        elif answer.online and not self.state.settings.marketplace_url:
            self.connection.setText(
                _("Online: {url} (the embedded sandbox marketplace)").format(url=answer.url)
            )
        elif answer.online:
            self.connection.setText(_("Online: {url}").format(url=answer.url))
        elif answer.url:
            self.connection.setText(
                _("Offline: {reason} ({url})").format(reason=answer.reason(), url=answer.url)
            )
        else:
            self.connection.setText(
                _("Offline: {reason} Set the marketplace address in Settings (Ctrl+6).").format(
                    reason=answer.reason()
                )
            )

    def _selection_changed(self) -> None:
        key = self.table.selected_key()
        entry = self._items.get(key) if isinstance(key, int) else None
        conflict = entry is not None and entry.state == OutboxState.CONFLICT
        self.retry_button.setText(_("Keep my change…") if conflict else _("Send again"))
        self.discard_button.setText(_("Keep the marketplace's…") if conflict else _("Discard…"))
        stuck = entry is not None and entry.state in (OutboxState.FAILED, OutboxState.CONFLICT)
        self.retry_button.setEnabled(stuck)
        self.discard_button.setEnabled(entry is not None and entry.state in DISCARDABLE)

    def _act_on_selected(self, *, retry: bool) -> None:
        """Send a stuck item again, or discard it, asking first when something would be lost."""
        key, store = self.table.selected_key(), self.state.store
        if not isinstance(key, int) or store is None or key not in self._items:
            return
        entry = self._items[key]
        conflict = entry.state == OutboxState.CONFLICT
        question = _question(entry, retry=retry, conflict=conflict)
        if question is not None:
            title, text = question
            if QMessageBox.question(self, title, text) != QMessageBox.StandardButton.Yes:
                return
        from portal.sync.outbox import discard_item, keep_mine, retry_item

        act = (keep_mine if conflict else retry_item) if retry else discard_item
        CoreOp(self, lambda _ctx: act(store, key), writes=True, name="outbox action").success(
            lambda _done: self.state.sig_changed.emit()
        ).run_in_background()

    def _show(self, items: list[OutboxEntry]) -> bool:
        self._items = {i.id: i for i in items}
        self.table.set_rows(
            [
                [
                    i.resource,
                    i.description,
                    outbox_state(i.state),
                    (format_number(i.attempts), i.attempts),
                    (format_datetime(i.created_at), i.created_at),
                    i.last_error or "",
                ]
                for i in items
            ],
            keys=[i.id for i in items],
        )
        self._selection_changed()
        return bool(items)


def _question(entry: OutboxEntry, *, retry: bool, conflict: bool) -> tuple[str, str] | None:
    """The confirmation an outbox decision needs (title, text), or None when nothing is lost."""
    if conflict and retry:
        return _("Keep your change"), _(
            "{resource} was changed on the marketplace after you edited it. Write your change "
            "(“{action}”) over the marketplace's version?"
        ).format(resource=entry.resource, action=entry.description)
    if conflict:
        return _("Keep the marketplace's version"), _(
            "{resource} was changed on the marketplace after you edited it. Drop your change "
            "(“{action}”) and keep the marketplace's version?"
        ).format(resource=entry.resource, action=entry.description)
    if retry:
        return None
    return _("Discard this action"), _(
        "Discard “{action}” for {resource}? It will not reach the marketplace."
    ).format(action=entry.description, resource=entry.resource)


def _load(store: Store) -> list[OutboxEntry]:
    from portal.sync.outbox import list_outbox

    return list_outbox(store)
