"""Facts about this installation, for `aic-portal info`, the About dialog and bug reports."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from importlib import metadata

from portal import __version__
from portal.i18n import _

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
    import keyring
    from keyring.backends import fail, null

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    usable = not isinstance(backend, fail.Keyring | null.Keyring) and backend.priority > 0
    return KeyringStatus(backend=name, usable=usable)
