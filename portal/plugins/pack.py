"""Reproducible .aicpkg packages: the same tree gives the same bytes, in any folder, on any day."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from portal.cancel import CancelToken, Progress
from portal.errors import InputError, StorageError
from portal.i18n import _
from portal.plugins.document import load_manifest
from portal.plugins.files import PluginFile, plugin_tree
from portal.plugins.manifest import MANIFEST_NAME, StandardPlugin
from portal.plugins.safezip import DEFAULT_LIMITS, collision_key, entry_name_problem

SUMS_NAME = "SHA256SUMS"
PACKAGE_SUFFIX = ".aicpkg"
CHUNK = 1 << 20
ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a ZIP entry can carry
FILE_MODE = 0o100644 << 16
SAMPLE_BYTES = 4 * 1024  # enough to tell text from noise; more costs time on many small files
STORE_ABOVE_RATIO = 0.9  # a sample that deflates to more than this is not worth deflating
# Fast deflate: about 2.4x the speed of zlib's default level for packages ~25% bigger (text).
DEFLATE_LEVEL = 1
# Already compressed, or noise to deflate: weights, images, media, archives.
STORED_SUFFIXES = frozenset(
    {
        ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".gguf", ".h5", ".tflite",
        ".npz", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".mp3", ".mp4", ".ogg",
        ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".whl", ".aicpkg", ".jar",
    }
)  # fmt: skip

Stamp = tuple[int, int, int, int, int, int]


@dataclass(frozen=True)
class PackResult:
    """What was written: the package, its digest, and the digest of the tree it holds."""

    path: Path
    sha256: str
    size: int
    files: int
    source_digest: str
    manifest: StandardPlugin


def source_date(environ: dict[str, str] | None = None) -> int:
    """The timestamp every entry gets: SOURCE_DATE_EPOCH when set, else 1980-01-01."""
    raw = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH")
    if not raw:
        return ZIP_EPOCH
    try:
        return max(ZIP_EPOCH, int(raw))
    except ValueError:
        raise InputError(
            _("SOURCE_DATE_EPOCH must be a number of seconds, not “{value}”.").format(value=raw)
        ) from None


def compress_type(item: PluginFile) -> int:
    """Deflate what shrinks; store what is already dense, judged by suffix, then by a sample."""
    if item.size == 0 or Path(item.path).suffix.lower() in STORED_SUFFIXES:
        return zipfile.ZIP_STORED
    with open(item.source, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if len(zlib.compress(sample, DEFLATE_LEVEL)) > STORE_ABOVE_RATIO * len(sample):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED


def pack_plugin(
    root: Path,
    output: Path,
    *,
    progress: Progress,
    cancel: CancelToken,
    epoch: int | None = None,
) -> PackResult:
    """Pack a plugin folder; an error or cancel leaves nothing under `output`'s name."""
    manifest = load_manifest(root).manifest
    tree = plugin_tree(root, cancel=cancel)
    _check_tree(root, tree.files, tree.links + tree.special)
    ordered = sorted(tree.files, key=lambda item: (item.path != MANIFEST_NAME, item.path))
    when = time.gmtime(source_date() if epoch is None else epoch)
    stamp = (when.tm_year, when.tm_mon, when.tm_mday, when.tm_hour, when.tm_min, when.tm_sec)
    output = output.absolute()
    if not output.parent.is_dir():
        raise InputError(_("The folder {path} does not exist.").format(path=output.parent))
    handle, temp_name = tempfile.mkstemp(prefix=output.name + ".part-", dir=output.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "w+b") as out:
            sums = _write_zip(out, ordered, stamp, progress=progress, cancel=cancel)
            out.flush()
            os.fsync(out.fileno())
            out.seek(0)
            digest = hashlib.sha256()
            while chunk := out.read(CHUNK):
                digest.update(chunk)
            size = out.tell()
        os.chmod(temp, 0o644)
        os.replace(temp, output)
        _sync_folder(output.parent)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StorageError(
                _("The package {path} was not made: {file}: {problem}").format(
                    path=output, file=exc.filename or output, problem=exc.strerror or exc
                )
            ) from exc
        raise
    return PackResult(
        output,
        digest.hexdigest(),
        size,
        len(ordered),
        hashlib.sha256(sums).hexdigest(),
        manifest,
    )


def _check_tree(root: Path, files: list[PluginFile], unpackable: list[str]) -> None:
    """Refuse what a package cannot hold, so every package opens with the safe reader."""
    if unpackable:
        raise InputError(
            _(
                "{path}: “{name}” is a link or a special file, which packages cannot hold; "
                "replace it with a regular file or add it to .aicignore."
            ).format(path=root, name=unpackable[0])
        )
    for name, problem in unpackable_names(files):
        raise InputError(
            _("{path}: “{name}” cannot go in a package: {problem}.").format(
                path=root, name=name, problem=problem
            )
        )


def unpackable_names(files: list[PluginFile]) -> Iterator[tuple[str, str]]:
    """Each file name the safe reader would refuse, with the reason."""
    seen: dict[str, str] = {}
    for item in files:
        problem = entry_name_problem(item.path)
        if item.path == SUMS_NAME:
            problem = _("the name is kept for the package's checksum list")
        other = seen.setdefault(collision_key(item.path), item.path)
        if other != item.path:
            problem = _("the name collides with “{other}” on some systems").format(other=other)
        if problem:
            yield item.path, problem


def _entry(name: str, stamp: Stamp, method: int, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = method
    info._compresslevel = DEFLATE_LEVEL  # type: ignore[attr-defined]  # ZipFile.open(info, "w") reads it
    info.create_system = 3  # Unix, so the permission bits below mean the same everywhere
    info.external_attr = FILE_MODE
    info.file_size = size  # lets zipfile choose ZIP64 up front for huge files
    return info


def _write_zip(
    out: BinaryIO,
    files: list[PluginFile],
    stamp: Stamp,
    *,
    progress: Progress,
    cancel: CancelToken,
) -> bytes:
    """Stream every file into the archive, hashing as it goes; return the SHA256SUMS text."""
    total = sum(item.size for item in files)
    done = 0
    lines = []
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        for item in files:
            cancel.raise_if_cancelled()
            method = compress_type(item)
            info = _entry(item.path, stamp, method, item.size)
            digest = hashlib.sha256()
            read = 0
            with open(item.source, "rb") as source, archive.open(info, "w") as target:
                while chunk := source.read(CHUNK):
                    cancel.raise_if_cancelled()
                    digest.update(chunk)
                    target.write(chunk)
                    read += len(chunk)
                    done += len(chunk)
                    progress(done, total, item.path)
            if read != item.size:
                raise InputError(
                    _("{path} changed while it was being packed; pack again.").format(
                        path=item.source
                    )
                )
            _refuse_bomb_lookalike(item, info)
            lines.append(f"{digest.hexdigest()}  {item.path}\n")
        sums = "".join(lines).encode("utf-8")
        archive.writestr(_entry(SUMS_NAME, stamp, zipfile.ZIP_DEFLATED, len(sums)), sums)
    return sums


def _refuse_bomb_lookalike(item: PluginFile, info: zipfile.ZipInfo) -> None:
    limits = DEFAULT_LIMITS
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
        raise InputError(
            _(
                "{path} compresses {ratio:.0f} times; packages that expand that much are refused "
                "as zip bombs. Add it to .aicignore and create it when the plugin starts."
            ).format(path=item.source, ratio=ratio)
        )


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; Windows has no folder handles to sync)."""
    if os.name != "posix":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
