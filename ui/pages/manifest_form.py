"""The form view of plugin.yaml: one widget per field, each telling the editor which key it sets."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from portal.i18n import _
from portal.plugins import labels as plugin_labels
from portal.plugins.document import Problem
from portal.plugins.manifest import Backend, Permission, PluginType, PricingModel, Runtime

LICENCES = (
    "Apache-2.0",
    "MIT",
    "BSD-3-Clause",
    "MPL-2.0",
    "GPL-3.0-only",
    "LicenseRef-Proprietary",
)
BACKEND_NAMES = {
    Backend.CUDA: "CUDA",
    Backend.TPU: "TPU",
    Backend.CPU: "CPU",
    Backend.QISKIT: "Qiskit",
    Backend.LOIHI: "Loihi",
}


@dataclass
class _Field:
    """One manifest key and how its widget reads and shows it."""

    key: str
    widget: QWidget
    read: Callable[[], object]
    write: Callable[[object], None]
    problem: QLabel


def value_at(values: dict[str, Any], key: str) -> object:
    """The value at a dotted key in plain manifest data, or None."""
    node: object = values
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


class ManifestForm(QWidget):
    """Edits go out as (key, value) through sig_edited; values come back through show_values."""

    sig_edited = Signal(str, object)
    """The user changed a field: its dotted key and the new value (None removes the key)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, _Field] = {}
        layout = QVBoxLayout(self)
        about = self._group(layout, _("About the plugin"))
        self._text(about, "metadata.name", _("Name"), "acme-vision", required=True)
        self._text(about, "metadata.version", _("Version"), "1.0.0", required=True)
        self._text(
            about, "metadata.displayName", _("Display name"), _("Acme vision"), required=True
        )
        self._description(about)
        self._text(about, "metadata.publisher", _("Publisher"), "acme", required=True)
        self._licence(about)
        self._list(about, "metadata.tags", _("Tags"), "computer-vision, ocr")
        self._text(about, "metadata.icon", _("Icon"), "icon.png")

        runs = self._group(layout, _("How it runs"))
        self._choice(
            runs,
            "spec.type",
            _("Type"),
            [(t.value, plugin_labels.plugin_type(t)) for t in PluginType],
        )
        self._text(runs, "spec.endpoint", _("Endpoint"), "/v1/models/acme-vision", required=True)
        runtimes = [
            (r.value, _("Python {version}").format(version=r.value.removeprefix("python")))
            for r in Runtime
        ]
        self._choice(runs, "spec.runtime", _("Runtime"), runtimes)
        self._text(runs, "spec.entryPoint", _("Entry point"), "src/serve.py:serve", required=True)
        self._checks(runs, "spec.hardware.backends", _("Backends"), list(BACKEND_NAMES.items()))
        self._memory(runs)
        self._checks(
            runs,
            "spec.permissions",
            _("Permissions"),
            [(p, plugin_labels.permission(p)) for p in Permission],
            columns=2,
        )

        offered = self._group(layout, _("Where it is offered"))
        self._list(offered, "spec.regions", _("Regions"), "asia-southeast1, europe-west4")
        self._list(offered, "spec.languages", _("Languages"), "en, fr, ar")

        pricing = self._group(layout, _("Pricing"))
        models = [(m.value, plugin_labels.pricing_model(m)) for m in PricingModel]
        self._choice(pricing, "spec.pricing.model", _("Model"), models)
        self._price(pricing)
        self._text(pricing, "spec.pricing.currency", _("Currency"), "USD")
        self._text(pricing, "spec.pricing.unit", _("Unit"), _("request"))
        layout.addStretch(1)

    def show_values(self, values: dict[str, Any], *, skip: set[str]) -> None:
        """Show the manifest's values, leaving alone the fields whose edits are still on the way."""
        for key, field in self.fields.items():
            value = value_at(values, key)
            if key in skip or field.read() == value:
                continue
            field.widget.blockSignals(True)
            try:
                field.write(value)
            finally:
                field.widget.blockSignals(False)

    def show_problems(self, problems: Sequence[Problem]) -> None:
        """Put each problem under the field it is about; the editor lists them all as well."""
        found: dict[str, list[str]] = {}
        for problem in problems:
            key = self.field_for(problem.field)
            if key is not None:
                found.setdefault(key, []).append(problem.message)
        for key, field in self.fields.items():
            messages = found.get(key, [])
            field.problem.setText("\n".join(messages))
            field.problem.setVisible(bool(messages))

    def field_for(self, dotted: str) -> str | None:
        """The form key a problem's field belongs to (a list item belongs to its list)."""
        plain = re.sub(r"\[\d+\]", "", dotted)
        if plain in self.fields:
            return plain
        return next((key for key in self.fields if key.startswith(plain + ".")), None)

    def _group(self, layout: QVBoxLayout, title: str) -> QFormLayout:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        layout.addWidget(box)
        return form

    def _add(
        self,
        form: QFormLayout,
        key: str,
        label: str,
        widget: QWidget,
        read: Callable[[], object],
        write: Callable[[object], None],
    ) -> None:
        widget.setObjectName(key)
        problem = QLabel()
        problem.setObjectName("problem")
        problem.setWordWrap(True)
        problem.setStyleSheet("color: #b3261e;")
        problem.hide()
        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        column.addWidget(problem)
        title = QLabel(label)
        title.setBuddy(widget)
        form.addRow(title, cell)
        self.fields[key] = _Field(key, widget, read, write, problem)

    def _emit(self, key: str) -> None:
        self.sig_edited.emit(key, self.fields[key].read())

    def _text(
        self, form: QFormLayout, key: str, label: str, example: str, *, required: bool = False
    ) -> None:
        edit = QLineEdit()
        edit.setPlaceholderText(example)
        if key == "spec.pricing.currency":
            edit.setMaxLength(3)

        def read() -> object:
            text = edit.text().strip()
            return text if text or required else None

        self._add(form, key, label, edit, read, lambda v: edit.setText("" if v is None else str(v)))
        edit.textEdited.connect(lambda _text: self._emit(key))

    def _description(self, form: QFormLayout) -> None:
        key = "metadata.description"
        edit = QPlainTextEdit()
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 4 + 12)
        edit.setPlaceholderText(_("What the plugin does, in a sentence or two."))
        self._add(
            form,
            key,
            _("Description"),
            edit,
            lambda: edit.toPlainText().strip(),
            lambda v: edit.setPlainText("" if v is None else str(v)),
        )
        edit.textChanged.connect(lambda: self._emit(key))

    def _licence(self, form: QFormLayout) -> None:
        key = "metadata.license"
        combo = QComboBox()
        combo.setEditable(True)
        combo.addItems(LICENCES)
        combo.lineEdit().setPlaceholderText("Apache-2.0")

        def read() -> object:
            return combo.currentText().strip() or None

        self._add(form, key, _("Licence"), combo, read, lambda v: combo.setEditText(str(v or "")))
        combo.lineEdit().textEdited.connect(lambda _text: self._emit(key))
        combo.activated.connect(lambda _index: self._emit(key))

    def _list(self, form: QFormLayout, key: str, label: str, example: str) -> None:
        edit = QLineEdit()
        edit.setPlaceholderText(example)
        edit.setToolTip(_("Separate entries with commas."))

        def read() -> object:
            return [part.strip() for part in edit.text().split(",") if part.strip()]

        def write(value: object) -> None:
            items = value if isinstance(value, list) else [] if value is None else [value]
            edit.setText(", ".join(str(item) for item in items))

        self._add(form, key, label, edit, read, write)
        edit.textEdited.connect(lambda _text: self._emit(key))

    def _choice(
        self, form: QFormLayout, key: str, label: str, choices: list[tuple[str, str]]
    ) -> None:
        combo = QComboBox()
        for value, text in choices:
            combo.addItem(text, value)

        def write(value: object) -> None:
            combo.setCurrentIndex(combo.findData(value))

        self._add(form, key, label, combo, combo.currentData, write)
        combo.activated.connect(lambda _index: self._emit(key))

    def _checks(
        self,
        form: QFormLayout,
        key: str,
        label: str,
        choices: Sequence[tuple[StrEnum, str]],
        *,
        columns: int = 5,
    ) -> None:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        boxes: dict[str, QCheckBox] = {}
        for index, (value, text) in enumerate(choices):
            check = QCheckBox(text)
            check.setToolTip(value.value)
            check.clicked.connect(lambda _checked: self._emit(key))
            grid.addWidget(check, index // columns, index % columns)
            boxes[value.value] = check

        def read() -> object:
            return [value for value, check in boxes.items() if check.isChecked()]

        def write(value: object) -> None:
            chosen = value if isinstance(value, list) else []
            for name, check in boxes.items():
                check.blockSignals(True)
                check.setChecked(name in chosen)
                check.blockSignals(False)

        self._add(form, key, label, box, read, write)

    def _memory(self, form: QFormLayout) -> None:
        key = "spec.hardware.minMemoryMiB"
        spin = QSpinBox()
        spin.setRange(0, 16 * 1024 * 1024)
        spin.setSingleStep(256)
        spin.setSuffix(" " + _("MiB"))
        spin.setSpecialValueText(_("Not stated"))

        def write(value: object) -> None:
            spin.setValue(value if isinstance(value, int) else 0)

        self._add(form, key, _("Minimum memory"), spin, lambda: spin.value() or None, write)
        spin.valueChanged.connect(lambda _value: self._emit(key))

    def _price(self, form: QFormLayout) -> None:
        key = "spec.pricing.price"
        spin = QDoubleSpinBox()
        spin.setRange(0, 99_999_999)
        spin.setDecimals(4)
        spin.setSpecialValueText(_("No price"))

        def read() -> object:
            value = round(spin.value(), 4)
            return None if not value else int(value) if value.is_integer() else value

        def write(value: object) -> None:
            try:
                spin.setValue(float(value) if value is not None else 0.0)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                spin.setValue(0.0)

        self._add(form, key, _("Price"), spin, read, write)
        spin.valueChanged.connect(lambda _value: self._emit(key))
        spin.setAlignment(Qt.AlignmentFlag.AlignTrailing)
