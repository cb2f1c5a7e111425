"""Fixtures shared by every test: an isolated data dir, the source locale, no leaked workers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from portal import i18n
from portal.paths import DATA_DIR_ENV, DataDir
from tests.keyrings import MemoryKeyring

pytest_plugins = ["pytester", "tests.worker_leaks", "tests.sandbox_server"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Keep every test off the user's real data dir and keyring, and back in English after."""
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "share"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("LANGUAGE", "en")  # child processes speak English whatever the machine
    i18n.set_locale("en")
    yield
    i18n.set_locale("en")


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    """A fresh, empty data dir."""
    return DataDir(tmp_path / "data").ensure()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An in-process keyring, so sign-in works on machines without an OS keyring."""
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)
