"""Keyring backends for tests only: the real app never stores a secret outside the OS keyring."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Secrets in a dict, for one test process."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class FileKeyring(MemoryKeyring):
    """Secrets in the JSON file named by AIC_TEST_KEYRING, shared by the processes of one test."""

    def __init__(self) -> None:
        super().__init__()
        self.path = Path(os.environ["AIC_TEST_KEYRING"])
        if self.path.exists():
            self.entries = {
                tuple(k.split("\n", 1)): v for k, v in json.loads(self.path.read_text()).items()
            }  # type: ignore[misc]

    def _flush(self) -> None:
        self.path.write_text(json.dumps({"\n".join(k): v for k, v in self.entries.items()}))

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password)
        self._flush()

    def delete_password(self, service: str, username: str) -> None:
        super().delete_password(service, username)
        self._flush()
