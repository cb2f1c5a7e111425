"""What the open windows share: the data dir, the settings, the store once open, and its changes."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from portal.paths import DataDir
from portal.settings import Settings, save_settings
from portal.sync.connectivity import Reachability, probe_marketplace
from ui.operations import CoreOp, OpContext, OpHandle

if TYPE_CHECKING:
    from portal.auth.oauth import Marketplace
    from portal.db.store import Store
    from portal.sync.embedded import EmbeddedSandbox
    from portal.sync.engine import SyncReport

log = logging.getLogger(__name__)

PROBE_INTERVAL_MS = 60_000


class AppState(QObject):
    """One per process; pages listen to its signals instead of polling the store."""

    sig_store_ready = Signal()
    """The store is open at the current schema; pages may load their records."""
    sig_store_failed = Signal(object)
    """The store could not be opened or upgraded; carries the typed error."""
    sig_changed = Signal()
    """Records changed; pages reload what they show."""
    sig_waiting = Signal(int)
    """The number of outbox items waiting to be delivered."""
    sig_reachability = Signal(object)
    """A new answer about whether the configured marketplace can be reached."""
    sig_settings_changed = Signal()
    """The user saved new settings."""
    sig_sync_progress = Signal(object, object, str)
    """A sync run advanced: done, total and a message."""
    sig_sync_finished = Signal(object)
    """A sync run ended: its SyncReport, or the error that stopped it."""

    def __init__(self, data_dir: DataDir, settings: Settings, *, embedded: bool = True) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.settings = settings
        self.store: Store | None = None
        self.reachability: Reachability | None = None
        self._probes = 0
        self._counts = 0
        self.waiting = 0
        self.last_sync: datetime | None = None
        self.syncing: OpHandle | None = None
        self.embedded_allowed = embedded
        self.embedded: EmbeddedSandbox | None = None
        self.embedded_market: Marketplace | None = None
        self._probe_timer = QTimer(self)
        self._probe_timer.setInterval(PROBE_INTERVAL_MS)
        self._probe_timer.timeout.connect(self.check_reachability)
        self.sig_changed.connect(self.count_waiting)

    def open_store(self) -> None:
        """Open (creating or upgrading) the database on a worker, then tell every page."""
        data_dir = self.data_dir

        def open_it(_ctx: OpContext) -> Store:
            from portal.db.store import Store

            return Store.open(data_dir)

        CoreOp(None, open_it, writes=True, name="open store").success(self._store_opened).failure(
            self._store_failed
        ).run_in_background()

    def _store_failed(self, error: BaseException) -> None:
        log.error("the local store could not be opened: %s", error)
        self.sig_store_failed.emit(error)

    def _store_opened(self, store: Store) -> None:
        self.store = store
        self.sig_store_ready.emit()
        self.count_waiting()
        self._start_embedded_if_needed()
        self.check_reachability()
        self._probe_timer.start()

    def marketplace(self) -> Marketplace | None:
        """The configured marketplace, else the embedded sandbox once it runs."""
        from portal.auth.oauth import configured_marketplace

        return configured_marketplace(self.data_dir, self.settings) or self.embedded_market

    def _start_embedded_if_needed(self) -> None:
        """With no marketplace configured, start the sandbox on loopback (once)."""
        if self.settings.marketplace_url or not self.embedded_allowed or self.embedded:
            return
        from portal.sync.embedded import EmbeddedSandbox

        self.embedded = sandbox = EmbeddedSandbox(self.data_dir)

        def started(market: Marketplace) -> None:
            self.embedded_market = market
            self.sig_settings_changed.emit()  # pages that show the marketplace look again
            self.check_reachability()

        def failed(error: BaseException) -> None:
            log.warning("embedded sandbox: %s", error)
            self.embedded = None

        CoreOp(None, lambda ctx: sandbox.start(cancel=ctx.cancel), name="embedded sandbox").success(
            started
        ).failure(failed).run_in_background()

    def count_waiting(self) -> None:
        """Recount the outbox items waiting to sync, for the status bar."""
        store = self.store
        if store is None:
            return
        from portal.overview import waiting_to_sync

        self._counts += 1
        asked = self._counts

        def counted(count: int) -> None:
            if asked == self._counts:  # an older count that finished late is stale
                self.waiting = count
                self.sig_waiting.emit(count)

        CoreOp(None, lambda _ctx: waiting_to_sync(store), name="count waiting").success(
            counted
        ).failure(
            lambda exc: log.warning("could not count the outbox: %s", exc)
        ).run_in_background()

    def check_reachability(self) -> None:
        """Probe the configured marketplace on a worker and publish the answer."""
        market = self.marketplace()
        self._probes += 1
        asked = self._probes

        def answered(answer: Reachability) -> None:
            if asked == self._probes:  # a slow probe of an older address must not win
                came_back = answer.online and not (self.reachability and self.reachability.online)
                self.reachability = answer
                self.sig_reachability.emit(answer)
                if came_back and self.waiting:
                    self.sync_now(quiet=True)  # the network returned with work waiting

        CoreOp(None, lambda _ctx: probe_marketplace(market), name="probe marketplace").success(
            answered
        ).run_in_background()

    def update_settings(self, **changes: object) -> None:
        """Apply changed settings now, tell whoever shows them, and save a copy on the worker."""
        old, new = self.settings, replace(self.settings, **changes)  # type: ignore[arg-type]
        self.settings = new
        self.sig_settings_changed.emit()
        if _connection(new) != _connection(old):
            self.reachability = None
            self.sig_reachability.emit(None)
            self.check_reachability()
            if self.store is not None:
                self._start_embedded_if_needed()
        path = self.data_dir.settings

        def write(_ctx: OpContext) -> None:
            save_settings(path, new)

        CoreOp(None, write, writes=True, name="save settings").run_in_background()

    def sync_now(self, *, quiet: bool = False) -> None:
        """Deliver the outbox on a worker; `quiet` (automatic runs) shows no error dialog."""
        store, market = self.store, self.marketplace()
        if store is None or market is None or self.syncing is not None:
            return
        from portal.auth.tokens import TokenStore

        tokens = TokenStore(self.data_dir.keyring_service, market.account)

        def work(ctx: OpContext) -> SyncReport:
            from portal.sync.engine import sync

            return sync(store, market, tokens, progress=ctx.progress, cancel=ctx.cancel)

        def ended(outcome: object) -> None:
            self.syncing = None
            if outcome is not None and not isinstance(outcome, BaseException):
                self.last_sync = datetime.now(UTC)
            self.sig_sync_finished.emit(outcome)
            self.sig_changed.emit()

        def failed(error: BaseException) -> None:
            ended(error)
            if not quiet:
                from ui.dialogs import show_error

                show_error(None, error)

        self.syncing = (
            CoreOp(None, work, name="sync")
            .progress(self.sig_sync_progress.emit)
            .success(ended)
            .failure(failed)
            .cancelled(lambda: ended(None))
            .run_in_background()
        )

    def close(self) -> None:
        """Stop probing and the embedded sandbox, and release the database."""
        self._probe_timer.stop()
        if self.embedded is not None:
            self.embedded.stop()
        if self.store is not None:
            self.store.close()


def _connection(settings: Settings) -> tuple[object, ...]:
    """The settings that change how the marketplace is reached: a change probes it again."""
    return (settings.marketplace_url, settings.ca_bundle, settings.pins, settings.proxy)
