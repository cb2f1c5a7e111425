"""The Settings page's connection parts: client certificate, pinned keys, proxy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from portal.auth.identity import ACCOUNT, client_identity
from portal.paths import DataDir
from portal.sandbox.tls import spki_pin
from portal.settings import Settings, load_settings
from portal.sync.connectivity import Problem
from portal.sync.refusals import Refusal
from tests.client_certs import PASSPHRASE, issue, write_p12
from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox
from ui.operations import running_operations
from ui.pages.settings import SettingsPage
from ui.state import AppState


@pytest.fixture
def page(qtbot: QtBot, data_dir: DataDir) -> Iterator[SettingsPage]:
    state = AppState(data_dir, Settings(), embedded=False)
    shown = SettingsPage(state, on_language=lambda _code: None)
    qtbot.addWidget(shown)
    qtbot.waitUntil(lambda: not running_operations())
    yield shown
    qtbot.waitUntil(lambda: not running_operations())
    state.close()


def _choose(monkeypatch: pytest.MonkeyPatch, path: Path, passphrase: str) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a: (str(path), ""))
    monkeypatch.setattr(QInputDialog, "getText", lambda *_a: (passphrase, True))


def test_importing_the_certificate_brings_an_mtls_marketplace_online(
    page: SettingsPage,
    qtbot: QtBot,
    mtls_sandbox: RunningSandbox,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    box, state = page.certificate, page.state
    assert box.summary.text().startswith("None.") and not box.remove_button.isEnabled()
    page.marketplace.setText(mtls_sandbox.url)
    page.ca_bundle.setText(str(mtls_sandbox.tls.ca_cert))
    page.save_marketplace()
    qtbot.waitUntil(lambda: state.reachability is not None, timeout=10_000)
    assert state.reachability is not None
    assert state.reachability.refusal == Refusal.CERTIFICATE_REQUIRED

    _choose(monkeypatch, write_p12(tmp_path, issue(mtls_sandbox)), "wrong")
    box.import_button.click()
    qtbot.waitUntil(lambda: not box.problem.isHidden())
    assert "The passphrase for" in box.problem.text()

    _choose(monkeypatch, tmp_path / "org.p12", PASSPHRASE)
    box.import_button.click()
    qtbot.waitUntil(lambda: "Lagos AI Integrators" in box.summary.text())
    assert box.problem.isHidden() and box.remove_button.isEnabled()
    assert "Valid until" in box.summary.text()
    assert memory_keyring.entries[(page.state.data_dir.keyring_service, ACCOUNT)] == PASSPHRASE
    qtbot.waitUntil(lambda: state.reachability is not None and state.reachability.online)

    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.No)
    box.remove_button.click()
    assert client_identity(state.data_dir).cert_file.exists()
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    box.remove_button.click()
    qtbot.waitUntil(lambda: box.summary.text().startswith("None."))
    assert not client_identity(state.data_dir).cert_file.exists()
    assert memory_keyring.entries == {}
    qtbot.waitUntil(
        lambda: state.reachability is not None and state.reachability.problem == Problem.REFUSED
    )


def test_pins_and_proxy_are_checked_then_saved(
    page: SettingsPage, qtbot: QtBot, sandbox: RunningSandbox
) -> None:
    page.pins.setText("not-a-pin")
    page.save_marketplace()
    qtbot.waitUntil(lambda: not page.marketplace_problem.isHidden())
    assert "“not-a-pin” is not a pin-sha256 value" in page.marketplace_problem.text()

    pin = spki_pin(sandbox.tls.server_cert)
    page.pins.setText(pin)
    page.proxy.setText("ftp://proxy.example")
    page.save_marketplace()
    problem = page.marketplace_problem
    qtbot.waitUntil(lambda: "must start with http:// or https://" in problem.text())

    other = spki_pin(sandbox.tls.ca_cert)  # a backup key
    page.pins.setText(f"{pin}, {other}")
    page.proxy.setText("http://proxy.example:3128")
    page.save_marketplace()
    qtbot.waitUntil(lambda: page.state.settings.proxy == "http://proxy.example:3128")
    assert page.marketplace_problem.isHidden()
    assert page.state.settings.pins == (pin, other)
    qtbot.waitUntil(lambda: not running_operations())
    saved, _problem = load_settings(page.state.data_dir.settings)
    assert (saved.pins, saved.proxy) == ((pin, other), "http://proxy.example:3128")
