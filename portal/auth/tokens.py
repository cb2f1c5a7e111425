"""OAuth tokens in the OS keyring, one entry per data dir and marketplace; never anywhere else."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from portal.errors import ErrorKind, PortalError
from portal.i18n import _

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

EXPIRY_MARGIN = timedelta(seconds=30)


class NoKeyringError(PortalError):
    """No OS keyring can hold secrets here; the app refuses to fall back to plain text."""

    kind = ErrorKind.AUTH


@dataclass(frozen=True)
class Tokens:
    """What a sign-in gives: a short-lived access token and the refresh token that renews it."""

    access_token: str
    refresh_token: str
    expires_at: datetime

    def expired(self, *, now: datetime | None = None) -> bool:
        """Whether the access token is, or is about to be, too old to use."""
        return (now or datetime.now(UTC)) + EXPIRY_MARGIN >= self.expires_at

    def __repr__(self) -> str:  # never let a token reach a log line or a traceback
        return f"Tokens(expires_at={self.expires_at.isoformat()})"


class TokenStore:
    """Reads and writes one marketplace's tokens under the data dir's keyring service."""

    def __init__(self, service: str, marketplace_url: str) -> None:
        self.service = service
        self.account = f"oauth:{marketplace_url}"

    def load(self) -> Tokens | None:
        """The stored tokens, or None when signed out (or the entry is unreadable)."""
        raw = self._keyring().get_password(self.service, self.account)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return Tokens(
                data["access_token"],
                data["refresh_token"],
                datetime.fromisoformat(data["expires_at"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def save(self, tokens: Tokens) -> None:
        """Replace the stored tokens."""
        data = {**asdict(tokens), "expires_at": tokens.expires_at.isoformat()}
        self._keyring().set_password(self.service, self.account, json.dumps(data))

    def clear(self) -> None:
        """Forget the tokens (sign-out, or a rejected refresh)."""
        keyring = self._keyring()
        if keyring.get_password(self.service, self.account) is not None:
            keyring.delete_password(self.service, self.account)

    @staticmethod
    def _keyring() -> KeyringBackend:
        return os_keyring(
            _(
                "No OS keyring is available to keep your sign-in safe ({backend}). Install "
                "and unlock one (GNOME Keyring or KWallet on Linux; macOS and Windows have "
                "one built in), then sign in again. Tokens are never stored in plain text."
            )
        )


def os_keyring(refusal: str) -> KeyringBackend:
    """The OS keyring, or NoKeyringError with `refusal` (which may name the {backend})."""
    from portal.about import keyring_backend, keyring_usable

    backend = keyring_backend()
    if not keyring_usable(backend):
        raise NoKeyringError(refusal.format(backend=type(backend).__name__))
    return backend
