"""Plugin packages opened as hostile input, in one place the client and the sandbox server share.

Only the standard library and portal's errors, i18n and cancel helpers are imported here (an
import-linter contract keeps it so), so `portal.sandbox` can check uploads with the same code.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from portal.cancel import CancelToken, Progress, no_progress
from portal.errors import InputError
from portal.i18n import _

CHUNK = 1 << 20
MAX_NAME_LENGTH = 1024
MAX_DEPTH = 32
METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_EOCD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Limits:
    """How much a package may hold before it is refused as a bomb or an abuse of the reader."""

    max_entries: int = 50_000
    max_total_bytes: int = 4 << 30
    max_ratio: float = 250.0
    ratio_floor: int = 1 << 20  # smaller entries may compress as well as they like


DEFAULT_LIMITS = Limits()


class UnsafeArchiveError(InputError):
    """A package was refused; the message names the archive, the entry and the reason."""


@dataclass(frozen=True)
class Entry:
    """One entry of a package that passed every check."""

    name: str
    size: int
    compressed_size: int
    method: str
    is_dir: bool


_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in "123456789¹²³"}
)


def entry_name_problem(name: str) -> str | None:
    """Why `name` cannot be a path inside a package on every operating system, or None."""
    parts = (name[:-1] if name.endswith("/") else name).split("/")
    problem = None
    if not name.strip("/"):
        problem = _("the name is empty")
    elif len(name) > MAX_NAME_LENGTH:
        problem = _("the name is longer than {n} characters").format(n=MAX_NAME_LENGTH)
    elif _CONTROL.search(name):
        problem = _("the name contains control characters")
    elif "\\" in name:
        problem = _("the name contains a backslash")
    elif name.startswith("/"):
        problem = _("the name is an absolute path")
    elif _DRIVE.match(name):
        problem = _("the name starts with a drive letter")
    elif ":" in name:
        problem = _("the name contains a colon (a Windows stream or drive)")
    elif ".." in parts:
        problem = _("the name climbs out of its folder with “..”")
    elif any(part in ("", ".") for part in parts):
        problem = _("the name has an empty or “.” part")
    elif len(parts) > MAX_DEPTH:
        problem = _("the name is nested more than {n} folders deep").format(n=MAX_DEPTH)
    elif any(part.split(".")[0].upper() in _WINDOWS_DEVICES for part in parts):
        problem = _("the name is a Windows device (such as CON, NUL or COM1)")
    elif any(part.endswith((".", " ")) for part in parts):
        problem = _("the name has a part ending in a dot or a space, which Windows drops")
    return problem


def collision_key(name: str) -> str:
    """The form two names share when a case-insensitive, normalising file system merges them."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold()).rstrip("/")


class SafeArchive:
    """An opened package whose entries all passed the checks; read them with `chunks`."""

    def __init__(self, path: Path, handle: BinaryIO, archive: zipfile.ZipFile) -> None:
        self.path = path
        self._handle = handle
        self._zip = archive
        self._infos = {info.filename: info for info in archive.infolist()}
        self.entries = [
            Entry(
                info.filename,
                info.file_size,
                info.compress_size,
                METHODS[info.compress_type],
                info.is_dir(),
            )
            for info in archive.infolist()
        ]

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file."""
        self._zip.close()
        self._handle.close()

    def chunks(self, name: str, *, cancel: CancelToken | None = None) -> Iterator[bytes]:
        """The entry's bytes, checked against its declared size and CRC-32 as they stream."""
        info = self._infos[name]
        seen = 0
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(CHUNK):
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    seen += len(chunk)
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise self._refuse(
                name, _("its content is damaged or was changed ({problem})"), problem=exc
            ) from exc
        if seen != info.file_size:
            raise self._refuse(
                name,
                _("it holds {seen} bytes, not the {declared} the archive declares"),
                seen=seen,
                declared=info.file_size,
            )

    def read(self, name: str, *, max_bytes: int) -> bytes:
        """A small entry whole (a manifest, a checksum list), refused when over `max_bytes`."""
        if self._infos[name].file_size > max_bytes:
            raise self._refuse(name, _("it is larger than {n} bytes"), n=max_bytes)
        return b"".join(self.chunks(name))

    def _refuse(self, name: str, reason: str, **values: object) -> UnsafeArchiveError:
        return _refusal(self.path, name, reason.format(**values))


def _refusal(path: Path, name: str, reason: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        _("The package {path} is refused: entry “{entry}”: {reason}.").format(
            path=path, entry=name, reason=reason
        )
    )


def open_archive(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> SafeArchive:
    """Open a package that came from anywhere, refusing it before any entry is used."""
    try:
        handle: BinaryIO = open(path, "rb")
    except OSError as exc:
        raise InputError(
            _("The package {path} cannot be read: {problem}").format(
                path=path, problem=exc.strerror or exc
            )
        ) from exc
    try:
        declared = _declared_entries(handle)
        if declared is not None and declared > limits.max_entries:
            raise _too_many(path, declared, limits)
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError, OSError) as exc:
            raise UnsafeArchiveError(
                _(
                    "{path} is not a plugin package: it is not a readable ZIP archive ({problem})."
                ).format(path=path, problem=exc)
            ) from exc
        try:
            _check(path, handle, archive, limits)
        except BaseException:
            archive.close()
            raise
    except BaseException:
        handle.close()
        raise
    return SafeArchive(path, handle, archive)


def _too_many(path: Path, count: int, limits: Limits) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        _(
            "The package {path} is refused: it has {count} entries, more than the {limit} allowed."
        ).format(path=path, count=count, limit=limits.max_entries)
    )


def _declared_entries(handle: BinaryIO) -> int | None:
    """The entry count the end record declares, read before zipfile builds its list of them."""
    size = handle.seek(0, os.SEEK_END)
    tail_start = max(0, size - _EOCD.size - 0xFFFF)
    handle.seek(tail_start)
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return None
    count = _EOCD.unpack_from(tail, at)[4]
    locator_at = at - _ZIP64_LOCATOR.size
    if count == 0xFFFF and locator_at >= 0 and tail[locator_at : locator_at + 4] == b"PK\x06\x07":
        handle.seek(_ZIP64_LOCATOR.unpack_from(tail, locator_at)[2])
        record = handle.read(_ZIP64_EOCD.size)
        if len(record) == _ZIP64_EOCD.size and record[:4] == b"PK\x06\x06":
            return int(_ZIP64_EOCD.unpack(record)[7])
    return int(count)


def _check(path: Path, handle: BinaryIO, archive: zipfile.ZipFile, limits: Limits) -> None:
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise _too_many(path, len(infos), limits)
    seen: dict[str, str] = {}
    folders: set[str] = set()
    total = 0
    for info in infos:
        name = info.orig_filename  # before zipfile cuts it at a NUL or turns backslashes round
        reason = entry_name_problem(name) or _entry_problem(info, limits)
        if reason:
            raise _refusal(path, name, reason)
        key = collision_key(name)
        other = seen.get(key)
        if other is not None:
            if other == name:
                reason = _("it appears twice")
            elif unicodedata.normalize("NFC", other) == unicodedata.normalize("NFC", name):
                reason = _("it is the same name as “{other}” once Unicode is normalised (NFC)")
            else:
                reason = _("it is the same name as “{other}” when case is ignored")
            raise _refusal(path, name, reason.format(other=other))
        seen[key] = name
        parts = key.split("/")
        folders.update("/".join(parts[:n]) for n in range(1, len(parts)))
        total += info.file_size
        if total > limits.max_total_bytes:
            raise _refusal(
                path,
                name,
                _("together the entries unpack to more than {n} bytes").format(
                    n=limits.max_total_bytes
                ),
            )
    for info in infos:
        if not info.is_dir() and collision_key(info.filename) in folders:
            raise _refusal(path, info.filename, _("it is both a file and a folder"))
    _check_layout(path, handle, archive)


def _entry_problem(info: zipfile.ZipInfo, limits: Limits) -> str | None:
    """What is wrong with one central-directory record on its own, or None."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    kinds = {
        stat.S_IFLNK: _("it is a symbolic link"),
        stat.S_IFCHR: _("it is a device file"),
        stat.S_IFBLK: _("it is a device file"),
        stat.S_IFIFO: _("it is a named pipe"),
        stat.S_IFSOCK: _("it is a socket"),
    }
    if info.flag_bits & 0x1:
        return _("it is encrypted, which packages never are")
    if info.compress_type not in METHODS:
        return _("it uses compression method {method}; only stored and deflated are read").format(
            method=info.compress_type
        )
    if kind in kinds:
        return kinds[kind]
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return _("it is not a regular file (type {kind:o})").format(kind=kind)
    if info.is_dir() and info.file_size:
        return _("it is a folder that claims to hold data")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
        return _("it expands {ratio:.0f} times, the mark of a zip bomb").format(ratio=ratio)
    return None


def _check_layout(path: Path, handle: BinaryIO, archive: zipfile.ZipFile) -> None:
    """Each local header agrees with the central directory and no two entries share bytes."""
    end = getattr(archive, "start_dir", None)
    spans = []
    for info in archive.infolist():
        handle.seek(info.header_offset)
        raw = handle.read(_LOCAL.size)
        if len(raw) < _LOCAL.size or raw[:4] != b"PK\x03\x04":
            raise _refusal(path, info.filename, _("its local header is missing"))
        fields = _LOCAL.unpack(raw)
        flags, crc, packed, size, name_length, extra_length = (
            fields[2],
            fields[6],
            fields[7],
            fields[8],
            fields[9],
            fields[10],
        )
        raw_name = handle.read(name_length)
        local_name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        if local_name != info.orig_filename:
            raise _refusal(
                path,
                info.filename,
                _("its local header names it “{other}”").format(other=local_name),
            )
        declared = (crc, packed, size)
        if not flags & 0x8 and 0xFFFFFFFF not in (packed, size):
            if declared != (info.CRC, info.compress_size, info.file_size):
                raise _refusal(
                    path,
                    info.filename,
                    _("its local header and the central directory disagree about its size"),
                )
        start = info.header_offset
        stop = start + _LOCAL.size + name_length + extra_length + info.compress_size
        if end is not None and stop > end:
            raise _refusal(path, info.filename, _("its data runs past the end of the entries"))
        spans.append((start, stop, info.filename))
    spans.sort()
    for (_start, stop, first), (start, _stop, second) in itertools.pairwise(spans):
        if start < stop:
            raise _refusal(
                path,
                second,
                _(
                    "it shares its data with “{other}” (a hard link or an overlapping-entry bomb)"
                ).format(other=first),
            )


def extract_archive(
    path: Path,
    destination: Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> list[Path]:
    """Unpack a package into a new folder; on any refusal or cancel, nothing is left behind."""
    destination = destination.absolute()
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise InputError(
            _("The folder {path} must be empty or not exist yet.").format(path=destination)
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open_archive(path, limits=limits) as archive:
        staging = Path(
            tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
        )
        written = []
        try:
            total = sum(entry.size for entry in archive.entries)
            done = 0
            for entry in archive.entries:
                target = staging.joinpath(*entry.name.rstrip("/").split("/"))
                if os.path.commonpath([staging, target]) != str(staging):
                    raise _refusal(path, entry.name, _("it would land outside the folder"))
                if entry.is_dir:
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                with os.fdopen(
                    os.open(target, flags | getattr(os, "O_BINARY", 0), 0o644), "wb"
                ) as out:
                    for chunk in archive.chunks(entry.name, cancel=cancel):
                        out.write(chunk)
                        done += len(chunk)
                        progress(done, total, entry.name)
                written.append(destination / target.relative_to(staging))
            os.chmod(staging, 0o755)  # mkdtemp made it private; the files inside are 0644
            if destination.exists():
                destination.rmdir()
            os.replace(staging, destination)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return written
