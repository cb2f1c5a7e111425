"""The lint panel: findings of `plugin lint` for a folder, each opening the file at its line."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStyle, QToolButton, QVBoxLayout, QWidget

from portal.i18n import _, format_list, format_number, ngettext
from portal.plugins import labels as plugin_labels
from portal.plugins.findings import Finding, Severity
from ui.operations import CoreOp, OpHandle
from ui.widgets import RecordTable


class LintPanel(QWidget):
    """Runs lint on a worker; a newer run makes an older one's findings stale."""

    sig_open = Signal(str, int, int)
    """Open a file of the plugin (relative path) at a 1-based line and column."""
    sig_counted = Signal(int, int)
    """A run ended with this many errors and warnings."""

    def __init__(self) -> None:
        super().__init__()
        self.folder: Path | None = None
        self.findings: list[Finding] = []
        self._runs = 0
        self._running: OpHandle | None = None
        self.run_action = QAction(_("Run lint"), self)
        self.run_action.setShortcut(QKeySequence("Ctrl+L"))
        self.run_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.run_action.triggered.connect(self.run)
        run = QToolButton()
        run.setDefaultAction(self.run_action)
        self.summary = QLabel()
        self.summary.setObjectName("lintSummary")
        self.summary.setWordWrap(True)
        self.table = RecordTable(
            [_("Severity"), _("Rule"), _("Problem"), _("Where"), _("How to fix")]
        )
        self.table.setObjectName("lintFindings")
        self.table.setWordWrap(True)
        self.table.activated.connect(self._activated)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(run)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.clean = QLabel(_("Nothing to fix: every lint rule passes."))
        self.clean.setObjectName("lintClean")
        self.clean.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.clean, 1)
        self.hint = QLabel(
            _("Double-click a finding, or press Enter, to open the file at its line.")
        )
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.clean.hide()

    def set_folder(self, folder: Path) -> None:
        """Show another project: forget the old findings, and lint the new folder."""
        self.folder = folder
        self.findings = []
        self.table.set_rows([])
        self.clean.hide()
        self.run()

    def run(self) -> None:
        """Lint the folder on a worker; an older run still going is cancelled."""
        folder = self.folder
        if folder is None:
            return
        from portal.plugins.lint import lint_plugin

        if self._running is not None:
            self._running.cancel()
        self._runs += 1
        asked = self._runs
        self.summary.setText(_("Checking {path}…").format(path=folder))

        def done(found: list[Finding]) -> None:
            if asked == self._runs:
                self._running = None
                self.show_findings(found)

        def stopped() -> None:
            if asked == self._runs:
                self._running = None

        def failed(error: BaseException) -> None:
            from ui.dialogs import show_error

            stopped()
            self.summary.setText(_("Lint could not run; see the message."))
            show_error(self, error)

        self._running = (
            CoreOp(self, lambda ctx: lint_plugin(folder, cancel=ctx.cancel), name="lint")
            .success(done)
            .failure(failed)
            .cancelled(stopped)
            .run_in_background()
        )

    def show_findings(self, found: list[Finding]) -> None:
        """Fill the table and say how many errors and warnings there are."""
        self.findings = found
        style = self.style()
        icons = {
            Severity.ERROR: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
            Severity.WARNING: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
        }
        self.table.set_rows(
            [
                [
                    (plugin_labels.severity(f.rule.severity), f.rule.severity != Severity.ERROR),
                    f.rule.id,
                    f.message,
                    (_where(f), (f.file or "", f.line or 0)),
                    f.rule.fix,
                ]
                for f in found
            ],
            keys=list(range(len(found))),
        )
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            item.setIcon(icons[found[item.data(Qt.ItemDataRole.UserRole)].rule.severity])
        self.table.resizeRowsToContents()
        self.table.setVisible(bool(found))
        self.hint.setVisible(bool(found))
        self.clean.setVisible(not found)
        errors = sum(1 for f in found if f.rule.severity is Severity.ERROR)
        warnings = len(found) - errors
        self.summary.setText(_summary(errors, warnings))
        self.sig_counted.emit(errors, warnings)

    def _activated(self, index: QModelIndex) -> None:
        key = self.table.item(index.row(), 0).data(Qt.ItemDataRole.UserRole)
        finding = self.findings[key]
        if finding.file:
            self.sig_open.emit(finding.file, finding.line or 1, finding.column or 1)


def _where(finding: Finding) -> str:
    if not finding.file:
        return _("the whole plugin")
    if finding.line is None:
        return finding.file
    return f"{finding.file}:{format_number(finding.line)}"


def _summary(errors: int, warnings: int) -> str:
    """The counts in words; packing needs no errors, warnings are advice."""
    if not errors and not warnings:
        return _("No problems found. The plugin is ready to pack.")
    parts = []
    if errors:
        parts.append(ngettext("{n} error", "{n} errors", errors).format(n=format_number(errors)))
    if warnings:
        parts.append(
            ngettext("{n} warning", "{n} warnings", warnings).format(n=format_number(warnings))
        )
    text = _("{counts} found.").format(counts=format_list(parts))
    if errors:
        return text + " " + _("Fix the errors before packing; warnings are advice.")
    return text + " " + _("Warnings are advice; the plugin can be packed.")
