"""Where each data dir keeps its files, so two data dirs never share state."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from portal.errors import StorageError
from portal.i18n import _

APP_NAME = "AIC Partner Portal"
APP_AUTHOR = "AIC-Platform"
DATA_DIR_ENV = "AIC_PORTAL_DATA_DIR"


@dataclass(frozen=True)
class DataDir:
    """One data dir: database, settings, logs, keys and backups all live under `root`."""

    root: Path

    @property
    def database(self) -> Path:
        """The SQLite store."""
        return self.root / "portal.sqlite3"

    @property
    def settings(self) -> Path:
        """User settings as JSON."""
        return self.root / "settings.json"

    @property
    def logs(self) -> Path:
        """The folder of rotating log files."""
        return self.root / "logs"

    @property
    def log_file(self) -> Path:
        """The current log file."""
        return self.logs / "portal.log"

    @property
    def keys(self) -> Path:
        """Encrypted private keys (their passphrases live in the keyring)."""
        return self.root / "keys"

    @property
    def backups(self) -> Path:
        """Database copies taken before each schema upgrade."""
        return self.root / "backups"

    @property
    def keyring_service(self) -> str:
        """The keyring service name for this data dir's secrets, distinct per data dir."""
        import hashlib

        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        return f"{APP_NAME} ({digest})"

    def ensure(self) -> DataDir:
        """Create the folders (keys readable by the owner only) and return self."""
        try:
            for folder in (self.root, self.logs, self.backups):
                folder.mkdir(parents=True, exist_ok=True)
            self.keys.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                _("The data dir {path} cannot be used: {problem}").format(
                    path=self.root, problem=exc.strerror or exc
                )
            ) from exc
        return self


def default_data_root() -> Path:
    """The per-user data folder that the operating system expects for this app."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, APP_AUTHOR, roaming=False)


def resolve_data_dir(given: str | os.PathLike[str] | None) -> DataDir:
    """The data dir from `--data-dir`, else the environment, else the per-user default."""
    raw = given or os.environ.get(DATA_DIR_ENV) or default_data_root()
    return DataDir(Path(raw).expanduser().resolve())
