"""New from template: the four templates of `aic-portal plugin new`, a name and a place."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from portal.i18n import _
from portal.plugins import labels as plugin_labels
from portal.plugins.manifest import DNS_LABEL
from portal.plugins.templates import TEMPLATES


class NewPluginDialog(QDialog):
    """Asks what the plugin starts from and where its folder goes; makes nothing itself."""

    def __init__(self, parent: QWidget | None, *, location: Path) -> None:
        super().__init__(parent)
        self.setObjectName("newPluginDialog")
        self.setWindowTitle(_("New plugin from template"))
        self.setMinimumWidth(520)
        self.template = QComboBox()
        self.template.setObjectName("template")
        for name in TEMPLATES:
            self.template.addItem(plugin_labels.template(name)[0], name)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setObjectName("hint")
        self.name = QLineEdit()
        self.name.setObjectName("pluginName")
        self.name.setPlaceholderText("acme-vision")
        self.location = QLineEdit(str(location))
        self.location.setObjectName("location")
        choose = QPushButton(_("Choose…"))
        choose.clicked.connect(self._choose)
        place = QHBoxLayout()
        place.addWidget(self.location, 1)
        place.addWidget(choose)
        self.result_label = QLabel()
        self.result_label.setObjectName("newFolder")
        self.result_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow(_("Template"), self.template)
        form.addRow("", self.about)
        form.addRow(_("Name"), self.name)
        form.addRow(_("Create in"), place)
        form.addRow("", self.result_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Create"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.template.currentIndexChanged.connect(self._update)
        self.name.textChanged.connect(self._update)
        self.location.textChanged.connect(self._update)
        self._update()

    def chosen(self) -> tuple[str, Path, str]:
        """The template, the new folder and the plugin's name."""
        name = self.name.text().strip()
        return self.template.currentData(), Path(self.location.text().strip()) / name, name

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Choose where to create the plugin"))
        if folder:
            self.location.setText(folder)

    def _update(self) -> None:
        self.about.setText(plugin_labels.template(self.template.currentData())[1])
        name = self.name.text().strip()
        valid = bool(re.match(DNS_LABEL, name)) and bool(self.location.text().strip())
        if not name:
            self.result_label.setText(
                _("Lowercase letters, digits and hyphens; it names the folder and the plugin.")
            )
        elif not re.match(DNS_LABEL, name):
            self.result_label.setText(
                _(
                    "“{name}” cannot be a plugin name: use lowercase letters, digits and "
                    "hyphens, starting and ending with a letter or digit."
                ).format(name=name)
            )
        else:
            self.result_label.setText(_("Creates the folder {path}.").format(path=self.chosen()[1]))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(valid)
