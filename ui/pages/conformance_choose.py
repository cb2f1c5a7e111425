"""The wizard's first two steps: which backend to test (with what it offers), and which profile."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from portal.i18n import _, format_number, ngettext
from ui.operations import CoreOp
from ui.widgets import heading

ARRAY_API_PREFIX = "array-api:"


def isolated(text: str) -> str:
    """`text` as its own left-to-right island, so a backend name keeps its brackets in Arabic."""
    return f"\u2066{text}\u2069"


SEED_MAX = 2**31 - 1


@dataclass(frozen=True)
class BackendInfo:
    """A backend as step 1 shows it: what it offers, or why it cannot be loaded."""

    name: str
    kind: str = ""
    dtypes: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    versions: tuple[tuple[str, str], ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class ProfileInfo:
    """A profile as step 2 shows it: the kind of backend it checks and its check ids."""

    name: str
    kind: str
    checks: tuple[tuple[str, bool], ...]  # (check id, required)

    def matching(self, pattern: str | None) -> list[str]:
        """The ids `--only pattern` keeps, as the runner narrows them."""
        return [c for c, _req in self.checks if not pattern or fnmatch.fnmatchcase(c, pattern)]


@dataclass(frozen=True)
class Catalogue:
    """Everything the first two steps offer, read on a worker (loading imports vendor code)."""

    backends: list[BackendInfo]
    profiles: list[ProfileInfo]


def describe_backend(spec: str) -> BackendInfo:
    """Load one backend (in a child process) and ask what it offers; a failure is the reason."""
    return describe_backends([spec])[0]


def describe_backends(specs: list[str]) -> list[BackendInfo]:
    """The backends' capabilities, read in a child process: a vendor's import that crashes or
    hangs is that backend's reason, never the app's crash."""
    from portal.conformance.probe import probe_backends

    found = probe_backends(specs)
    infos = []
    for spec in specs:
        caps = found[spec]
        if isinstance(caps, str):
            infos.append(BackendInfo(spec, problem=caps))
            continue
        infos.append(
            BackendInfo(
                spec,
                caps.kind,
                tuple(caps.dtypes),
                tuple(caps.devices),
                tuple(sorted(caps.versions.items())),
            )
        )
    return infos


def read_catalogue() -> Catalogue:
    """Every registered backend with its capabilities, and every profile with its checks."""
    from portal.conformance.backends import backend_names
    from portal.conformance.catalogue import PROFILE_KINDS, PROFILES

    profiles = [
        ProfileInfo(name, PROFILE_KINDS[name], tuple((c.id, c.required) for c in checks))
        for name, checks in sorted(PROFILES.items())
    ]
    return Catalogue(describe_backends(backend_names()), profiles)


def kind_label(kind: str) -> str:
    """A backend kind in words; a kind this version does not know is shown as it is named."""
    return {
        "tensor": _("Tensor"),
        "quantum": _("Quantum"),
        "neuromorphic": _("Neuromorphic"),
    }.get(kind, kind)


def _identifiers(names: tuple[str, ...], *, per_line: int = 6) -> str:
    """Identifiers as code lists them, left to right in every language, a few to a line (so a
    line never breaks inside a name)."""
    lines = [", ".join(names[i : i + per_line]) for i in range(0, len(names), per_line)]
    return "\n".join(isolated(line) for line in lines)


class BackendStep(QWidget):
    """Step 1: the backends this installation knows, each with its capabilities."""

    sig_chosen = Signal()
    """The user picked a backend with Enter or a double-click: go on."""
    sig_changed = Signal()
    """The selection changed (the wizard enables Next)."""

    def __init__(self) -> None:
        super().__init__()
        self.infos: dict[str, BackendInfo] = {}
        self.list = QListWidget()
        self.list.setObjectName("backends")
        self.list.currentItemChanged.connect(lambda *_a: self._show_selected())
        self.list.itemActivated.connect(lambda _item: self._activated())
        self.waiting = QLabel(_("Loading the backends and asking each what it offers…"))
        self.waiting.setWordWrap(True)
        self.details = QFormLayout()
        self.kind, self.dtypes, self.devices, self.versions = (QLabel() for _i in range(4))
        for label, value in (
            (_("Kind"), self.kind),
            (_("Data types"), self.dtypes),
            (_("Devices"), self.devices),
            (_("Versions"), self.versions),
        ):
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.details.addRow(label, value)
        self.problem = QLabel()
        self.problem.setObjectName("backendProblem")
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.module = QLineEdit()
        self.module.setObjectName("arrayApiModule")
        self.module.setPlaceholderText(_("Python module, for example cupy or array_api_strict"))
        self.module.returnPressed.connect(self.add_module)
        self.add_button = QPushButton(_("&Add module"))
        self.add_button.clicked.connect(self.add_module)
        self.module_problem = QLabel()
        self.module_problem.setObjectName("moduleProblem")
        self.module_problem.setWordWrap(True)

        details = QWidget()
        column = QVBoxLayout(details)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(heading(_("What it offers"), level=2))
        column.addLayout(self.details)
        column.addWidget(self.problem)
        column.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.list, 2)
        row.addWidget(details, 3)
        other = QHBoxLayout()
        other.addWidget(QLabel(_("Or test an array API module:")))
        other.addWidget(self.module, 1)
        other.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(
            _(
                "Choose the backend to check. Backends come from the plugins installed with this "
                "app; one that cannot be loaded is shown greyed, with the reason."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.waiting)
        layout.addLayout(row, 1)
        layout.addLayout(other)
        layout.addWidget(self.module_problem)
        self.module_problem.hide()
        self._show_selected()

    def show_backends(self, infos: list[BackendInfo]) -> None:
        """Fill the list; the first backend that loads is selected."""
        self.waiting.hide()
        self.list.clear()
        self.infos = {}
        for info in infos:
            self._add(info)
        usable = [i for i in range(self.list.count()) if self._usable(self.list.item(i))]
        if usable:
            self.list.setCurrentRow(usable[0])
        self._show_selected()

    def _add(self, info: BackendInfo) -> QListWidgetItem:
        self.infos[info.name] = info
        if info.problem:
            text = _("{name} (cannot be loaded)").format(name=isolated(info.name))
        else:
            text = _("{name} ({kind})").format(name=isolated(info.name), kind=kind_label(info.kind))
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, info.name)
        if info.problem:  # greyed, yet selectable, so the reason can be read with the keyboard
            item.setForeground(
                self.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
            )
            item.setToolTip(info.problem)
        self.list.addItem(item)
        return item

    def _usable(self, item: QListWidgetItem) -> bool:
        info = self.infos.get(item.data(Qt.ItemDataRole.UserRole))
        return info is not None and not info.problem

    def chosen(self) -> BackendInfo | None:
        """The selected backend, if it loaded."""
        item = self.list.currentItem()
        if item is None or not self._usable(item):
            return None
        return self.infos.get(item.data(Qt.ItemDataRole.UserRole))

    def _show_selected(self) -> None:
        item = self.list.currentItem()
        info = None if item is None else self.infos.get(item.data(Qt.ItemDataRole.UserRole))
        ok = info is not None and not info.problem
        self.kind.setText(kind_label(info.kind) if ok and info else "—")
        self.dtypes.setText(_identifiers(info.dtypes) if ok and info else "—")
        self.devices.setText(_identifiers(info.devices) if ok and info else "—")
        self.versions.setText(
            "\n".join(isolated(f"{k} {v}") for k, v in info.versions) if ok and info else "—"
        )
        self.problem.setText(
            _("This backend cannot be loaded: {problem}").format(problem=info.problem)
            if info is not None and info.problem
            else ""
        )
        self.problem.setVisible(info is not None and bool(info.problem))
        self.sig_changed.emit()

    def _activated(self) -> None:
        if self.chosen() is not None:
            self.sig_chosen.emit()

    def add_module(self) -> None:
        """Load `array-api:MODULE` on a worker and add it to the list, or say why it cannot be."""
        module = self.module.text().strip().removeprefix(ARRAY_API_PREFIX)
        if not module:
            return
        spec = ARRAY_API_PREFIX + module
        self.add_button.setEnabled(False)
        self.module_problem.setText(_("Loading {module}…").format(module=module))
        self.module_problem.show()

        def added(info: BackendInfo) -> None:
            self.add_button.setEnabled(True)
            if info.problem:
                self.module_problem.setText(info.problem)
                return
            self.module_problem.hide()
            for row in reversed(range(self.list.count())):  # added before: shown afresh
                if self.list.item(row).data(Qt.ItemDataRole.UserRole) == spec:
                    self.list.takeItem(row)
            self.list.setCurrentItem(self._add(info))
            self.list.setFocus()

        CoreOp(self, lambda _ctx: describe_backend(spec), name="load backend").success(
            added
        ).run_in_background()


class ProfileStep(QWidget):
    """Step 2: a profile for the backend's kind, the seed and an optional check pattern."""

    sig_changed = Signal()
    """The choice changed (the wizard enables Run)."""
    sig_chosen = Signal()
    """The user pressed Enter on a profile: go on."""

    def __init__(self) -> None:
        super().__init__()
        self.profiles: list[ProfileInfo] = []
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("profiles")
        self.list.currentItemChanged.connect(lambda *_a: self._update())
        self.list.itemActivated.connect(lambda _item: self._activated())
        self.none = QLabel()
        self.none.setObjectName("noProfile")
        self.none.setWordWrap(True)
        self.seed = QSpinBox()
        self.seed.setObjectName("seed")
        self.seed.setRange(0, SEED_MAX)
        self.seed.setToolTip(
            _("The same seed draws the same random inputs, so a run can be redone.")
        )
        self.only = QLineEdit()
        self.only.setObjectName("only")
        self.only.setPlaceholderText(_("All checks; or a pattern such as matmul.* or *.float32"))
        self.only.setClearButtonEnabled(True)
        self.only.textChanged.connect(lambda _text: self._update())
        self.only.returnPressed.connect(self._activated)
        self.timeout = QDoubleSpinBox()
        self.timeout.setObjectName("timeout")
        self.timeout.setRange(1.0, 3600.0)
        self.timeout.setDecimals(0)
        self.timeout.setValue(60.0)
        self.timeout.setSuffix(" " + _("s"))
        self.timeout.setToolTip(_("A check that takes longer is stopped and counts as an error."))
        self.challenge = QCheckBox(_("Ask the marketplace for a &challenge first"))
        self.challenge.setObjectName("challenge")
        self.challenge_hint = QLabel()
        self.challenge_hint.setObjectName("hint")
        self.challenge_hint.setWordWrap(True)
        self.count = QLabel()
        self.count.setObjectName("checkCount")
        self.count.setWordWrap(True)
        form = QFormLayout()
        form.addRow(_("&Seed"), self.seed)
        form.addRow(_("&Only checks matching"), self.only)
        form.addRow(_("&Time limit per check"), self.timeout)
        form.addRow(_("Certification"), self.challenge)
        form.addRow("", self.challenge_hint)
        for field in (self.seed, self.only, self.timeout):
            label = form.labelForField(field)
            if isinstance(label, QLabel):
                label.setBuddy(field)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.none)
        layout.addLayout(form)
        layout.addWidget(self.count)

    def set_backend(self, backend: BackendInfo, profiles: list[ProfileInfo]) -> None:
        """Offer the profiles that check `backend`'s kind of hardware."""
        fitting = [p for p in profiles if p.kind == backend.kind]
        self.title.setText(
            _("Profiles for {kind} backends such as {name}:").format(
                kind=kind_label(backend.kind).lower(), name=backend.name
            )
        )
        current = self.chosen()
        self.profiles = fitting
        self.list.clear()
        for profile in fitting:
            required = sum(1 for _c, req in profile.checks if req)
            item = QListWidgetItem(
                _("{name}: {checks}, {required} required").format(
                    name=isolated(profile.name),
                    checks=ngettext("{n} check", "{n} checks", len(profile.checks)).format(
                        n=format_number(len(profile.checks))
                    ),
                    required=format_number(required),
                )
            )
            item.setData(Qt.ItemDataRole.UserRole, profile.name)
            self.list.addItem(item)
        names = [p.name for p in fitting]
        self.list.setCurrentRow(
            names.index(current.name) if current and current.name in names else 0
        )
        self.none.setText(
            _("No profile checks {kind} backends in this version of the app.").format(
                kind=kind_label(backend.kind).lower()
            )
        )
        self.none.setVisible(not fitting)
        self.list.setVisible(bool(fitting))
        self._update()

    def set_marketplace(self, url: str | None) -> None:
        """Offer a challenge when there is a marketplace to ask."""
        self.challenge.setEnabled(url is not None)
        if url is None:
            self.challenge.setChecked(False)
            self.challenge_hint.setText(
                _(
                    "Only a run made under a marketplace challenge can be certified; no "
                    "marketplace is set up (see Settings), so this run will be unchallenged."
                )
            )
        else:
            self.challenge_hint.setText(
                _(
                    "Only a run made under a marketplace challenge can be certified. The challenge "
                    "comes from {url}, where you must be signed in; it changes the seed."
                ).format(url=url)
            )

    def chosen(self) -> ProfileInfo | None:
        """The selected profile."""
        row = self.list.currentRow()
        return self.profiles[row] if 0 <= row < len(self.profiles) else None

    def pattern(self) -> str | None:
        """The `--only` glob, or None for every check."""
        return self.only.text().strip() or None

    def selected_checks(self) -> list[str]:
        """The check ids the run will go through, in the profile's order."""
        profile = self.chosen()
        return [] if profile is None else profile.matching(self.pattern())

    def ready(self) -> bool:
        """Whether a run can start with this choice."""
        return bool(self.selected_checks())

    def _update(self) -> None:
        profile = self.chosen()
        if profile is not None:
            n, total = len(self.selected_checks()), len(profile.checks)
            if n == 0:
                self.count.setText(
                    _("No check of {profile} matches “{pattern}”.").format(
                        profile=profile.name, pattern=self.pattern()
                    )
                )
            elif n == total:
                self.count.setText(
                    ngettext("All {n} check will run.", "All {n} checks will run.", n).format(
                        n=format_number(n)
                    )
                )
            else:
                self.count.setText(
                    ngettext(
                        "{n} of {total} checks will run.", "{n} of {total} checks will run.", n
                    ).format(n=format_number(n), total=format_number(total))
                )
        else:
            self.count.setText("")
        self.sig_changed.emit()

    def _activated(self) -> None:
        if self.ready():
            self.sig_chosen.emit()
