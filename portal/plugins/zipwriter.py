"""ZIP records made by hand, so packing can compress entries in parallel and hash what it writes.

The layout is the one `zipfile` writes to a seekable file: a local header with the real CRC and
sizes (no data descriptors), the data, then the central directory; ZIP64 fields only where a
size, an offset or the entry count needs them (APPNOTE 6.3.10, sections 4.3 and 4.5.3).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import NamedTuple

STORED = 0
DEFLATED = 8
ZIP64_LIMIT = 0xFFFFFFFF  # a 32-bit field holding this means "see the ZIP64 extra field"
COUNT_LIMIT = 0xFFFF
FILE_ATTRIBUTES = 0o100644 << 16  # a regular file, rw-r--r--, whoever packs it
_UNIX = 3
_VERSION = 20  # deflate
_ZIP64_VERSION = 45
_UTF8 = 0x800
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sBBHHHHHIIIHHHHHII")
_ZIP64_END = struct.Struct("<4sQHHIIQQQQ")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_END = struct.Struct("<4sHHHHIIH")

Stamp = tuple[int, int, int, int, int, int]


class Record(NamedTuple):
    """One entry as the central directory lists it (a tuple: packing makes one per file)."""

    name: str
    method: int
    crc: int
    compressed_size: int
    size: int
    offset: int
    zip64: bool  # whether its local header carries the ZIP64 sizes


def dos_time(stamp: Stamp) -> tuple[int, int]:
    """The MS-DOS (time, date) pair a ZIP entry stores; it counts years 1980 to 2107."""
    year, month, day, hour, minute, second = stamp
    return hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day


def deflate_bound(size: int) -> int:
    """The most bytes zlib's raw deflate can turn `size` bytes into (its deflateBound)."""
    return size + (size >> 12) + (size >> 14) + (size >> 25) + 7


def _encoded(name: str) -> tuple[bytes, int]:
    """The name's bytes and flags: ASCII as is, anything else UTF-8 with bit 11 set."""
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8


def local_header(
    name: str,
    *,
    method: int,
    crc: int,
    compressed_size: int,
    size: int,
    when: tuple[int, int],
    zip64: bool = False,
) -> bytes:
    """The bytes before an entry's data; `zip64` forces the ZIP64 sizes (a size known later)."""
    raw, flags = _encoded(name)
    extra = b""
    if zip64 or needs_zip64(size, compressed_size):
        extra = struct.pack("<HHQQ", 1, 16, size, compressed_size)
        size = compressed_size = ZIP64_LIMIT
    version = _ZIP64_VERSION if extra else _VERSION
    fields = (b"PK\x03\x04", version, flags, method, *when, crc, compressed_size, size)
    return _LOCAL.pack(*fields, len(raw), len(extra)) + raw + extra


def needs_zip64(size: int, compressed_size: int) -> bool:
    """Whether an entry's sizes do not fit the 32-bit fields."""
    return max(size, compressed_size) >= ZIP64_LIMIT


def central_directory(records: Iterable[Record], *, start: int, when: tuple[int, int]) -> bytes:
    """The central directory for entries written before `start`, and the end records after it."""
    parts = []
    count = 0
    for record in records:
        raw, flags = _encoded(record.name)
        values = [record.size, record.compressed_size, record.offset]
        wide = [value for value in values if value >= ZIP64_LIMIT]
        extra = struct.pack(f"<HH{len(wide)}Q", 1, 8 * len(wide), *wide) if wide else b""
        size, packed, offset = (min(value, ZIP64_LIMIT) for value in values)
        version = _ZIP64_VERSION if wide or record.zip64 else _VERSION
        parts.append(
            _CENTRAL.pack(
                b"PK\x01\x02",
                version,
                _UNIX,
                version,
                flags,
                record.method,
                *when,
                record.crc,
                packed,
                size,
                len(raw),
                len(extra),
                0,
                0,
                0,
                FILE_ATTRIBUTES,
                offset,
            )
            + raw
            + extra
        )
        count += 1
    directory = b"".join(parts)
    end = start + len(directory)
    if count >= COUNT_LIMIT or start >= ZIP64_LIMIT or len(directory) >= ZIP64_LIMIT:
        version = _ZIP64_VERSION
        directory += _ZIP64_END.pack(
            b"PK\x06\x06", 44, version, version, 0, 0, count, count, len(directory), start
        )
        directory += _ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, end, 1)
    counted = min(count, COUNT_LIMIT)
    sizes = (min(end - start, ZIP64_LIMIT), min(start, ZIP64_LIMIT))
    return directory + _END.pack(b"PK\x05\x06", 0, 0, counted, counted, *sizes, 0)
