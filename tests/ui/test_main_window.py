"""The shell as a user meets it: pages from the store, navigation, status bar, language, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox, fake_browser
from ui.app import Shell, _arguments
from ui.dialogs import AboutDialog, show_error
from ui.operations import running_operations
from ui.pages.dashboard import DashboardPage
from ui.pages.plugins import PluginsPage
from ui.pages.settings import SettingsPage
from ui.widgets import Card


def _settle(qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: not running_operations())


def test_dashboard_shows_the_empty_store(shell: Shell) -> None:
    page = shell.window.page("dashboard")
    assert isinstance(page, DashboardPage)
    assert page.stack.currentWidget() is page.content
    assert page.organisation_title.text() == "No partner organisation yet"
    plugins: Card = page.cards["plugins"]
    assert plugins.value.text() == "0"
    assert "Add a plugin folder" in plugins.hint.text()
    status = shell.window.findChild(QLabel, "waitingStatus")
    assert status.text() == "0 items waiting to sync"
    assert shell.window.findChild(QLabel, "connectionStatus").text() == "○ Offline"


def test_adding_a_plugin_folder_updates_every_page(
    shell: Shell, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "ocr-connector"
    folder.mkdir()
    plugins = shell.window.page("plugins")
    assert isinstance(plugins, PluginsPage)
    shell.window.show_page("plugins")
    qtbot.waitUntil(lambda: plugins.stack.currentWidget() is plugins.empty)

    plugins.add_folder(folder)
    qtbot.waitUntil(lambda: plugins.table.rowCount() == 1)
    _settle(qtbot)
    assert plugins.stack.currentWidget() is plugins.views
    assert plugins.views.currentWidget() is plugins.list
    assert plugins.table.item(0, 0).text() == "ocr-connector"
    assert plugins.table.item(0, 1).text() == str(folder)
    assert shell.window.statusBar().currentMessage() == "Added ocr-connector."
    dashboard = shell.window.page("dashboard")
    assert isinstance(dashboard, DashboardPage)
    assert dashboard.cards["plugins"].value.text() == "1"


def test_adding_the_same_folder_twice_says_why(shell: Shell, qtbot: QtBot, tmp_path: Path) -> None:
    plugins = shell.window.page("plugins")
    assert isinstance(plugins, PluginsPage)
    plugins.add_folder(tmp_path)
    _settle(qtbot)
    plugins.add_folder(tmp_path)
    qtbot.waitUntil(lambda: plugins.findChild(QMessageBox, "errorDialog") is not None)
    box = plugins.findChild(QMessageBox, "errorDialog")
    assert box.windowTitle() == "Please check the input"
    assert box.text() == f"The folder {tmp_path} is already a plugin project."
    box.close()


def test_keyboard_navigation(shell: Shell, qtbot: QtBot) -> None:
    shell.window.activateWindow()
    for number, key in enumerate(("dashboard", "plugins", "conformance", "exams", "sync"), 1):
        qtbot.keyClick(
            shell.window, getattr(Qt.Key, f"Key_{number}"), Qt.KeyboardModifier.ControlModifier
        )
        assert shell.window.current_page() == key


def test_switching_language_rebuilds_the_window_in_french(shell: Shell, qtbot: QtBot) -> None:
    old = shell.window
    shell.window.show_page("settings")
    settings = shell.window.page("settings")
    assert isinstance(settings, SettingsPage)
    settings.language.setCurrentIndex(settings.language.findData("fr"))
    _settle(qtbot)
    assert shell.window is not old
    assert shell.window.windowTitle() == "Portail partenaires AIC"
    assert shell.window.current_page() == "settings"
    assert shell.state.settings.language == "fr"
    qtbot.waitUntil(lambda: '"language": "fr"' in shell.state.data_dir.settings.read_text())
    assert QApplication.layoutDirection() == Qt.LayoutDirection.LeftToRight
    rebuilt = shell.window.page("settings")
    assert isinstance(rebuilt, SettingsPage)
    assert rebuilt.language.currentData() == "fr"
    qtbot.waitUntil(lambda: not shiboken6.isValid(old))
    rebuilt.marketplace.setText("https://market.example.com")
    rebuilt.save_marketplace()  # the old window's pages are gone and must not be called
    qtbot.waitUntil(lambda: shell.state.settings.marketplace_url == "https://market.example.com")
    _settle(qtbot)
    assert '"marketplace_url": "https://market.example.com"' in (
        shell.state.data_dir.settings.read_text()
    )
    assert '"language": "fr"' in shell.state.data_dir.settings.read_text()


def test_arabic_lays_out_right_to_left(shell: Shell, qtbot: QtBot) -> None:
    shell.switch_language("ar")
    _settle(qtbot)
    assert QApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert shell.window.isRightToLeft()
    waiting = shell.window.findChild(QLabel, "waitingStatus")
    qtbot.waitUntil(lambda: waiting.text() != "")
    assert waiting.text() == "لا عناصر بانتظار المزامنة"
    assert shell.window.windowTitle() == "بوابة شركاء AIC"


def test_bad_marketplace_address_is_explained_next_to_the_field(shell: Shell, qtbot: QtBot) -> None:
    settings = shell.window.page("settings")
    assert isinstance(settings, SettingsPage)
    settings.marketplace.setText("http://insecure.example")
    settings.save_marketplace()
    qtbot.waitUntil(lambda: not settings.marketplace_problem.isHidden())
    assert "must start with https://" in settings.marketplace_problem.text()
    assert shell.state.settings.marketplace_url is None


def test_pointing_settings_at_the_sandbox_goes_online(
    shell: Shell, qtbot: QtBot, sandbox: RunningSandbox
) -> None:
    shell.window.show_page("settings")
    settings = shell.window.page("settings")
    assert isinstance(settings, SettingsPage)
    status = shell.window.findChild(QLabel, "connectionStatus")

    settings.marketplace.setText(sandbox.url)
    settings.save_marketplace()
    qtbot.waitUntil(
        lambda: (
            status.text() == "○ Offline"
            and shell.state.reachability is not None
            and shell.state.reachability.url == sandbox.url
        ),
        timeout=10_000,
    )
    assert status.toolTip() == "The marketplace's certificate is not trusted."

    settings.ca_bundle.setText(str(sandbox.tls.ca_cert))
    settings.save_marketplace()
    qtbot.waitUntil(lambda: status.text() == "● Online", timeout=10_000)
    _settle(qtbot)
    saved = shell.state.data_dir.settings.read_text()
    assert sandbox.url in saved and str(sandbox.tls.ca_cert) in saved


def test_a_file_that_is_no_certificate_is_refused(
    shell: Shell, qtbot: QtBot, tmp_path: Path
) -> None:
    settings = shell.window.page("settings")
    assert isinstance(settings, SettingsPage)
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    settings.ca_bundle.setText(str(bogus))
    settings.save_marketplace()
    qtbot.waitUntil(lambda: not settings.marketplace_problem.isHidden())
    assert "holds no PEM certificate" in settings.marketplace_problem.text()
    assert shell.state.settings.ca_bundle is None


def test_signing_in_and_out_from_the_sync_page(
    shell: Shell,
    qtbot: QtBot,
    sandbox: RunningSandbox,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ui.pages.sync import SyncPage

    shell.state.update_settings(marketplace_url=sandbox.url, ca_bundle=str(sandbox.tls.ca_cert))
    shell.window.show_page("sync")
    page = shell.window.page("sync")
    assert isinstance(page, SyncPage)
    panel = page.account
    qtbot.waitUntil(lambda: panel.status.text() == "Not signed in.", timeout=10_000)

    browser = fake_browser(sandbox, email="lena@qubitforge.example")
    monkeypatch.setattr("ui.account.QDesktopServices.openUrl", lambda url: browser(url.toString()))
    panel.sign_in_button.click()
    qtbot.waitUntil(lambda: panel.status.text().startswith("Signed in as"), timeout=20_000)
    assert panel.status.text() == (
        "Signed in as Lena Vogel <lena@qubitforge.example> for Qubit Forge."
    )
    assert panel.sign_out_button.isVisibleTo(panel) and not panel.sign_in_button.isVisibleTo(panel)
    dashboard = shell.window.page("dashboard")
    assert isinstance(dashboard, DashboardPage)
    qtbot.waitUntil(lambda: dashboard.organisation_title.text() == "Qubit Forge")
    assert "Hardware vendor" in dashboard.organisation_details.text()

    panel.sign_out_button.click()
    qtbot.waitUntil(lambda: panel.status.text() == "Signed out.", timeout=10_000)
    qtbot.waitUntil(lambda: dashboard.organisation_title.text() == "No partner organisation yet")
    assert memory_keyring.entries == {}
    _settle(qtbot)


def _queue(shell: Shell, names: list[str]) -> None:
    from portal.sync.outbox import enqueue

    store = shell.state.store
    assert store is not None
    with store.session() as session, session.begin():
        for name in names:
            enqueue(
                session,
                resource=f"plugin/{name}",
                method="POST",
                path="/v1/marketplace/plugins",
                body={"name": name, "display_name": name},
            )
    shell.state.sig_changed.emit()


def test_sync_now_delivers_the_outbox(
    shell: Shell, qtbot: QtBot, sandbox: RunningSandbox, memory_keyring: MemoryKeyring
) -> None:
    from portal.auth.oauth import Marketplace, sign_in
    from portal.auth.tokens import TokenStore
    from portal.cancel import CancelToken
    from ui.pages.sync import SyncPage

    market = Marketplace(sandbox.url, sandbox.tls.ca_cert)
    tokens = TokenStore(shell.state.data_dir.keyring_service, sandbox.url)
    sign_in(
        market,
        tokens,
        open_url=fake_browser(sandbox, email="tunde@lagos-ai.example"),
        cancel=CancelToken(),
        timeout=20,
    )
    _queue(shell, ["gui-one", "gui-two", "gui-three"])
    waiting = shell.window.findChild(QLabel, "waitingStatus")
    qtbot.waitUntil(lambda: waiting.text() == "3 items waiting to sync")

    shell.state.update_settings(marketplace_url=sandbox.url, ca_bundle=str(sandbox.tls.ca_cert))
    page = shell.window.page("sync")
    assert isinstance(page, SyncPage)
    qtbot.waitUntil(lambda: waiting.text() == "0 items waiting to sync", timeout=20_000)
    _settle(qtbot)  # the marketplace came online with work waiting: it synced by itself
    assert page.last_sync.text().startswith("Last successful sync:")
    qtbot.waitUntil(lambda: page.table.rowCount() == 3)
    assert {page.table.item(r, 2).text() for r in range(3)} == {"Delivered"}

    _queue(shell, ["gui-four"])
    qtbot.waitUntil(lambda: waiting.text() == "1 item waiting to sync")
    page.sync_button.click()
    qtbot.waitUntil(lambda: waiting.text() == "0 items waiting to sync", timeout=20_000)
    _settle(qtbot)
    assert "Delivered 1;" in shell.window.statusBar().currentMessage()


def test_a_refused_action_can_be_discarded_from_the_sync_page(
    shell: Shell,
    qtbot: QtBot,
    sandbox: RunningSandbox,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from portal.auth.oauth import Marketplace, sign_in
    from portal.auth.tokens import TokenStore
    from portal.cancel import CancelToken
    from portal.sync.outbox import enqueue
    from ui.pages.sync import SyncPage

    market = Marketplace(sandbox.url, sandbox.tls.ca_cert)
    sign_in(
        market,
        TokenStore(shell.state.data_dir.keyring_service, market.account),
        open_url=fake_browser(sandbox),
        cancel=CancelToken(),
        timeout=20,
    )
    store = shell.state.store
    assert store is not None
    with store.session() as session, session.begin():
        enqueue(
            session,
            resource="plugin/gui-bad",
            method="POST",
            path="/v1/marketplace/plugins",
            body={"name": "Bad Name", "display_name": "x"},
        )
        enqueue(
            session,
            resource="plugin/gui-bad",
            method="POST",
            path="/v1/marketplace/plugins",
            body={"name": "gui-bad", "display_name": "ok"},
        )
    shell.state.sig_changed.emit()
    waiting = shell.window.findChild(QLabel, "waitingStatus")
    qtbot.waitUntil(lambda: waiting.text() == "2 items waiting to sync")
    shell.state.update_settings(marketplace_url=sandbox.url, ca_bundle=str(sandbox.tls.ca_cert))
    page = shell.window.page("sync")
    assert isinstance(page, SyncPage)
    qtbot.waitUntil(lambda: waiting.text() == "1 item waiting to sync", timeout=20_000)
    _settle(qtbot)
    qtbot.waitUntil(lambda: page.table.rowCount() == 2)
    states = {page.table.item(r, 2).text(): r for r in range(2)}
    assert set(states) == {"Needs attention", "Waiting"}
    page.table.selectRow(states["Needs attention"])
    assert page.retry_button.isEnabled() and page.discard_button.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    page.discard_button.click()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    page.sync_button.click()
    qtbot.waitUntil(lambda: waiting.text() == "0 items waiting to sync", timeout=20_000)
    _settle(qtbot)


def test_a_conflict_is_resolved_from_the_sync_page(
    shell: Shell, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.db.enums import OutboxState
    from portal.db.models import OutboxItem
    from portal.sync.outbox import enqueue
    from ui.pages.sync import SyncPage

    store = shell.state.store
    assert store is not None
    with store.session() as session, session.begin():
        item = enqueue(
            session,
            resource="plugin/edited",
            method="PATCH",
            path="/v1/marketplace/plugins/edited",
            body={"description": "mine"},
            if_match='"old"',
        )
        item.state = OutboxState.CONFLICT
        item.payload = {**item.payload, "server_etag": '"newer"'}
    shell.state.sig_changed.emit()
    page = shell.window.page("sync")
    assert isinstance(page, SyncPage)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    page.table.selectRow(0)
    assert page.retry_button.text() == "Keep my change…"
    assert page.discard_button.text() == "Keep the marketplace's…"
    asked: list[str] = []
    answers = iter([QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
    monkeypatch.setattr(
        QMessageBox, "question", lambda _parent, _title, text: asked.append(text) or next(answers)
    )
    page.retry_button.click()  # answered No: nothing changes
    page.retry_button.click()
    _settle(qtbot)
    with store.session() as session:
        resolved = session.scalars(select(OutboxItem)).one()
    assert (resolved.state, resolved.payload["if_match"]) == (OutboxState.PENDING, '"newer"')
    assert "over the marketplace's version" in asked[1]


def test_a_sign_in_can_be_cancelled(
    shell: Shell,
    qtbot: QtBot,
    sandbox: RunningSandbox,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ui.pages.sync import SyncPage

    shell.state.update_settings(marketplace_url=sandbox.url, ca_bundle=str(sandbox.tls.ca_cert))
    page = shell.window.page("sync")
    assert isinstance(page, SyncPage)
    panel = page.account
    qtbot.waitUntil(lambda: panel.status.text() == "Not signed in.", timeout=10_000)
    opened: list[str] = []
    monkeypatch.setattr("ui.account.QDesktopServices.openUrl", lambda url: opened.append(url))
    panel.sign_in_button.click()
    qtbot.waitUntil(lambda: opened != [] and panel.cancel_button.isVisibleTo(panel))
    assert "open the sign-in page" in panel.link.text()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.status.text() == "Not signed in.", timeout=10_000)
    assert memory_keyring.entries == {}
    _settle(qtbot)


def test_with_no_marketplace_the_embedded_sandbox_starts_and_stops(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from ui.pages.sync import SyncPage

    shell = Shell(_arguments(["--data-dir", str(tmp_path / "data")]))
    shell.start()
    try:
        status = shell.window.findChild(QLabel, "connectionStatus")
        qtbot.waitUntil(lambda: status.text() == "● Online", timeout=60_000)
        market = shell.state.marketplace()
        assert market is not None and market.url.startswith("https://127.0.0.1:")
        assert market.ca_bundle == tmp_path / "data" / "sandbox" / "tls" / "ca.pem"
        page = shell.window.page("sync")
        assert isinstance(page, SyncPage)
        assert page.connection.text() == (
            f"Online: {market.url} (the embedded sandbox marketplace)"
        )
        qtbot.waitUntil(lambda: not running_operations(), timeout=20_000)
    finally:
        embedded = shell.state.embedded
        shell.window.close()
        shell.state.close()
    assert embedded is not None and embedded.process is None


def test_about_lists_versions(shell: Shell, qtbot: QtBot) -> None:
    shell.window.show_about()
    qtbot.waitUntil(lambda: shell.window.findChild(AboutDialog) is not None)
    dialog = shell.window.findChild(AboutDialog)
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert "SQLAlchemy" in texts and "PySide6-Essentials" in texts
    assert str(shell.state.data_dir.root) in texts


def test_tables_sort_numbers_and_dates_by_value(shell: Shell, qtbot: QtBot, tmp_path: Path) -> None:
    from ui.widgets import RecordTable

    table = RecordTable(["n"])
    qtbot.addWidget(table)
    table.set_rows([[("10", 10)], [("9", 9)], [("100", 100)]])
    table.sortItems(0)
    assert [table.item(r, 0).text() for r in range(3)] == ["9", "10", "100"]
    table.set_rows([["beta"], ["alpha"], ["gamma"]])  # text only: sorted as text
    table.sortItems(0)
    assert [table.item(r, 0).text() for r in range(3)] == ["alpha", "beta", "gamma"]


def test_an_error_with_no_parent_is_shown_and_freed(shell: Shell, qtbot: QtBot) -> None:
    from ui.dialogs import _open_boxes

    shell.window.activateWindow()
    show_error(None, RuntimeError("boom"))
    assert len(_open_boxes) == 1
    [box] = _open_boxes
    qtbot.waitUntil(box.isVisible)
    box.close()
    qtbot.waitUntil(lambda: not _open_boxes)


def test_unhandled_errors_are_logged_and_shown(
    shell: Shell, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    from ui.app import report_unhandled
    from ui.dialogs import _open_boxes

    try:
        raise ZeroDivisionError("in a slot")
    except ZeroDivisionError as exc:
        report_unhandled(type(exc), exc, exc.__traceback__)
    assert any(r.exc_info and r.levelname == "CRITICAL" for r in caplog.records)
    [box] = _open_boxes
    assert "in a slot" not in box.text()
    box.close()


def test_a_late_probe_of_an_old_address_is_ignored(shell: Shell, qtbot: QtBot) -> None:
    shell.state.update_settings(marketplace_url="https://127.0.0.1:9")
    shell.state.update_settings(marketplace_url=None)
    qtbot.waitUntil(lambda: shell.state.reachability is not None)
    _settle(qtbot)
    assert shell.state.reachability is not None
    assert shell.state.reachability.url is None
    assert shell.window.findChild(QLabel, "connectionStatus").toolTip() == (
        "No marketplace is configured."
    )


def test_internal_error_offers_the_log_folder(shell: Shell, qtbot: QtBot) -> None:
    show_error(shell.window, RuntimeError("secret internals"))
    box = shell.window.findChild(QMessageBox, "errorDialog")
    assert "secret internals" not in box.text()
    assert [b.text() for b in box.buttons() if b.text() == "Open log folder"] == ["Open log folder"]
    assert box.close()
