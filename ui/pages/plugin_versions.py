"""Packaged versions of a project: pack with progress and cancel, sign, publish, review status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from portal.i18n import _, format_datetime, format_number
from portal.plugins import labels as plugin_labels
from ui.dialogs import ask
from ui.operations import CoreOp, OpContext, OpHandle
from ui.state import AppState
from ui.widgets import RecordTable

if TYPE_CHECKING:
    from portal.plugins.findings import Finding
    from portal.plugins.keys import SigningKey
    from portal.plugins.pack import PackResult
    from portal.plugins.versions import VersionSummary

PROGRESS_STEPS = 1000


T = TypeVar("T")


@dataclass(frozen=True)
class _Packed:
    """What a Pack run gave: the lint findings, and the package unless errors stopped it."""

    findings: list[Finding]
    result: PackResult | None


class VersionsPanel(QWidget):
    """One project's packages; each step runs on a worker and records what it did in the store."""

    sig_linted = Signal(object)
    """Pack linted the folder first: the findings (a list of Finding), for the lint panel."""
    sig_blocked = Signal()
    """Pack stopped because lint found errors; the lint panel says which."""

    def __init__(
        self, state: AppState, *, before_pack: Callable[[Callable[[], None]], None]
    ) -> None:
        super().__init__()
        self.state = state
        self._before_pack = before_pack
        self.project_id: int | None = None
        self.folder: Path | None = None
        self.versions: dict[int, VersionSummary] = {}
        self.packing: OpHandle | None = None
        self._loads = 0
        self.pack_action = self._action(_("Pack"), "Ctrl+P", lambda: self.pack())
        self.pack_to_action = self._action(_("Pack to folder…"), None, self.choose_and_pack)
        self.sign_action = self._action(_("Sign"), None, self.sign_selected)
        self.publish_action = self._action(_("Publish…"), None, self.publish_selected)
        self.show_action = self._action(_("Show in folder"), None, self.show_selected)
        bar = QHBoxLayout()
        for action in (
            self.pack_action,
            self.pack_to_action,
            self.sign_action,
            self.publish_action,
            self.show_action,
        ):
            button = QToolButton()
            button.setDefaultAction(action)
            bar.addWidget(button)
        bar.addStretch(1)
        self.progress = QProgressBar()
        self.progress.setObjectName("packProgress")
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress_file = QLabel()
        self.progress_file.setObjectName("packFile")
        self.cancel_button = QPushButton(_("Cancel"))
        self.cancel_button.setObjectName("cancelPack")
        self.cancel_button.clicked.connect(self.cancel_pack)
        running = QHBoxLayout()
        running.addWidget(self.progress_file, 1)
        running.addWidget(self.progress, 2)
        running.addWidget(self.cancel_button)
        self.table = RecordTable(
            [_("Version"), _("Size"), _("SHA-256"), _("Signed"), _("Review"), _("Published")]
        )
        self.table.setObjectName("versions")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.empty = QLabel()
        self.empty.setObjectName("hint")
        self.empty.setWordWrap(True)
        self.empty.setText(
            _(
                "No packages yet. Pack makes NAME-VERSION.aicpkg beside the project folder; "
                "sign it with your key, then publish it to the marketplace for review."
            )
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(running)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        state.sig_changed.connect(self.reload)
        self._show_running(False)
        self._selection_changed()

    def _action(self, text: str, keys: str | None, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def set_project(self, project_id: int, folder: Path) -> None:
        """Show another project's versions."""
        self.project_id, self.folder = project_id, folder
        self.versions = {}
        self.table.set_rows([])
        self.reload()

    def reload(self) -> None:
        """Read the versions again (after a pack, a sign, or a sync that brought a review)."""
        store, project = self.state.store, self.project_id
        if store is None or project is None:
            return
        from portal.plugins.versions import list_versions

        self._loads += 1
        asked = self._loads

        def loaded(found: list[VersionSummary]) -> None:
            if asked == self._loads:  # a load for another project that ended late is stale
                self._show(found)

        CoreOp(self, lambda _ctx: list_versions(store, project), name="load versions").success(
            loaded
        ).run_in_background()

    def _show(self, found: list[VersionSummary]) -> None:
        self.versions = {v.id: v for v in found}
        self.table.set_rows(
            [
                [
                    v.version,
                    (_size(v.size), v.size or 0),
                    (v.package_sha256 or "")[:12],
                    _("Yes") if v.signed else _("No"),
                    _("Refused: {reason}").format(reason=v.refused)
                    if v.refused
                    else plugin_labels.review_status(v.review_status),
                    (format_datetime(v.published_at), v.published_at) if v.published_at else "—",
                ]
                for v in found
            ],
            keys=[v.id for v in found],
        )
        for row in range(self.table.rowCount()):
            version = self.versions[self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)]
            self.table.item(row, 2).setToolTip(version.package_sha256 or "")
            self.table.item(row, 1).setToolTip(str(version.package_path or ""))
            self.table.item(row, 4).setToolTip(version.refused or "")
        self.empty.setVisible(not found)
        self.table.setVisible(bool(found))
        if found and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)
        self._selection_changed()

    def selected(self) -> VersionSummary | None:
        """The version chosen in the table."""
        key = self.table.selected_key()
        return self.versions.get(key) if isinstance(key, int) else None

    def _selection_changed(self) -> None:
        version = self.selected()
        on_disk = version is not None and version.size is not None
        idle = self.packing is None
        self.pack_action.setEnabled(idle and self.project_id is not None)
        self.pack_to_action.setEnabled(idle and self.project_id is not None)
        self.sign_action.setEnabled(idle and on_disk)
        self.show_action.setEnabled(on_disk)
        self.publish_action.setEnabled(
            idle and on_disk and version is not None and version.signed and version.sendable
        )
        if version is not None and not version.signed:
            self.publish_action.setToolTip(_("Sign the package before publishing it."))
        else:
            self.publish_action.setToolTip(_("Send the package to the marketplace for review."))

    def choose_and_pack(self) -> None:
        """Ask where the package goes, then pack."""
        folder = QFileDialog.getExistingDirectory(self, _("Choose where to write the package"))
        if folder:
            self.pack(Path(folder))

    def pack(self, output_dir: Path | None = None) -> None:
        """Save the manifest if asked, lint, pack beside the project (or into `output_dir`)."""
        if self.project_id is None or self.packing is not None:
            return
        self._before_pack(lambda: self._pack(output_dir))

    def _pack(self, output_dir: Path | None) -> None:
        store, project, folder = self.state.store, self.project_id, self.folder
        if store is None or project is None or folder is None:
            return

        def work(ctx: OpContext) -> _Packed:
            from portal.plugins.document import load_manifest
            from portal.plugins.lint import has_errors, lint_plugin
            from portal.plugins.pack import pack_plugin
            from portal.plugins.versions import ensure_packable

            found = lint_plugin(folder, cancel=ctx.cancel)
            if has_errors(found):
                return _Packed(found, None)
            manifest = load_manifest(folder).manifest
            ensure_packable(store, project, manifest.metadata.version)
            target = (output_dir or folder.parent) / manifest.package_name
            ctx.progress(0, None, manifest.package_name)
            packed = pack_plugin(folder, target, progress=ctx.progress, cancel=ctx.cancel)
            return _Packed(found, packed)

        self.progress.setValue(0)
        self.progress_file.setText(_("Checking the folder…"))
        self.packing = (
            CoreOp(self, work, name="pack")
            .progress(self._pack_progress)
            .success(self._packed)
            .failure(self._pack_failed)
            .cancelled(self._pack_cancelled)
            .run_in_background()
        )
        self._show_running(True)

    def cancel_pack(self) -> None:
        """Stop packing (the partial file is removed, nothing gets the package's name), or the
        signing or checking under way."""
        if self.packing is not None:
            self.packing.cancel()
            self.cancel_button.setEnabled(False)

    def _pack_progress(self, done: int, total: int | None, message: str) -> None:
        if total:
            self.progress.setRange(0, PROGRESS_STEPS)
            self.progress.setValue(done * PROGRESS_STEPS // total)
        else:
            self.progress.setRange(0, 0)
        self.progress_file.setText(message)

    def _packed(self, outcome: _Packed) -> None:
        self._finish_pack()
        self.sig_linted.emit(outcome.findings)
        packed = outcome.result
        if packed is None:
            self.sig_blocked.emit()
            return
        store, project = self.state.store, self.project_id
        if store is None or project is None:
            return
        from portal.plugins.versions import record_package

        def record(_ctx: OpContext) -> VersionSummary:
            return record_package(
                store,
                project,
                name=packed.manifest.metadata.name,
                version=packed.manifest.metadata.version,
                package_path=packed.path,
                sha256=packed.sha256,
            )

        CoreOp(self, record, writes=True, name="record package").success(
            lambda _version: self._changed(
                _("Packed {name} ({size}).").format(name=packed.path.name, size=_size(packed.size))
            )
        ).run_in_background()

    def _run_long(
        self,
        work: Callable[[OpContext], T],
        *,
        name: str,
        label: str,
        done: Callable[[T], None],
        cancelled: str,
    ) -> None:
        """Run long work on a worker with the progress bar and Cancel that packing uses."""
        self.progress.setRange(0, 0)
        self.progress_file.setText(label)

        def finished(result: T) -> None:
            self._finish_pack()
            done(result)

        def stopped() -> None:
            self._finish_pack()
            self._status(cancelled)

        self.packing = (
            CoreOp(self, work, name=name)
            .success(finished)
            .failure(self._pack_failed)
            .cancelled(stopped)
            .run_in_background()
        )
        self._show_running(True)

    def _pack_failed(self, error: BaseException) -> None:
        from ui.dialogs import show_error

        self._finish_pack()
        show_error(self, error)

    def _pack_cancelled(self) -> None:
        self._finish_pack()
        self._status(_("Packing cancelled; no package was written."))

    def _finish_pack(self) -> None:
        self.packing = None
        self._show_running(False)
        self._selection_changed()

    def _show_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.progress_file.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
        self._selection_changed()

    def sign_selected(self) -> None:
        """Sign the selected package with this data dir's key, offering to make one if none."""
        version = self.selected()
        store = self.state.store
        if version is None or version.package_path is None or store is None:
            return
        package, data_dir, version_id = version.package_path, self.state.data_dir, version.id

        def work(ctx: OpContext) -> Path | None:
            from portal.plugins.attestation import sign_package
            from portal.plugins.keys import has_signing_key, load_signing_key

            if not has_signing_key(data_dir):
                return None
            return sign_package(package, load_signing_key(data_dir), cancel=ctx.cancel)

        def signed(signature: Path | None) -> None:
            if signature is None:
                self._offer_key()
                return
            from portal.plugins.versions import mark_signed

            CoreOp(self, lambda _ctx: mark_signed(store, version_id), writes=True).success(
                lambda _none: self._changed(_("Signed {name}.").format(name=package.name))
            ).run_in_background()

        self._run_long(
            work,
            name="sign package",
            label=_("Signing {name}…").format(name=package.name),
            done=signed,
            cancelled=_("Signing cancelled; the package is not signed."),
        )

    def _offer_key(self) -> None:
        data_dir = self.state.data_dir

        def made(key: SigningKey) -> None:
            self._status(_("Made signing key {key}.").format(key=key.key_id))
            self.sign_selected()

        def make() -> None:
            from portal.plugins.keys import generate_signing_key

            CoreOp(self, lambda _ctx: generate_signing_key(data_dir), name="make key").success(
                made
            ).run_in_background()

        ask(
            self,
            _("No signing key yet"),
            _(
                "Packages are signed with your own key, so the marketplace and your customers can "
                "tell they come from you. Make a signing key now? Its passphrase is kept in the "
                "OS keyring."
            ),
            make,
            name="makeKeyQuestion",
        )

    def publish_selected(self) -> None:
        """Queue the selected signed package for the marketplace, then sync."""
        version = self.selected()
        store = self.state.store
        if version is None or version.package_path is None or store is None:
            return
        package, data_dir = version.package_path, self.state.data_dir
        from portal.plugins.publish import (
            PublishCheck,
            PublishQueued,
            check_for_publish,
            queue_checked,
        )

        def check(ctx: OpContext) -> PublishCheck:
            return check_for_publish(data_dir, package, cancel=ctx.cancel)

        def checked(passed: PublishCheck) -> None:
            from ui.dialogs import show_error

            CoreOp(
                self, lambda _ctx: queue_checked(store, passed), writes=True, name="queue publish"
            ).success(queued).failure(lambda error: show_error(self, error)).run_in_background()

        def queued(done: PublishQueued) -> None:
            self._changed(
                _(
                    "{name} {version} is queued for publishing; it is sent when the marketplace "
                    "can be reached."
                ).format(name=done.name, version=done.version)
            )
            self.state.sync_now()

        ask(
            self,
            _("Publish to the marketplace"),
            _(
                "Send {package} to the marketplace for review? Once sent, this version's package "
                "cannot change."
            ).format(package=package.name),
            lambda: self._run_long(
                check,
                name="check package",
                label=_("Checking {name} as the marketplace will…").format(name=package.name),
                done=checked,
                cancelled=_("Publishing cancelled; nothing was queued."),
            ),
            name="publishQuestion",
        )

    def show_selected(self) -> None:
        """Show the selected package's folder in the file manager."""
        version = self.selected()
        if version is not None and version.package_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(version.package_path.parent)))

    def _changed(self, message: str) -> None:
        self._status(message)
        self.state.sig_changed.emit()

    def _status(self, message: str) -> None:
        status = getattr(self.window(), "statusBar", None)
        if status is not None:
            status().showMessage(message, 8000)


def _size(size: int | None) -> str:
    """A package size in the units people read, or a dash when the file is gone."""
    if size is None:
        return _("missing")
    if size < 1024 * 1024:
        return _("{n} KiB").format(n=format_number(round(size / 1024, 1)))
    return _("{n} MiB").format(n=format_number(round(size / 1024 / 1024, 1)))
