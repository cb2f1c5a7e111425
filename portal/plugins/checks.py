"""The lint checks: each looks at one thing in a plugin folder and says where it is wrong."""

from __future__ import annotations

import ast
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ruamel.yaml.comments import CommentedMap

from portal.i18n import _, format_number
from portal.plugins import findings as rules
from portal.plugins.document import position
from portal.plugins.files import PluginFile, PluginTree
from portal.plugins.findings import Finding
from portal.plugins.manifest import MANIFEST_NAME, Permission, PluginType, StandardPlugin
from portal.plugins.pack import unpackable_names
from portal.plugins.safezip import DEFAULT_LIMITS

SCAN_BYTES = 2 << 20  # secrets are looked for in the first 2 MiB of each text file
ICON_SIDE = 256
KNOWN_LICENSES = frozenset(
    """0BSD AFL-3.0 AGPL-3.0-only AGPL-3.0-or-later Apache-1.1 Apache-2.0 Artistic-2.0
    BlueOak-1.0.0 BSD-2-Clause BSD-3-Clause BSD-3-Clause-Clear BSL-1.0 CC-BY-4.0 CC-BY-SA-4.0
    CC0-1.0 CDDL-1.0 ECL-2.0 EPL-1.0 EPL-2.0 EUPL-1.2 GPL-2.0-only GPL-2.0-or-later GPL-3.0-only
    GPL-3.0-or-later ISC LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0-only LGPL-3.0-or-later MIT
    MIT-0 MPL-2.0 MS-PL NCSA OFL-1.1 PostgreSQL PSF-2.0 Python-2.0 Unlicense UPL-1.0 Zlib
    LLVM-exception Classpath-exception-2.0 GCC-exception-3.1""".split()
)
KNOWN_REGIONS = frozenset(
    """africa-south1 asia-east1 asia-east2 asia-northeast1 asia-northeast2 asia-northeast3
    asia-south1 asia-south2 asia-southeast1 asia-southeast2 australia-southeast1
    australia-southeast2 europe-central2 europe-north1 europe-southwest1 europe-west1
    europe-west2 europe-west3 europe-west4 europe-west6 europe-west8 europe-west9 europe-west10
    europe-west12 me-central1 me-central2 me-west1 northamerica-northeast1
    northamerica-northeast2 southamerica-east1 southamerica-west1 us-central1 us-east1 us-east4
    us-east5 us-south1 us-west1 us-west2 us-west3 us-west4""".split()
)
PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
API_TOKENS = (
    re.compile(rb"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(rb"\bgh[pousr]_[A-Za-z0-9]{36}\b"),  # GitHub
    re.compile(rb"\bgithub_pat_[A-Za-z0-9_]{60,}\b"),
    re.compile(rb"\bxox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(rb"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API key
    re.compile(rb"\b[sr]k_live_[0-9A-Za-z]{20,}\b"),  # Stripe
    re.compile(rb"\bsk-[A-Za-z0-9_-]{32,}\b"),  # OpenAI-style secret keys
    re.compile(
        rb"(?i)\b(?:api[_-]?key|secret|token|password|passwd)\b[\"']?\s*[:=]\s*[\"']"
        rb"[A-Za-z0-9/+_.=-]{16,}[\"']"
    ),
)
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?\s*===?\s*[^\s*,;]+$")


@dataclass(frozen=True)
class LintLimits:
    """Sizes a plugin may reach; the safe reader's limits bound what a package may hold."""

    max_file_bytes: int = 2 << 30  # model weights are large; the package as a whole is bounded
    max_total_bytes: int = DEFAULT_LIMITS.max_total_bytes
    max_files: int = DEFAULT_LIMITS.max_entries - 1  # one entry is kept for SHA256SUMS


@dataclass(frozen=True)
class LintContext:
    """What every check may look at."""

    tree: PluginTree
    manifest: StandardPlugin | None
    document: CommentedMap | None
    limits: LintLimits

    def at(self, rule: rules.Rule, message: str, *path: str | int) -> Finding:
        """A finding placed on a manifest field (or on the manifest when it has no such field)."""
        line, column = position(self.document, path) if self.document is not None else (1, 1)
        return Finding(rule, message, MANIFEST_NAME, line, column)

    def file(self, path: str) -> PluginFile | None:
        """The plugin file at `path`, if it is one."""
        return next((item for item in self.tree.files if item.path == path), None)


Check = Callable[[LintContext], Iterator[Finding]]


def license_declared(ctx: LintContext) -> Iterator[Finding]:
    """AIC003, AIC004."""
    if ctx.manifest is None:
        return
    license_ = ctx.manifest.metadata.license
    if not license_:
        yield ctx.at(rules.LICENSE_MISSING, _("metadata.license is not set"), "metadata")
        return
    for token in re.split(r"[\s()]+", license_):
        if token and token not in ("AND", "OR", "WITH") and not token.startswith("LicenseRef-"):
            if token not in KNOWN_LICENSES:
                yield ctx.at(
                    rules.LICENSE_UNKNOWN,
                    _("“{license}” is not a known SPDX identifier").format(license=token),
                    "metadata",
                    "license",
                )


def endpoint_under_v1(ctx: LintContext) -> Iterator[Finding]:
    """AIC005."""
    if ctx.manifest is not None and not ctx.manifest.spec.endpoint.startswith("/v1/"):
        yield ctx.at(
            rules.ENDPOINT_OUTSIDE_V1,
            _("the endpoint {endpoint} is not under /v1/").format(
                endpoint=ctx.manifest.spec.endpoint
            ),
            "spec",
            "endpoint",
        )


def entry_point_exists(ctx: LintContext) -> Iterator[Finding]:
    """AIC006, AIC007."""
    if ctx.manifest is None:
        return
    path, _colon, function = ctx.manifest.spec.entry_point.partition(":")
    item = ctx.file(path)
    where = ("spec", "entryPoint")
    if item is None:
        yield ctx.at(
            rules.ENTRY_POINT_MISSING,
            _("{path} does not exist in the plugin (or .aicignore leaves it out)").format(
                path=path
            ),
            *where,
        )
        return
    if not function:
        return
    try:
        tree = ast.parse(item.source.read_bytes(), filename=path)
    except (SyntaxError, ValueError) as exc:
        yield Finding(
            rules.ENTRY_POINT_CALLABLE,
            _("{path} cannot be read as Python: {problem}").format(path=path, problem=exc),
            path,
            getattr(exc, "lineno", None),
            getattr(exc, "offset", None),
        )
        return
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    if function not in defined:
        yield ctx.at(
            rules.ENTRY_POINT_CALLABLE,
            _("{path} defines no top-level {function}").format(path=path, function=function),
            *where,
        )


def sizes(ctx: LintContext) -> Iterator[Finding]:
    """AIC008, AIC009, AIC010."""
    limits = ctx.limits
    for item in ctx.tree.files:
        if item.size > limits.max_file_bytes:
            yield Finding(
                rules.FILE_TOO_LARGE,
                _("{path} has {size} bytes; the limit is {limit}").format(
                    path=item.path,
                    size=format_number(item.size),
                    limit=format_number(limits.max_file_bytes),
                ),
                item.path,
            )
    if ctx.tree.total_size > limits.max_total_bytes:
        yield Finding(
            rules.PACKAGE_TOO_LARGE,
            _("the files have {size} bytes together; the limit is {limit}").format(
                size=format_number(ctx.tree.total_size),
                limit=format_number(limits.max_total_bytes),
            ),
        )
    if len(ctx.tree.files) > limits.max_files:
        yield Finding(
            rules.TOO_MANY_FILES,
            _("the plugin has {count} files; the limit is {limit}").format(
                count=format_number(len(ctx.tree.files)), limit=format_number(limits.max_files)
            ),
        )


def secrets(ctx: LintContext) -> Iterator[Finding]:
    """AIC011, AIC012: looked for line by line in the start of every text file."""
    for item in ctx.tree.files:
        with open(item.source, "rb") as handle:
            head = handle.read(SCAN_BYTES)
        if b"\0" in head[:8192]:
            continue  # binary: weights and images hold no readable secrets worth a scan
        for number, line in enumerate(head.splitlines(), start=1):
            if match := PRIVATE_KEY.search(line):
                yield Finding(
                    rules.PRIVATE_KEY,
                    _("{path} holds a private key").format(path=item.path),
                    item.path,
                    number,
                    match.start() + 1,
                )
                continue
            for pattern in API_TOKENS:
                if match := pattern.search(line):
                    yield Finding(
                        rules.API_TOKEN,
                        _("{path} holds what looks like a token or password").format(
                            path=item.path
                        ),
                        item.path,
                        number,
                        match.start() + 1,
                    )
                    break


def dependencies_pinned(ctx: LintContext) -> Iterator[Finding]:
    """AIC013: every requirement in requirements.txt names one version."""
    item = ctx.file("requirements.txt")
    if item is None:
        return
    text = item.source.read_text("utf-8", errors="replace")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        requirement = line.split(";", 1)[0].split(" --hash", 1)[0].strip()
        if line.startswith("-") or not PINNED.match(requirement):
            yield Finding(
                rules.DEPENDENCY_UNPINNED,
                _("“{requirement}” is not pinned to one version").format(requirement=line),
                item.path,
                number,
                1,
            )


def icon(ctx: LintContext) -> Iterator[Finding]:
    """AIC014, AIC015, AIC016: a 256 × 256 PNG, judged from its header."""
    if ctx.manifest is None or ctx.manifest.metadata.icon is None:
        return
    name = ctx.manifest.metadata.icon
    item = ctx.file(name)
    where = ("metadata", "icon")
    if item is None:
        yield ctx.at(
            rules.ICON_MISSING,
            _("{path} does not exist in the plugin (or .aicignore leaves it out)").format(
                path=name
            ),
            *where,
        )
        return
    with open(item.source, "rb") as handle:
        head = handle.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        yield ctx.at(rules.ICON_FORMAT, _("{path} is not a PNG image").format(path=name), *where)
        return
    width, height = struct.unpack(">II", head[16:24])
    if (width, height) != (ICON_SIDE, ICON_SIDE):
        yield ctx.at(
            rules.ICON_SIZE,
            _("{path} is {width} × {height} pixels, not {side} × {side}").format(
                path=name, width=width, height=height, side=ICON_SIDE
            ),
            *where,
        )


def conformance_profiles(ctx: LintContext) -> Iterator[Finding]:
    """AIC017: a hardware backend ships a conformance profile for every backend it provides."""
    if ctx.manifest is None or ctx.manifest.spec.type is not PluginType.HARDWARE_BACKEND:
        return
    for index, backend in enumerate(ctx.manifest.spec.hardware.backends):
        profile = f"conformance/{backend.value}.yaml"
        if ctx.file(profile) is None:
            yield ctx.at(
                rules.CONFORMANCE_PROFILE_MISSING,
                _("the backend {backend} has no {profile}").format(
                    backend=backend.value, profile=profile
                ),
                "spec",
                "hardware",
                "backends",
                index,
            )


def packable_files(ctx: LintContext) -> Iterator[Finding]:
    """AIC018, AIC019: what the packer and the safe reader would refuse."""
    for name in ctx.tree.links + ctx.tree.special:
        yield Finding(
            rules.LINK_OR_SPECIAL_FILE,
            _("{path} is a link or a special file").format(path=name),
            name,
        )
    for path, problem in unpackable_names(ctx.tree.files):
        yield Finding(
            rules.UNPORTABLE_NAME, _("{path}: {problem}").format(path=path, problem=problem), path
        )


def readme(ctx: LintContext) -> Iterator[Finding]:
    """AIC020."""
    if ctx.file("README.md") is None:
        yield Finding(rules.README_MISSING, _("README.md is missing"))


def regions(ctx: LintContext) -> Iterator[Finding]:
    """AIC021."""
    if ctx.manifest is None:
        return
    for index, region in enumerate(ctx.manifest.spec.regions):
        if region not in KNOWN_REGIONS:
            yield ctx.at(
                rules.REGION_UNKNOWN,
                _("{region} is not a region the marketplace serves").format(region=region),
                "spec",
                "regions",
                index,
            )


def permissions(ctx: LintContext) -> Iterator[Finding]:
    """AIC022."""
    if ctx.manifest is None:
        return
    spec = ctx.manifest.spec
    if Permission.HARDWARE_DIRECT in spec.permissions and (
        spec.type is not PluginType.HARDWARE_BACKEND
    ):
        index = spec.permissions.index(Permission.HARDWARE_DIRECT)
        yield ctx.at(
            rules.HARDWARE_PERMISSION,
            _("a {type} plugin asks for hardware.direct").format(type=spec.type.value),
            "spec",
            "permissions",
            index,
        )


def memory(ctx: LintContext) -> Iterator[Finding]:
    """AIC023."""
    if ctx.manifest is None:
        return
    spec = ctx.manifest.spec
    if spec.type is PluginType.MODEL and spec.hardware.min_memory_mib is None:
        yield ctx.at(
            rules.MEMORY_UNDECLARED,
            _("spec.hardware.minMemoryMiB is not set"),
            "spec",
            "hardware",
        )


CHECKS: tuple[Check, ...] = (
    license_declared,
    endpoint_under_v1,
    entry_point_exists,
    sizes,
    secrets,
    dependencies_pinned,
    icon,
    conformance_profiles,
    packable_files,
    readme,
    regions,
    permissions,
    memory,
)
