"""Lint rules and their findings: what is wrong, where (file and line), and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from portal.i18n import _


class Severity(StrEnum):
    """Errors stop packing and fail `plugin lint`; warnings are advice."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    """One lint rule: a stable id for tools, a name for people, a severity."""

    id: str
    name: str
    severity: Severity

    @property
    def title(self) -> str:
        """What the rule checks, in the user's language."""
        return _rule_texts()[self.id][0]

    @property
    def fix(self) -> str:
        """One line that says how to fix a finding of this rule."""
        return _rule_texts()[self.id][1]


@dataclass(frozen=True)
class Finding:
    """One problem, with the file (relative to the plugin folder) and line where known."""

    rule: Rule
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None


E, W = Severity.ERROR, Severity.WARNING
MANIFEST_MISSING = Rule("AIC001", "manifest-missing", E)
MANIFEST_INVALID = Rule("AIC002", "manifest-invalid", E)
LICENSE_MISSING = Rule("AIC003", "license-missing", E)
LICENSE_UNKNOWN = Rule("AIC004", "license-unknown", W)
ENDPOINT_OUTSIDE_V1 = Rule("AIC005", "endpoint-outside-v1", E)
ENTRY_POINT_MISSING = Rule("AIC006", "entry-point-missing", E)
ENTRY_POINT_CALLABLE = Rule("AIC007", "entry-point-callable", E)
FILE_TOO_LARGE = Rule("AIC008", "file-too-large", E)
PACKAGE_TOO_LARGE = Rule("AIC009", "package-too-large", E)
TOO_MANY_FILES = Rule("AIC010", "too-many-files", E)
PRIVATE_KEY = Rule("AIC011", "private-key", E)
API_TOKEN = Rule("AIC012", "api-token", E)
DEPENDENCY_UNPINNED = Rule("AIC013", "dependency-unpinned", E)
ICON_MISSING = Rule("AIC014", "icon-missing", E)
ICON_FORMAT = Rule("AIC015", "icon-format", E)
ICON_SIZE = Rule("AIC016", "icon-size", E)
CONFORMANCE_PROFILE_MISSING = Rule("AIC017", "conformance-profile-missing", E)
LINK_OR_SPECIAL_FILE = Rule("AIC018", "link-or-special-file", E)
UNPORTABLE_NAME = Rule("AIC019", "unportable-name", E)
README_MISSING = Rule("AIC020", "readme-missing", W)
REGION_UNKNOWN = Rule("AIC021", "region-unknown", W)
HARDWARE_PERMISSION = Rule("AIC022", "hardware-permission", W)
MEMORY_UNDECLARED = Rule("AIC023", "memory-undeclared", W)

RULES = (
    MANIFEST_MISSING, MANIFEST_INVALID, LICENSE_MISSING, LICENSE_UNKNOWN, ENDPOINT_OUTSIDE_V1,
    ENTRY_POINT_MISSING, ENTRY_POINT_CALLABLE, FILE_TOO_LARGE, PACKAGE_TOO_LARGE, TOO_MANY_FILES,
    PRIVATE_KEY, API_TOKEN, DEPENDENCY_UNPINNED, ICON_MISSING, ICON_FORMAT, ICON_SIZE,
    CONFORMANCE_PROFILE_MISSING, LINK_OR_SPECIAL_FILE, UNPORTABLE_NAME, README_MISSING,
    REGION_UNKNOWN, HARDWARE_PERMISSION, MEMORY_UNDECLARED,
)  # fmt: skip


def _rule_texts() -> dict[str, tuple[str, str]]:
    """Titles and fixes, translated when asked for (the locale can change while running)."""
    return {
        "AIC001": (
            _("The folder has no plugin.yaml"),
            _("Create plugin.yaml, or start from a template with `aic-portal plugin new`."),
        ),
        "AIC002": (
            _("plugin.yaml does not match the StandardPlugin schema"),
            _("Correct the field as the message says; resources/schemas has the JSON Schema."),
        ),
        "AIC003": (
            _("No licence is declared"),
            _("Set metadata.license to an SPDX identifier such as Apache-2.0."),
        ),
        "AIC004": (
            _("The licence is not a known SPDX identifier"),
            _("Use an identifier from spdx.org/licenses, or LicenseRef-NAME for your own."),
        ),
        "AIC005": (
            _("The endpoint is outside /v1/"),
            _("Put spec.endpoint under /v1/, such as /v1/models/NAME."),
        ),
        "AIC006": (
            _("The entry point file does not exist"),
            _("Point spec.entryPoint at a file in the plugin folder, or add that file."),
        ),
        "AIC007": (
            _("The entry point function is not defined in its file"),
            _("Define the function named after the colon in spec.entryPoint, at top level."),
        ),
        "AIC008": (
            _("A file is over the size limit"),
            _("Shrink the file, or add it to .aicignore and download it when the plugin starts."),
        ),
        "AIC009": (
            _("The files together are over the package size limit"),
            _("Leave large files out with .aicignore and fetch them at run time."),
        ),
        "AIC010": (
            _("The plugin has too many files"),
            _("Leave generated files out with .aicignore, or bundle them in one archive."),
        ),
        "AIC011": (
            _("A file holds a private key"),
            _("Remove the key, keep it in a secret store, and replace it if it was published."),
        ),
        "AIC012": (
            _("A file holds what looks like an API token or password"),
            _("Remove the token, read it from the platform's secrets at run time, and revoke it."),
        ),
        "AIC013": (
            _("A dependency is not pinned to one version"),
            _("Pin it in requirements.txt as NAME==VERSION."),
        ),
        "AIC014": (
            _("The icon file does not exist"),
            _("Add the file metadata.icon names, or correct the path."),
        ),
        "AIC015": (
            _("The icon is not a PNG image"),
            _("Save the icon as PNG."),
        ),
        "AIC016": (
            _("The icon is not 256 × 256 pixels"),
            _("Export the icon at 256 × 256 pixels."),
        ),
        "AIC017": (
            _("A declared backend has no conformance profile"),
            _("Add conformance/BACKEND.yaml for each backend in spec.hardware.backends."),
        ),
        "AIC018": (
            _("The folder holds a link or a special file"),
            _("Replace it with a regular file, or add it to .aicignore."),
        ),
        "AIC019": (
            _("A file name does not work on every system"),
            _("Rename it: no backslashes, colons, control characters or names differing by case."),
        ),
        "AIC020": (
            _("The plugin has no README.md"),
            _("Add README.md saying what the plugin does and how to configure it."),
        ),
        "AIC021": (
            _("A region is not one the marketplace serves"),
            _("Use region names such as asia-southeast1, europe-west4 or us-central1."),
        ),
        "AIC022": (
            _("Direct hardware access is asked for by a plugin that is not a hardware backend"),
            _("Drop hardware.direct from spec.permissions, or make the plugin a hardware-backend."),
        ),
        "AIC023": (
            _("A model does not say how much memory it needs"),
            _("Set spec.hardware.minMemoryMiB so the platform can place it."),
        ),
    }
