"""Settings: language, how to reach the marketplace, and where this data dir keeps its files."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from portal.errors import InputError
from portal.i18n import _, available_locales, format_percent, language_name
from portal.settings import (
    SYSTEM_LANGUAGE,
    TEXT_SCALES,
    validate_ca_bundle,
    validate_marketplace_url,
    validate_pin,
    validate_proxy,
)
from ui.operations import CoreOp, OpContext
from ui.pages.client_certificate import ClientCertificateBox
from ui.state import AppState
from ui.widgets import heading

Connection = tuple[str | None, str | None, tuple[str, ...], str | None]
"""Address, CA file, pins and proxy, as checked."""


class SettingsPage(QWidget):
    """Changes apply at once: a new language rebuilds the window, an address is probed."""

    def __init__(self, state: AppState, *, on_language: Callable[[str], None]) -> None:
        super().__init__()
        self.state = state
        self._on_language = on_language
        layout = QVBoxLayout(self)
        layout.addWidget(heading(_("Settings")))
        form = QFormLayout()
        self.language = QComboBox()
        self.language.setObjectName("language")
        self.language.addItem(_("System default"), SYSTEM_LANGUAGE)
        for code in available_locales():
            self.language.addItem(language_name(code), code)
        self.language.setCurrentIndex(max(0, self.language.findData(state.settings.language)))
        self.language.currentIndexChanged.connect(self._language_chosen)
        form.addRow(_("Language"), self.language)
        self.text_size = QComboBox()
        self.text_size.setObjectName("textSize")
        self.text_size.setAccessibleName(_("Text size"))
        for scale in TEXT_SCALES:
            self.text_size.addItem(format_percent(scale / 100), scale)
        self.text_size.setCurrentIndex(max(0, self.text_size.findData(state.settings.text_scale)))
        self.text_size.currentIndexChanged.connect(
            lambda index: state.update_settings(text_scale=self.text_size.itemData(index))
        )
        form.addRow(_("Text size"), self.text_size)
        self.high_contrast = QCheckBox(_("High contrast (white and yellow on black)"))
        self.high_contrast.setObjectName("highContrast")
        self.high_contrast.setChecked(state.settings.high_contrast)
        self.high_contrast.toggled.connect(lambda on: state.update_settings(high_contrast=on))
        form.addRow(_("Theme"), self.high_contrast)

        self.marketplace = QLineEdit(state.settings.marketplace_url or "")
        self.marketplace.setObjectName("marketplace")
        self.marketplace.setPlaceholderText("https://marketplace.example.com")
        self.marketplace.returnPressed.connect(self.save_marketplace)
        save = QPushButton(_("Save"))
        save.clicked.connect(self.save_marketplace)
        row = QHBoxLayout()
        row.addWidget(self.marketplace, 1)
        row.addWidget(save)
        form.addRow(_("Marketplace address"), row)
        self.ca_bundle = QLineEdit(state.settings.ca_bundle or "")
        self.ca_bundle.setObjectName("caBundle")
        self.ca_bundle.setPlaceholderText(_("Only for a private marketplace or the sandbox"))
        self.ca_bundle.returnPressed.connect(self.save_marketplace)
        choose = QPushButton(_("Choose…"))
        choose.clicked.connect(self._choose_ca_bundle)
        row = QHBoxLayout()
        row.addWidget(self.ca_bundle, 1)
        row.addWidget(choose)
        form.addRow(_("Extra CA certificates"), row)
        self.pins = QLineEdit(" ".join(state.settings.pins))
        self.pins.setObjectName("pins")
        self.pins.setPlaceholderText(_("None: any key its CA vouches for"))
        self.pins.setToolTip(
            _(
                "The marketplace's keys as pin-sha256 values (base64 SHA-256 of the public "
                "key), separated by spaces. Any other key is refused before anything is sent."
            )
        )
        self.pins.returnPressed.connect(self.save_marketplace)
        form.addRow(_("Pinned keys"), self.pins)
        self.proxy = QLineEdit(state.settings.proxy or "")
        self.proxy.setObjectName("proxy")
        self.proxy.setPlaceholderText(_("From the environment (HTTPS_PROXY), if set"))
        self.proxy.returnPressed.connect(self.save_marketplace)
        form.addRow(_("Proxy"), self.proxy)
        self.marketplace_problem = QLabel()
        self.marketplace_problem.setObjectName("problem")
        self.marketplace_problem.setWordWrap(True)
        self.marketplace_problem.setStyleSheet("color: #b00020;")
        self.marketplace_problem.hide()
        form.addRow("", self.marketplace_problem)
        self.certificate = ClientCertificateBox(state)
        form.addRow(self.certificate)

        data = state.data_dir
        for label, path in ((_("Data dir"), data.root), (_("Log file"), data.log_file)):
            value = QLabel(str(path))
            value.setWordWrap(True)
            folder = path if path.is_dir() else path.parent
            button = QPushButton(_("Open folder"))
            button.clicked.connect(
                lambda _checked=False, f=folder: QDesktopServices.openUrl(
                    QUrl.fromLocalFile(str(f))
                )
            )
            line = QHBoxLayout()
            line.addWidget(value, 1)
            line.addWidget(button)
            form.addRow(label, line)
        layout.addLayout(form)
        layout.addStretch(1)

    def _language_chosen(self, index: int) -> None:
        code = self.language.itemData(index)
        if code and code != self.state.settings.language:
            self._on_language(code)

    def _choose_ca_bundle(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Choose a CA certificate file"), "", _("PEM certificates (*.pem *.crt)")
        )
        if path:
            self.ca_bundle.setText(path)

    def save_marketplace(self) -> None:
        """Check address, CA file, pins and proxy as typed (on a worker: it reads the file);
        save or say why."""
        url_text, bundle_text = self.marketplace.text().strip(), self.ca_bundle.text().strip()
        pin_texts = self.pins.text().replace(",", " ").split()
        proxy_text = self.proxy.text().strip()

        def check(_ctx: OpContext) -> Connection:
            return (
                validate_marketplace_url(url_text) if url_text else None,
                validate_ca_bundle(bundle_text) if bundle_text else None,
                tuple(validate_pin(pin) for pin in pin_texts),
                validate_proxy(proxy_text) if proxy_text else None,
            )

        CoreOp(self, check, name="check connection settings").success(self._save).failure(
            self._refuse
        ).run_in_background()

    def _refuse(self, error: BaseException) -> None:
        if not isinstance(error, InputError):
            from ui.dialogs import show_error

            show_error(self, error)
            return
        self.marketplace_problem.setText(error.message)
        self.marketplace_problem.show()

    def _save(self, checked: Connection) -> None:
        url, bundle, pins, proxy = checked
        self.marketplace_problem.hide()
        self.state.update_settings(marketplace_url=url, ca_bundle=bundle, pins=pins, proxy=proxy)
        status = getattr(self.window(), "statusBar", None)
        if status is not None:
            status().showMessage(_("Settings saved."), 5000)
