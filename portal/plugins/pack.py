"""Reproducible .aicpkg packages: the same tree gives the same bytes, in any folder, on any day.

Small files are read, hashed and deflated (libdeflate) by a few worker threads, a batch at a
time, while the calling thread copies the big stored files, scanned ahead, right after the
manifest; it writes the entries in a fixed order and a thread of its own hashes the package as it
goes out, so the bytes depend neither on how many workers there were nor on which finished first.
The central directory lists the entries in package order: the manifest, then by path.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import deflate

from portal.cancel import CancelToken, Progress
from portal.errors import InputError, StorageError
from portal.i18n import _
from portal.plugins.document import load_manifest
from portal.plugins.files import PluginFile, plugin_tree
from portal.plugins.manifest import MANIFEST_NAME, StandardPlugin
from portal.plugins.safezip import DEFAULT_LIMITS, collision_key, entry_name_problem
from portal.plugins.zipwriter import (
    DEFLATED,
    STORED,
    Record,
    central_directory,
    deflate_bound,
    dos_time,
    local_header,
    needs_zip64,
)

SUMS_NAME = "SHA256SUMS"
PACKAGE_SUFFIX = ".aicpkg"
CHUNK = 1 << 20  # files up to this size are read whole; bigger ones stream in blocks of it
ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a ZIP entry can carry
ZIP_END = 4354819199  # 2107-12-31T23:59:59Z, the latest
SAMPLE_BYTES = 4 * 1024  # how much of a big file tells text from noise
STORE_ABOVE_RATIO = 0.9  # a file (or a big file's sample) that deflates to more is stored
# Fast deflate: libdeflate's level 1 (files read whole) is ~2.3x zlib's level 1 and 6% smaller
# on text; zlib's level 1 streams the files too big to read whole. Both are deterministic.
DEFLATE_LEVEL = 1
# Already compressed, or noise to deflate: weights, images, media, archives.
STORED_SUFFIXES = frozenset(
    {
        ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".gguf", ".h5", ".tflite",
        ".npz", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".mp3", ".mp4", ".ogg",
        ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".whl", ".aicpkg", ".jar",
    }
)  # fmt: skip
BATCH_BYTES = 1 << 20  # small files go to a worker in batches of about this much
AHEAD_BYTES = 64 << 20  # what batches made (or will read) ahead of the writer: flat memory
MAX_WORKERS = 8
HASH_AHEAD = 3  # blocks written but not yet hashed, at most
FLUSH_EVERY = 64 << 20  # bytes written between background fsyncs, so the last one is short


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
        seconds = int(raw)
    except ValueError:
        raise InputError(
            _("SOURCE_DATE_EPOCH must be a number of seconds, not “{value}”.").format(value=raw)
        ) from None
    if seconds > ZIP_END:
        raise InputError(_("SOURCE_DATE_EPOCH is after 2107, the last year a ZIP entry can carry."))
    return max(ZIP_EPOCH, seconds)


def compress_type(item: PluginFile) -> int:
    """How a big file is stored: by its suffix, then by whether a sample of it deflates."""
    if item.size == 0 or _dense_by_name(item):
        return STORED
    with open(item.location, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    return STORED if _dense(sample, _deflate(sample)) else DEFLATED


def _dense_by_name(item: PluginFile) -> bool:
    return os.path.splitext(item.path)[1].lower() in STORED_SUFFIXES


def _dense(data: bytes, deflated: bytes | bytearray) -> bool:
    return len(deflated) > STORE_ABOVE_RATIO * len(data)


def _deflate(data: bytes) -> bytearray:
    """Raw deflate of a whole buffer with the pinned libdeflate: same bytes on every machine."""
    return deflate.deflate_compress(data, DEFLATE_LEVEL)


def default_workers() -> int:
    """One worker per CPU this process may use, up to MAX_WORKERS."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(count or 1, MAX_WORKERS))


def pack_plugin(
    root: Path,
    output: Path,
    *,
    progress: Progress,
    cancel: CancelToken,
    epoch: int | None = None,
    workers: int | None = None,
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
        with os.fdopen(handle, "w+b") as out, _Sink(out) as sink:
            sums = _write_zip(
                sink,
                ordered,
                dos_time(stamp),
                progress=progress,
                cancel=cancel,
                workers=workers or default_workers(),
            )
            digest = sink.hexdigest()
            sink.sync()
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
        digest,
        sink.position,
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


class _Sink:
    """The package file being written, and the SHA-256 of its bytes, taken as they go out.

    A thread of its own hashes what was written, in order, while the next bytes are read.
    """

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._digest = hashlib.sha256()
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack-digest")
        self._hashing: deque[Future[None]] = deque()
        self._flusher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack-sync")
        self._flushing: Future[None] | None = None
        self._unflushed = 0
        self._held: int | None = None
        self.position = 0

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self._hasher.shutdown(wait=True, cancel_futures=True)
        self._flusher.shutdown(wait=True)

    def write(self, data: bytes | bytearray) -> None:
        """Append to the package (and to its digest, unless a header is waiting for a patch)."""
        self._out.write(data)
        self.position += len(data)
        if self._held is None:
            self._hashing.append(self._hasher.submit(self._digest.update, data))
            if len(self._hashing) > HASH_AHEAD:
                self._hashing.popleft().result()
        self._unflushed += len(data)
        if self._unflushed >= FLUSH_EVERY and (self._flushing is None or self._flushing.done()):
            self._out.flush()
            self._flushing = self._flusher.submit(os.fsync, self._out.fileno())
            self._unflushed = 0

    def sync(self) -> None:
        """Make the whole package durable; most of it went to the disk while it was written."""
        self._out.flush()
        if self._flushing is not None:
            self._flushing.result()
        os.fsync(self._out.fileno())

    def hold(self) -> None:
        """Stop hashing here: the header about to be written is rewritten later."""
        self._held = self.position

    def patch(self, header: bytes) -> None:
        """Rewrite the held header in place, then hash everything from it as it now reads."""
        assert self._held is not None
        self._drain()
        self._out.seek(self._held)
        self._out.write(header)
        self._out.seek(self._held)
        left = self.position - self._held
        while left:
            chunk = self._out.read(min(CHUNK, left))
            if not chunk:
                raise OSError(_("the package file is shorter than what was written to it"))
            self._digest.update(chunk)
            left -= len(chunk)
        self._held = None

    def hexdigest(self) -> str:
        """The package's SHA-256, once every byte written is hashed."""
        self._drain()
        return self._digest.hexdigest()

    def _drain(self) -> None:
        while self._hashing:
            self._hashing.popleft().result()


@dataclass(frozen=True)
class _Packed:
    """A batch of small files as finished entries: their bytes, records and SHA-256s."""

    data: bytes
    records: list[Record]  # offsets within `data`
    sums: list[tuple[str, str]]  # path, SHA-256
    size: int


@dataclass(frozen=True)
class _Scan:
    """What the first pass over a big stored file found: its CRC-32 and SHA-256."""

    crc: int
    sha256: str


class _Batches:
    """Batches handed to the workers, in file order, and the bytes they hold for the writer."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        waiting: Iterator[list[PluginFile]],
        work: Callable[[list[PluginFile]], _Packed],
    ) -> None:
        self._pool = pool
        self._waiting = waiting
        self._work = work
        self._queue: deque[Future[_Packed]] = deque()
        self._lock = threading.Lock()
        self._held = 0  # what finished batches made, and what unfinished ones will read

    def top_up(self) -> None:
        """Keep the workers busy, as long as what they made and the writer did not take is small."""
        while self._held < AHEAD_BYTES and (batch := next(self._waiting, None)) is not None:
            size = sum(item.size for item in batch)
            with self._lock:
                self._held += size
            future = self._pool.submit(self._work, batch)
            future.add_done_callback(functools.partial(self._finished, size))
            self._queue.append(future)

    def next(self) -> _Packed:
        """The next batch in file order, once a worker has made it."""
        packed = self._queue.popleft().result()
        with self._lock:
            self._held -= len(packed.data)
        return packed

    def _finished(self, size: int, future: Future[_Packed]) -> None:
        made = size if future.cancelled() or future.exception() else len(future.result().data)
        with self._lock:
            self._held += made - size


Halt = Callable[[], None]  # raises Cancelled when the work should stop
Advance = Callable[[int, str], None]  # bytes of a file just written, and its path


def _layout(files: list[PluginFile]) -> list[PluginFile]:
    """Where the entries lie: the manifest, big stored files, then the rest in package order.

    Big stored files come early so they are copied while workers deflate the small files; the
    central directory (what every reader lists) keeps package order.
    """
    big = {item.path for item in files[1:] if item.size > CHUNK and _dense_by_name(item)}
    return (
        files[:1]
        + [i for i in files if i.path in big]
        + [i for i in files[1:] if i.path not in big]
    )


def _plan(files: list[PluginFile]) -> list[list[PluginFile] | PluginFile]:
    """Files in file order: runs of small ones grouped into batches, big ones on their own."""
    units: list[list[PluginFile] | PluginFile] = []
    batch: list[PluginFile] = []
    size = 0
    for item in files:
        if item.size > CHUNK:
            if batch:
                units.append(batch)
                batch, size = [], 0
            units.append(item)
            continue
        batch.append(item)
        size += item.size
        if size >= BATCH_BYTES or item.path == MANIFEST_NAME:
            units.append(batch)
            batch, size = [], 0
    if batch:
        units.append(batch)
    return units


def _write_zip(
    sink: _Sink,
    files: list[PluginFile],
    when: tuple[int, int],
    *,
    progress: Progress,
    cancel: CancelToken,
    workers: int,
) -> bytes:
    """Write every entry, then SHA256SUMS and the central directory; return SHA256SUMS."""
    stop = CancelToken()  # set when the writer gives up, so the workers do too

    def halt() -> None:
        cancel.raise_if_cancelled()
        stop.raise_if_cancelled()

    units = _plan(_layout(files))
    total = sum(item.size for item in files)
    done = 0
    records: dict[str, Record] = {}
    sums: dict[str, str] = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pack")
    batches = _Batches(
        pool,
        (unit for unit in units if isinstance(unit, list)),
        functools.partial(_pack_batch, when=when, halt=halt),
    )

    def advance(size: int, path: str) -> None:
        nonlocal done
        done += size
        progress(done, total, path)
        batches.top_up()

    try:
        scans = {
            unit.path: pool.submit(_scan, unit, halt)
            for unit in units
            if isinstance(unit, PluginFile) and _dense_by_name(unit)
        }
        for unit in units:
            cancel.raise_if_cancelled()
            batches.top_up()
            if isinstance(unit, PluginFile):
                scan = scans.get(unit.path)
                if scan is not None:
                    record, digest = _write_stored(sink, unit, when, scan.result(), halt, advance)
                else:
                    record, digest = _write_streamed(sink, unit, when, halt, advance)
                records[unit.path], sums[unit.path] = record, digest
                continue
            packed = batches.next()
            base = sink.position
            sink.write(packed.data)
            records.update((r.name, r._replace(offset=r.offset + base)) for r in packed.records)
            sums.update(packed.sums)
            advance(packed.size, unit[-1].path)
        cancel.raise_if_cancelled()
    finally:
        stop.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
    text = "".join(f"{sums[item.path]}  {item.path}\n" for item in files).encode("utf-8")
    packed_text = _deflate(text)
    crc = deflate.crc32(text)
    listed = [records[item.path] for item in files]
    listed.append(_record(SUMS_NAME, DEFLATED, crc, len(packed_text), len(text), sink.position))
    sink.write(_header(listed[-1], when) + packed_text)
    sink.write(central_directory(listed, start=sink.position, when=when))
    return text


def _record(name: str, method: int, crc: int, packed: int, size: int, offset: int) -> Record:
    return Record(name, method, crc, packed, size, offset, needs_zip64(size, packed))


def _header(record: Record, when: tuple[int, int]) -> bytes:
    return local_header(
        record.name,
        method=record.method,
        crc=record.crc,
        compressed_size=record.compressed_size,
        size=record.size,
        when=when,
        zip64=record.zip64,
    )


def _changed(item: PluginFile) -> InputError:
    return InputError(
        _("{path} changed while it was being packed; pack again.").format(path=item.source)
    )


def _pack_batch(files: list[PluginFile], *, when: tuple[int, int], halt: Halt) -> _Packed:
    """Read, hash and deflate small files whole (on a worker); store what does not shrink."""
    parts: list[bytes | bytearray] = []
    records: list[Record] = []
    sums: list[tuple[str, str]] = []
    offset = 0
    for item in files:
        halt()
        data = _read_whole(item)
        method = STORED
        payload: bytes | bytearray = data
        if data and not _dense_by_name(item):
            deflated = _deflate(data)
            if not _dense(data, deflated):
                method, payload = DEFLATED, deflated
        record = _record(item.path, method, deflate.crc32(data), len(payload), len(data), offset)
        header = _header(record, when)
        parts += (header, payload)
        records.append(record)
        sums.append((item.path, hashlib.sha256(data).hexdigest()))
        offset += len(header) + len(payload)
    return _Packed(b"".join(parts), records, sums, sum(item.size for item in files))


def _read_whole(item: PluginFile) -> bytes:
    """A small file's bytes (one read when it has the size the walk saw), or an error."""
    handle = os.open(item.location, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        data = os.read(handle, item.size + 1)
        while len(data) < item.size and (more := os.read(handle, item.size + 1 - len(data))):
            data += more
    finally:
        os.close(handle)
    if len(data) != item.size:
        raise _changed(item)
    return data


def _scan(item: PluginFile, halt: Halt) -> _Scan:
    """First pass over a big stored file (on a worker): its CRC-32 for the header, and SHA-256."""
    digest = hashlib.sha256()
    crc = 0
    read = 0
    with open(item.location, "rb", buffering=0) as source:
        while chunk := source.read(CHUNK):
            halt()
            digest.update(chunk)
            crc = deflate.crc32(chunk, crc)
            read += len(chunk)
    if read != item.size:
        raise _changed(item)
    return _Scan(crc, digest.hexdigest())


def _write_stored(
    sink: _Sink,
    item: PluginFile,
    when: tuple[int, int],
    scan: _Scan,
    halt: Halt,
    advance: Advance,
) -> tuple[Record, str]:
    """Copy a big stored file after its scan; its bytes must still have the scanned CRC-32."""
    record = _record(item.path, STORED, scan.crc, item.size, item.size, sink.position)
    sink.write(_header(record, when))
    crc = 0
    read = 0
    with open(item.location, "rb", buffering=0) as source:
        while read <= item.size and (chunk := source.read(CHUNK)):
            halt()
            crc = deflate.crc32(chunk, crc)
            sink.write(chunk)
            read += len(chunk)
            advance(len(chunk), item.path)
    if read != item.size or crc != scan.crc:
        raise _changed(item)
    return record, scan.sha256


def _write_streamed(
    sink: _Sink,
    item: PluginFile,
    when: tuple[int, int],
    halt: Halt,
    advance: Advance,
) -> tuple[Record, str]:
    """Stream a big file through deflate (or store it, if its sample says so), then patch its
    header with the CRC-32 and sizes now known."""
    method = compress_type(item)
    zip64 = needs_zip64(item.size, deflate_bound(item.size))
    start = sink.position
    header = _header(Record(item.path, method, 0, 0, item.size, start, zip64), when)
    sink.hold()
    sink.write(header)
    digest = hashlib.sha256()
    packer = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
    crc = 0
    read = 0
    with open(item.location, "rb", buffering=0) as source:
        while read <= item.size and (chunk := source.read(CHUNK)):
            halt()
            digest.update(chunk)
            crc = deflate.crc32(chunk, crc)
            sink.write(packer.compress(chunk) if method == DEFLATED else chunk)
            read += len(chunk)
            advance(len(chunk), item.path)
    if method == DEFLATED:
        sink.write(packer.flush())
    if read != item.size:
        raise _changed(item)
    packed = sink.position - start - len(header)
    record = Record(item.path, method, crc, packed, item.size, start, zip64)
    _refuse_bomb_lookalike(item, record)
    sink.patch(_header(record, when))
    return record, digest.hexdigest()


def _refuse_bomb_lookalike(item: PluginFile, record: Record) -> None:
    limits = DEFAULT_LIMITS
    ratio = record.size / max(record.compressed_size, 1)
    if record.size > limits.ratio_floor and ratio > limits.max_ratio:
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
