"""Facts about this installation, for `aic-portal info`, the About dialog and bug reports."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING

from portal import __version__
from portal.i18n import _

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

COMPONENTS = ("PySide6-Essentials", "SQLAlchemy", "alembic", "httpx", "keyring", "Babel")


def versions() -> dict[str, str]:
    """The app's version and those of the components a bug report needs."""
    found = {"AIC Partner Portal": __version__, "Python": platform.python_version()}
    for name in COMPONENTS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    found[_("Platform")] = f"{platform.system()} {platform.release()} ({platform.machine()})"
    return found


@dataclass(frozen=True)
class KeyringStatus:
    """Which keyring backend secrets would go to, and whether it can hold them."""

    backend: str
    usable: bool


def keyring_status() -> KeyringStatus:
    """The OS keyring backend in use; `fail` and `null` backends cannot hold secrets."""
    backend = keyring_backend()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    return KeyringStatus(backend=name, usable=keyring_usable(backend))


def keyring_backend() -> KeyringBackend:
    """The keyring backend the `keyring` library chose for this machine."""
    import keyring

    return keyring.get_keyring()


def keyring_usable(backend: KeyringBackend) -> bool:
    """Whether `backend` really stores secrets (the fail and null backends do not)."""
    from keyring.backends import fail, null

    return not isinstance(backend, fail.Keyring | null.Keyring) and backend.priority > 0
