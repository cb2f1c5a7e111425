"""Who is signed in to the marketplace, with sign-in through the browser and sign-out."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from portal.i18n import _
from ui.operations import CoreOp, OpContext, OpHandle
from ui.state import AppState

if TYPE_CHECKING:
    from portal.auth.oauth import Marketplace
    from portal.auth.tokens import TokenStore
    from portal.sync.profile import Whoami


class AccountPanel(QFrame):
    """Sign-in state for the configured marketplace; every keyring and network call on workers."""

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.setObjectName("account")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.state = state
        self._signing_in: OpHandle | None = None
        self.status = QLabel()
        self.status.setObjectName("accountStatus")
        self.status.setWordWrap(True)
        self.link = QLabel()
        self.link.setObjectName("signInLink")
        self.link.setWordWrap(True)
        self.link.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.link.setOpenExternalLinks(True)
        self.link.hide()
        self.sign_in_button = QPushButton(_("Sign in…"))
        self.sign_in_button.clicked.connect(self.sign_in)
        self.cancel_button = QPushButton(_("Cancel sign-in"))
        self.cancel_button.clicked.connect(self.cancel_sign_in)
        self.sign_out_button = QPushButton(_("Sign out"))
        self.sign_out_button.clicked.connect(self.sign_out)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.sign_in_button, self.cancel_button, self.sign_out_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.link)
        layout.addLayout(buttons)
        state.sig_settings_changed.connect(self.refresh)
        self.refresh()

    def market(self) -> Marketplace | None:
        """The marketplace in use (configured, or the embedded sandbox), or None."""
        return self.state.marketplace()

    def refresh(self) -> None:
        """Ask the marketplace who the stored sign-in belongs to."""
        market = self.market()
        if market is None:
            self._show(None, _("Set the marketplace address in Settings (Ctrl+6) to sign in."))
            self.sign_in_button.setEnabled(False)
            return
        self._show(None, _("Checking your sign-in…"))
        tokens = self._tokens(market)

        def ask(_ctx: OpContext) -> Whoami:
            from portal.sync.profile import fetch_profile

            return fetch_profile(market, tokens)

        CoreOp(self, ask, name="who am I").success(self._signed_in).failure(
            self._not_signed_in
        ).run_in_background()

    def sign_in(self) -> None:
        """Open the marketplace's sign-in page in the browser and wait for it on a worker."""
        market = self.market()
        if market is None:
            return
        tokens = self._tokens(market)

        def work(ctx: OpContext) -> Whoami:
            from portal.auth.oauth import sign_in
            from portal.sync.profile import fetch_profile

            sign_in(
                market, tokens, open_url=lambda url: ctx.progress(0, None, url), cancel=ctx.cancel
            )
            return fetch_profile(market, tokens)

        self._signing_in = (
            CoreOp(self, work, name="sign in")
            .progress(self._open_browser)
            .success(self._signed_in)
            .cancelled(self._sign_in_cancelled)
            .failure(self._sign_in_failed)
            .run_in_background()
        )
        self._show(None, _("Opening the sign-in page in your browser…"))

    def cancel_sign_in(self) -> None:
        """Stop waiting for the browser."""
        if self._signing_in is not None:
            self._signing_in.cancel()

    def sign_out(self) -> None:
        """Revoke the sign-in, forget the tokens and the cached organisation."""
        market, store = self.market(), self.state.store
        if market is None:
            return
        tokens = self._tokens(market)

        def work(_ctx: OpContext) -> bool:
            from portal.auth.oauth import sign_out
            from portal.sync.profile import forget_profile

            told = sign_out(market, tokens)
            if store is not None:
                forget_profile(store)
            return told

        CoreOp(self, work, writes=True, name="sign out").success(
            self._signed_out
        ).run_in_background()

    def _tokens(self, market: Marketplace) -> TokenStore:
        from portal.auth.tokens import TokenStore

        return TokenStore(self.state.data_dir.keyring_service, market.account)

    def _open_browser(self, _done: int, _total: int | None, url: str) -> None:
        QDesktopServices.openUrl(QUrl(url))
        self._show(None, _("Waiting for you to sign in in your browser…"))
        self.link.setText(
            _('If no browser opened, <a href="{url}">open the sign-in page</a>.').format(
                url=html.escape(url, quote=True)
            )
        )
        self.link.show()
        self.sign_in_button.hide()
        self.cancel_button.show()

    def _signed_in(self, who: Whoami) -> None:
        self._signing_in = None  # also ends a sign-in that a concurrent check overtook
        self._show(
            who,
            _("Signed in as {name} <{email}> for {organisation}.").format(
                name=who.user_name, email=who.email, organisation=who.organisation
            ),
        )
        store = self.state.store
        if store is None:
            return
        from portal.sync.profile import save_profile

        CoreOp(
            self, lambda _ctx: save_profile(store, who), writes=True, name="save profile"
        ).success(lambda _none: self.state.sig_changed.emit()).run_in_background()

    def _not_signed_in(self, error: BaseException) -> None:
        if self._signing_in is not None:  # a check that ended during a sign-in says nothing new
            return
        from portal.auth.oauth import AuthError, NetworkError
        from portal.errors import PortalError

        if isinstance(error, AuthError):
            self._show(None, _("Not signed in."))
        elif isinstance(error, NetworkError):
            self._show(None, _("The marketplace cannot be reached; sign-in state unknown."))
        elif isinstance(error, PortalError):
            self._show(None, error.message)
        else:
            from ui.dialogs import show_error

            show_error(self, error)

    def _sign_in_cancelled(self) -> None:
        self._signing_in = None
        self.refresh()

    def _sign_in_failed(self, error: BaseException) -> None:
        from ui.dialogs import show_error

        self._signing_in = None
        self.refresh()
        show_error(self, error)

    def _signed_out(self, told: bool) -> None:
        self._show(
            None,
            _("Signed out.")
            if told
            else _("Signed out here. The marketplace could not be reached to revoke the sign-in."),
        )
        self.state.sig_changed.emit()

    def _show(self, who: Whoami | None, text: str) -> None:
        self.status.setText(text)
        self.link.hide()
        waiting = self._signing_in is not None
        self.cancel_button.setVisible(waiting)
        self.sign_in_button.setVisible(who is None and not waiting)
        self.sign_in_button.setEnabled(True)
        self.sign_out_button.setVisible(who is not None)
