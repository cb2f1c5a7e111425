"""What a package holds, read through the safe reader and checked against its SHA256SUMS."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from portal.cancel import CancelToken
from portal.errors import InputError
from portal.i18n import _
from portal.plugins.document import MAX_MANIFEST_BYTES, parse_manifest
from portal.plugins.manifest import MANIFEST_NAME, StandardPlugin
from portal.plugins.pack import SUMS_NAME
from portal.plugins.safezip import DEFAULT_LIMITS, Entry, Limits, SafeArchive, open_archive

MAX_SUMS_BYTES = 4 << 20
_SUM_LINE = re.compile(r"^([0-9a-f]{64})  (.+)$")


class PackageError(InputError):
    """A package whose contents do not match what it says about itself."""


@dataclass(frozen=True)
class PackageContents:
    """A package's manifest and entries, and the digest of its checksum list (the source tree)."""

    manifest: StandardPlugin
    entries: list[Entry]
    source_digest: str


def inspect_package(package: Path, *, limits: Limits = DEFAULT_LIMITS) -> PackageContents:
    """The package's manifest and entries, after the safe reader's checks; nothing is hashed."""
    with open_archive(package, limits=limits) as archive:
        return PackageContents(_manifest(archive, package), archive.entries, _sums(archive)[0])


def check_package(
    package: Path, *, limits: Limits = DEFAULT_LIMITS, cancel: CancelToken | None = None
) -> PackageContents:
    """Like `inspect_package`, and every file's SHA-256 matches its line in SHA256SUMS."""
    with open_archive(package, limits=limits) as archive:
        manifest = _manifest(archive, package)
        digest, listed = _sums(archive)
        names = [e.name for e in archive.entries if not e.is_dir and e.name != SUMS_NAME]
        unlisted = sorted(set(names) - set(listed))
        absent = sorted(set(listed) - set(names))
        if unlisted or absent:
            raise PackageError(
                _(
                    "{path}: {sums} does not list exactly the files of the package "
                    "(not listed: {unlisted}; listed but missing: {absent})."
                ).format(
                    path=package,
                    sums=SUMS_NAME,
                    unlisted=", ".join(unlisted) or "-",
                    absent=", ".join(absent) or "-",
                )
            )
        for name in names:
            hasher = hashlib.sha256()
            for chunk in archive.chunks(name, cancel=cancel):
                hasher.update(chunk)
            if hasher.hexdigest() != listed[name]:
                raise PackageError(
                    _(
                        "{path}: the file {name} does not match its SHA-256 in {sums}; the "
                        "package was changed after it was made."
                    ).format(path=package, name=name, sums=SUMS_NAME)
                )
        return PackageContents(manifest, archive.entries, digest)


def _manifest(archive: SafeArchive, package: Path) -> StandardPlugin:
    files = [e.name for e in archive.entries if not e.is_dir]
    if not files or files[0] != MANIFEST_NAME:
        raise PackageError(
            _("{path}: {name} is not the first entry, so this is not a plugin package.").format(
                path=package, name=MANIFEST_NAME
            )
        )
    data = archive.read(MANIFEST_NAME, max_bytes=MAX_MANIFEST_BYTES)
    return parse_manifest(data, f"{package}!{MANIFEST_NAME}")


def _sums(archive: SafeArchive) -> tuple[str, dict[str, str]]:
    """The SHA-256 of SHA256SUMS and what it lists, file by file."""
    if not any(e.name == SUMS_NAME for e in archive.entries):
        raise PackageError(
            _("{path}: there is no {sums}, so its files cannot be checked.").format(
                path=archive.path, sums=SUMS_NAME
            )
        )
    data = archive.read(SUMS_NAME, max_bytes=MAX_SUMS_BYTES)
    listed: dict[str, str] = {}
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        match = _SUM_LINE.match(line)
        if not match or match.group(2) in listed:
            raise PackageError(
                _("{path}: line {line} of {sums} is not “SHA-256  NAME” for a new name.").format(
                    path=archive.path, line=number, sums=SUMS_NAME
                )
            )
        listed[match.group(2)] = match.group(1)
    return hashlib.sha256(data).hexdigest(), listed
