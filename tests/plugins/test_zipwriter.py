"""Hand-made ZIP records as zipfile, unzip and the safe reader see them, ZIP64 included."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from portal.plugins.safezip import Limits, UnsafeArchiveError, open_archive
from portal.plugins.zipwriter import (
    COUNT_LIMIT,
    DEFLATED,
    STORED,
    ZIP64_LIMIT,
    Record,
    central_directory,
    dos_time,
    local_header,
    needs_zip64,
)

WHEN = dos_time((2023, 11, 14, 22, 13, 20))


def _entry(name: str, data: bytes, offset: int, *, method: int = STORED) -> tuple[bytes, Record]:
    payload = data
    if method == DEFLATED:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        payload = packer.compress(data) + packer.flush()
    record = Record(name, method, zlib.crc32(data), len(payload), len(data), offset, False)
    header = local_header(
        name, method=method, crc=record.crc, compressed_size=len(payload), size=len(data), when=WHEN
    )
    return header + payload, record


def _unzip_test(path: Path) -> None:
    if shutil.which("unzip") is None:
        print("unzip is not installed: the archive was checked with zipfile only")
        return
    done = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_small_archive_reads_back_like_one_zipfile_wrote(tmp_path: Path) -> None:
    out = io.BytesIO()
    records = []
    for name, data, method in (
        ("plugin.yaml", b"name: x\n" * 20, DEFLATED),
        ("données/été.txt", "é".encode() * 100, DEFLATED),
        ("empty", b"", STORED),
    ):
        blob, record = _entry(name, data, out.tell(), method=method)
        out.write(blob)
        records.append(record)
    out.write(central_directory(records, start=out.tell(), when=WHEN))
    path = tmp_path / "small.zip"
    path.write_bytes(out.getvalue())
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["plugin.yaml", "données/été.txt", "empty"]
        assert archive.read("données/été.txt") == "é".encode() * 100
    assert {i.date_time for i in infos} == {(2023, 11, 14, 22, 13, 20)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert {(i.create_system, i.create_version, i.extract_version) for i in infos} == {(3, 20, 20)}
    assert [i.flag_bits for i in infos] == [0, 0x800, 0]  # UTF-8 flag only where needed
    assert all(not i.extra for i in infos)
    with open_archive(path) as safe:
        assert [e.method for e in safe.entries] == ["deflated", "deflated", "stored"]
    _unzip_test(path)


def test_more_entries_than_the_end_record_counts_take_a_zip64_end_record(tmp_path: Path) -> None:
    count = COUNT_LIMIT + 10
    out = io.BytesIO()
    records = []
    for n in range(count):
        blob, record = _entry(f"f/{n:06d}", b"", out.tell())
        out.write(blob)
        records.append(record)
    out.write(central_directory(records, start=out.tell(), when=WHEN))
    path = tmp_path / "many.zip"
    path.write_bytes(out.getvalue())
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert len(names) == count and names[-1] == f"f/{count - 1:06d}"
    with pytest.raises(UnsafeArchiveError, match=f"it has {count} entries"):
        open_archive(path)  # the safe reader sees the real count through the ZIP64 record
    _unzip_test(path)


def test_an_entry_past_4_gib_gets_a_zip64_offset(tmp_path: Path) -> None:
    path = tmp_path / "far.zip"
    first, first_record = _entry("plugin.yaml", b"name: x\n", 0)
    far = ZIP64_LIMIT + 1000  # everything between is a hole in a sparse file
    second, second_record = _entry("far.txt", b"far away\n" * 50, far, method=DEFLATED)
    with open(path, "wb") as out:
        out.write(first)
        out.seek(far)
        out.write(second)
        out.write(central_directory([first_record, second_record], start=out.tell(), when=WHEN))
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("far.txt")
        assert info.header_offset == far
        assert info.extract_version == 45
        assert archive.read("far.txt") == b"far away\n" * 50
    with open_archive(path) as safe:
        assert b"".join(safe.chunks("far.txt")) == b"far away\n" * 50
    _unzip_test(path)


def test_sizes_past_4_gib_go_in_zip64_fields_in_both_headers(tmp_path: Path) -> None:
    size = ZIP64_LIMIT + 5
    assert needs_zip64(size, size) and needs_zip64(ZIP64_LIMIT, 0) and not needs_zip64(1, 1)
    header = local_header(
        "huge.bin", method=STORED, crc=0, compressed_size=size, size=size, when=WHEN
    )
    fields = struct.unpack_from("<4sHHHHHIIIHH", header)
    assert fields[1] == 45 and fields[7:9] == (ZIP64_LIMIT, ZIP64_LIMIT)
    assert header[30 + len("huge.bin") :] == struct.pack("<HHQQ", 1, 16, size, size)
    path = tmp_path / "huge.zip"
    with open(path, "wb") as out:  # the data is a hole of zeros in a sparse file
        out.write(header)
        out.seek(len(header) + size)
        record = Record("huge.bin", STORED, 0, size, size, 0, True)
        out.write(central_directory([record], start=out.tell(), when=WHEN))
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("huge.bin")
        assert (info.file_size, info.compress_size, info.header_offset) == (size, size, 0)
        with archive.open(info) as entry:
            assert entry.read(1 << 20) == bytes(1 << 20)
    big = Limits(max_total_bytes=size)
    with open_archive(path, limits=big) as safe:
        assert safe.entries[0].size == size


def test_a_header_forced_to_zip64_keeps_its_length_when_the_sizes_come_later() -> None:
    before = local_header(
        "x.txt", method=DEFLATED, crc=0, compressed_size=0, size=9, when=WHEN, zip64=True
    )
    after = local_header(
        "x.txt", method=DEFLATED, crc=7, compressed_size=5, size=9, when=WHEN, zip64=True
    )
    assert len(before) == len(after)
    record = Record("x.txt", DEFLATED, 7, 5, 9, 0, True)
    directory = central_directory([record], start=len(after) + 5, when=WHEN)
    assert struct.unpack_from("<4sBBH", directory)[1:4:2] == (45, 45)
