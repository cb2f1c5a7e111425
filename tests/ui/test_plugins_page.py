"""The Plugins page as a partner uses it: new, edit, lint, pack, sign and publish a plugin."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit, QMessageBox, QPlainTextEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from portal.plugins.templates import create_plugin
from tests.keyrings import MemoryKeyring
from ui.app import Shell
from ui.code_view import FileViewer
from ui.operations import running_operations
from ui.pages.new_plugin import NewPluginDialog
from ui.pages.plugin_detail import ProjectDetail
from ui.pages.plugins import PluginsPage


def _settle(qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: not running_operations())


def _page(shell: Shell) -> PluginsPage:
    shell.window.show_page("plugins")
    page = shell.window.page("plugins")
    assert isinstance(page, PluginsPage)
    return page


def _open(shell: Shell, qtbot: QtBot, folder: Path) -> ProjectDetail:
    """Add a plugin folder as a project and wait until its detail has loaded and checked."""
    page = _page(shell)
    shell.window.activateWindow()  # keyboard shortcuts go to the active window
    page.add_folder(folder, open_it=True)
    qtbot.waitUntil(lambda: page.detail is not None and page.detail.editor.isEnabled())
    assert page.detail is not None
    qtbot.waitUntil(lambda: "valid" in page.detail.editor.state_label.text())
    qtbot.waitUntil(lambda: page.detail.lint.summary.text().startswith("No problems"))
    _settle(qtbot)
    return page.detail


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    folder = tmp_path / "projects" / "acme-vision"
    create_plugin("model-serving", folder)
    return folder


def _answer(widget: QWidget, qtbot: QtBot, name: str, button: QMessageBox.StandardButton) -> None:
    qtbot.waitUntil(lambda: widget.window().findChild(QMessageBox, name) is not None)
    widget.window().findChild(QMessageBox, name).button(button).click()


def test_new_from_template_makes_the_folder_and_opens_it(
    shell: Shell, qtbot: QtBot, tmp_path: Path
) -> None:
    page = _page(shell)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.empty)
    page.new_from_template()
    dialog = page.findChild(NewPluginDialog)
    create = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.template.setCurrentIndex(dialog.template.findData("data-connector"))
    dialog.location.setText(str(tmp_path))
    qtbot.keyClicks(dialog.name, "Bad Name")
    assert not create.isEnabled()
    assert "cannot be a plugin name" in dialog.result_label.text()
    dialog.name.setText("crm-sync")
    assert create.isEnabled()
    assert dialog.result_label.text() == f"Creates the folder {tmp_path / 'crm-sync'}."
    create.click()
    qtbot.waitUntil(lambda: page.showing_detail())
    _settle(qtbot)
    assert (tmp_path / "crm-sync" / "plugin.yaml").is_file()
    assert page.detail is not None and page.detail.title.text() == "crm-sync"
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    assert page.stack.currentWidget() is page.views


def test_form_and_yaml_views_stay_in_step(shell: Shell, qtbot: QtBot, plugin: Path) -> None:
    editor = _open(shell, qtbot, plugin).editor
    name = editor.form.findChild(QLineEdit, "metadata.displayName")
    name.selectAll()
    qtbot.keyClicks(name, "Acme Vision Pro")
    qtbot.waitUntil(lambda: "displayName: Acme Vision Pro\n" in editor.yaml.toPlainText())
    assert "name: acme-vision    # DNS label" in editor.yaml.toPlainText()  # comments stay
    assert editor.is_modified()

    text = editor.yaml.toPlainText().replace("version: 0.1.0", "version: 0.2.0")
    editor.yaml.selectAll()
    editor.yaml.insertPlainText(text)
    version = editor.form.findChild(QLineEdit, "metadata.version")
    qtbot.waitUntil(lambda: version.text() == "0.2.0")
    assert name.text() == "Acme Vision Pro"

    editor.yaml.undo()  # the text view's own undo; the form follows
    qtbot.waitUntil(lambda: version.text() == "0.1.0")
    _settle(qtbot)


def test_a_comment_survives_a_form_edit_and_save(shell: Shell, qtbot: QtBot, plugin: Path) -> None:
    manifest = plugin / "plugin.yaml"
    manifest.write_text(
        manifest.read_text().replace("spec:\n", "# Keep this: reviewers read it.\nspec:\n")
    )
    detail = _open(shell, qtbot, plugin)
    editor = detail.editor
    publisher = editor.form.findChild(QLineEdit, "metadata.publisher")
    publisher.setFocus()
    publisher.selectAll()
    qtbot.keyClicks(publisher, "acme")
    qtbot.keyClick(publisher, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "publisher: acme\n" in manifest.read_text())
    qtbot.waitUntil(lambda: not editor.is_modified())
    saved = manifest.read_text()
    assert "# Keep this: reviewers read it.\nspec:\n" in saved
    assert "version: 0.1.0  # semantic version" in saved
    assert saved.index("publisher:") < saved.index("license:")  # key order kept
    qtbot.waitUntil(lambda: detail.lint.summary.text().startswith("No problems"))  # linted again
    _settle(qtbot)


def test_validation_runs_as_you_type_and_points_at_the_line(
    shell: Shell, qtbot: QtBot, plugin: Path
) -> None:
    editor = _open(shell, qtbot, plugin).editor
    text = editor.yaml.toPlainText()
    editor.yaml.setPlainText(text.replace("version: 0.1.0", "version: one"))
    qtbot.waitUntil(lambda: editor.problems.count() == 1)
    assert editor.problems.item(0).text() == (
        "Line 7, column 12: metadata.version: must be a semantic version such as 1.2.0 or "
        "2.0.0-beta.1"
    )
    field = editor.form.fields["metadata.version"]
    assert field.problem.isVisibleTo(editor) and "semantic version" in field.problem.text()
    assert editor.state_label.text() == "1 problem in plugin.yaml"

    broken = "metadata: [unclosed\n"
    editor.yaml.setPlainText(broken)
    qtbot.waitUntil(lambda: not editor.form.isEnabled())
    assert "cannot be read" in editor.state_label.text()
    assert editor.problems.item(0).text().startswith("Line 2, column 1: is not valid YAML")
    assert editor.yaml.toPlainText() == broken  # the user's text is kept as typed

    editor.problems.setCurrentRow(0)
    editor.problems.itemActivated.emit(editor.problems.item(0))
    assert editor.yaml.textCursor().blockNumber() == 1
    _settle(qtbot)


def test_lint_findings_open_the_file_at_their_line(
    shell: Shell, qtbot: QtBot, plugin: Path
) -> None:
    detail = _open(shell, qtbot, plugin)
    (plugin / "requirements.txt").write_text("# pinned\nnumpy\n")
    manifest = plugin / "plugin.yaml"
    manifest.write_text(manifest.read_text().replace("/v1/models/", "/v2/models/"))
    detail.editor.open(manifest)
    detail.lint.run()
    qtbot.waitUntil(lambda: detail.lint.table.rowCount() == 2)
    _settle(qtbot)
    assert detail.lint.summary.text().startswith("2 errors found.")
    assert detail.tabs.tabText(detail.tabs.indexOf(detail.lint)) == "Lint (2)"
    wheres = [detail.lint.table.item(row, 3).text() for row in range(2)]
    assert wheres == ["plugin.yaml:17", "requirements.txt:2"]

    detail.tabs.setCurrentWidget(detail.lint)
    detail.lint.table.setFocus()
    detail.lint.table.selectRow(0)
    qtbot.keyClick(detail.lint.table, Qt.Key.Key_Return)
    assert detail.tabs.currentWidget() is detail.editor
    cursor = detail.editor.yaml.textCursor()
    assert cursor.blockNumber() == 16
    assert cursor.block().text().startswith("  endpoint: /v2/models/")

    detail.lint.table.selectRow(1)
    index = detail.lint.table.model().index(1, 2)
    detail.lint.table.activated.emit(index)
    viewer = detail.findChild(FileViewer)
    qtbot.waitUntil(lambda: viewer.view.toPlainText() == "# pinned\nnumpy\n")
    assert viewer.view.textCursor().blockNumber() == 1
    assert viewer.view.isReadOnly()
    viewer.close()
    _settle(qtbot)


def test_pack_shows_progress_and_cancel_leaves_no_file(
    shell: Shell, qtbot: QtBot, plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import portal.plugins.pack as pack

    (plugin / "weights.txt").write_bytes(b"w" * 64 * 1024)
    monkeypatch.setattr(pack, "CHUNK", 4096)
    first_progress, cancelled = threading.Event(), threading.Event()
    real_pack = pack.pack_plugin

    def held_pack(root: Path, output: Path, **kw: Any) -> Any:
        def progress(done: int, total: int | None, message: str) -> None:
            kw_progress(done, total, message)
            if not first_progress.is_set():
                first_progress.set()
                cancelled.wait(10)  # the user reads the bar and presses Cancel

        kw_progress = kw.pop("progress")
        return real_pack(root, output, progress=progress, **kw)

    monkeypatch.setattr(pack, "pack_plugin", held_pack)
    versions = _open(shell, qtbot, plugin).versions
    versions.pack()
    qtbot.waitUntil(lambda: versions.progress.value() > 0)
    assert versions.progress.isVisibleTo(versions) and versions.cancel_button.isVisibleTo(versions)
    assert not versions.pack_action.isEnabled()
    versions.cancel_button.click()
    cancelled.set()
    qtbot.waitUntil(lambda: versions.packing is None)
    _settle(qtbot)
    assert not versions.progress.isVisibleTo(versions)
    assert shell.window.statusBar().currentMessage() == (
        "Packing cancelled; no package was written."
    )
    assert sorted(p.name for p in plugin.parent.iterdir()) == ["acme-vision"]
    assert versions.versions == {}


def test_pack_records_the_version_then_sign_makes_a_key_first(
    shell: Shell, qtbot: QtBot, plugin: Path, memory_keyring: MemoryKeyring
) -> None:
    detail = _open(shell, qtbot, plugin)
    versions = detail.versions
    qtbot.keyClick(detail.editor.yaml, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: versions.table.rowCount() == 1)
    _settle(qtbot)
    package = plugin.parent / "acme-vision-0.1.0.aicpkg"
    assert package.is_file()
    [version] = versions.versions.values()
    assert version.package_path == package and version.size == package.stat().st_size
    row = [versions.table.item(0, c).text() for c in range(6)]
    assert row[0] == "0.1.0" and row[2] == version.package_sha256[:12]
    assert row[3:] == ["No", "Not published", "—"]
    assert not versions.publish_action.isEnabled()  # sign first

    versions.table.selectRow(0)
    versions.sign_action.trigger()
    _answer(versions, qtbot, "makeKeyQuestion", QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(
        lambda: versions.table.rowCount() == 1 and versions.table.item(0, 3).text() == "Yes"
    )
    _settle(qtbot)
    assert (plugin.parent / "acme-vision-0.1.0.aicpkg.sig.json").is_file()
    assert (shell.state.data_dir.keys / "plugin-signing.key").is_file()
    versions.table.selectRow(0)
    assert versions.publish_action.isEnabled()


def test_lint_errors_stop_pack_and_show_the_lint_tab(
    shell: Shell, qtbot: QtBot, plugin: Path
) -> None:
    detail = _open(shell, qtbot, plugin)
    (plugin / "requirements.txt").write_text("numpy\n")
    detail.tabs.setCurrentWidget(detail.versions)
    detail.versions.pack()
    qtbot.waitUntil(lambda: detail.tabs.currentWidget() is detail.lint)
    _settle(qtbot)
    assert detail.lint.summary.text().startswith("1 error found.")
    assert not list(plugin.parent.glob("*.aicpkg"))
    assert detail.versions.versions == {}


def test_publish_queues_the_signed_package_and_syncs(
    shell: Shell,
    qtbot: QtBot,
    plugin: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from portal.plugins.keys import generate_signing_key
    from portal.sync.outbox import list_outbox

    synced: list[bool] = []
    monkeypatch.setattr(shell.state, "sync_now", lambda **_kw: synced.append(True))
    generate_signing_key(shell.state.data_dir)
    versions = _open(shell, qtbot, plugin).versions
    versions.pack()
    qtbot.waitUntil(lambda: versions.table.rowCount() == 1)
    _settle(qtbot)
    versions.table.selectRow(0)
    versions.sign_action.trigger()
    qtbot.waitUntil(lambda: versions.table.item(0, 3).text() == "Yes")
    _settle(qtbot)
    versions.table.selectRow(0)
    versions.publish_action.trigger()
    _answer(versions, qtbot, "publishQuestion", QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: bool(synced))
    qtbot.waitUntil(lambda: versions.table.item(0, 4).text() == "Submitted")
    _settle(qtbot)
    assert (
        shell.window.statusBar()
        .currentMessage()
        .startswith("acme-vision 0.1.0 is queued for publishing")
    )
    assert shell.state.store is not None
    actions = [item.resource for item in list_outbox(shell.state.store)]
    assert "plugin/acme-vision" in actions
    versions.table.selectRow(0)
    assert not versions.publish_action.isEnabled()  # sent once; a new version is needed

    from portal.db.enums import OutboxState
    from portal.db.models import OutboxItem

    with shell.state.store.session() as session, session.begin():  # as a refusing sync leaves it
        item = session.scalars(
            select(OutboxItem).where(OutboxItem.resource == "plugin/acme-vision")
        ).one()
        item.state, item.last_error = OutboxState.FAILED, "HTTP 422: lint found 1 error"
    versions.reload()
    qtbot.waitUntil(
        lambda: versions.table.item(0, 4).text() == "Refused: HTTP 422: lint found 1 error"
    )
    _settle(qtbot)
    versions.table.selectRow(0)
    assert versions.publish_action.isEnabled()  # refused, so the marketplace has not got it


def test_leaving_with_unsaved_changes_asks(shell: Shell, qtbot: QtBot, plugin: Path) -> None:
    page = _page(shell)
    detail = _open(shell, qtbot, plugin)
    description = detail.editor.form.findChild(QPlainTextEdit, "metadata.description")
    description.setPlainText("Reads text in photos.")
    qtbot.waitUntil(
        lambda: "description: Reads text in photos.\n" in detail.editor.yaml.toPlainText()
    )
    _settle(qtbot)

    detail.back_action.trigger()
    _answer(detail, qtbot, "unsavedDialog", QMessageBox.StandardButton.Cancel)
    assert page.showing_detail()

    shell.window.close()
    _answer(detail, qtbot, "unsavedDialog", QMessageBox.StandardButton.Cancel)
    assert shell.window.isVisible()

    detail.back_action.trigger()
    _answer(detail, qtbot, "unsavedDialog", QMessageBox.StandardButton.Discard)
    assert not page.showing_detail()
    assert "Reads text in photos." not in (plugin / "plugin.yaml").read_text()
