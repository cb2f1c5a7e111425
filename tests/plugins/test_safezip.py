"""Hostile packages: each crafted archive is refused, naming the entry, and nothing is written."""

from __future__ import annotations

import io
import re
import stat
import warnings
import zipfile
from pathlib import Path

import pytest

from portal.cancel import CancelToken
from portal.errors import Cancelled
from portal.plugins.safezip import (
    Limits,
    UnsafeArchiveError,
    entry_name_problem,
    extract_archive,
    open_archive,
)


def _zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]], **options: int) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we craft
        with zipfile.ZipFile(path, "w", **options) as archive:  # type: ignore[arg-type]
            for name, data in entries:
                archive.writestr(name, data)
    return path


def _typed(name: str, kind: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (kind | 0o644) << 16
    return info


def _patch(path: Path, *, local: dict[int, int], central: dict[int, int]) -> None:
    """Overwrite 16/32-bit fields (by offset) of the first local header and central record."""
    data = bytearray(path.read_bytes())
    cd = data.index(b"PK\x01\x02")
    for base, fields in ((0, local), (cd, central)):
        for offset, value in fields.items():
            size = 2 if offset in (6, 8, 10) else 4
            data[base + offset : base + offset + size] = value.to_bytes(size, "little")
    path.write_bytes(bytes(data))


def _refused(path: Path, pattern: str, *, limits: Limits | None = None) -> None:
    dest = path.parent / "out"
    with pytest.raises(UnsafeArchiveError, match=pattern):
        extract_archive(path, dest, **({"limits": limits} if limits else {}))
    assert not dest.exists()
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # nothing else appeared


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.txt", "climbs out of its folder"),
        ("a/../../evil.txt", "climbs out of its folder"),
        ("/etc/evil.txt", "absolute path"),
        ("C:/evil.txt", "drive letter"),
        ("C:evil.txt", "drive letter"),
        ("a\\..\\evil.txt", "backslash"),
        ("file.txt:stream", "colon"),
        ("a/./b.txt", "empty or “.” part"),
        ("a//b.txt", "empty or “.” part"),
        ("bell\x07.txt", "control characters"),
        ("docs/CON.txt", "Windows device"),
        ("nul", "Windows device"),
        ("com1/x.py", "Windows device"),
        ("notes./a.txt", "ending in a dot or a space"),
        ("a/trailing ", "ending in a dot or a space"),
    ],
)
def test_unsafe_names_are_refused(tmp_path: Path, name: str, reason: str) -> None:
    archive = _zip(tmp_path / "p.aicpkg", [("ok.txt", b"fine"), (name, b"evil")])
    _refused(archive, re.escape(f"entry “{name}”: the name ") + ".*" + re.escape(reason))


def test_a_nul_in_a_name_is_refused_before_zipfile_cuts_it(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "p.aicpkg", [("evil.txt_.png", b"x")])
    archive.write_bytes(archive.read_bytes().replace(b"evil.txt_.png", b"evil.txt\0.png"))
    _refused(archive, "control characters")


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (stat.S_IFLNK, "is a symbolic link"),
        (stat.S_IFCHR, "is a device file"),
        (stat.S_IFBLK, "is a device file"),
        (stat.S_IFIFO, "is a named pipe"),
        (stat.S_IFSOCK, "is a socket"),
    ],
)
def test_links_and_special_files_are_refused(tmp_path: Path, kind: int, reason: str) -> None:
    archive = _zip(tmp_path / "p.aicpkg", [(_typed("thing", kind), b"/etc/passwd")])
    _refused(archive, f"entry “thing”: it {reason}")


@pytest.mark.parametrize(
    ("names", "reason"),
    [
        (["a.txt", "a.txt"], "“a.txt”: it appears twice"),
        (
            ["Read.me", "READ.ME"],
            "“READ.ME”: it is the same name as “Read.me” when case is ignored",
        ),
        (["caf\u00e9", "cafe\u0301"], "once Unicode is normalised"),
        (["lib", "lib/x.py"], "“lib”: it is both a file and a folder"),
    ],
)
def test_colliding_names_are_refused(tmp_path: Path, names: list[str], reason: str) -> None:
    archive = _zip(tmp_path / "p.aicpkg", [(n, b"x") for n in names])
    _refused(archive, reason)


def test_limits_on_entries_bytes_and_ratio(tmp_path: Path) -> None:
    many = _zip(tmp_path / "many.aicpkg", [(f"f{n}", b"x") for n in range(5)])
    _refused(many, "it has 5 entries, more than the 4 allowed", limits=Limits(max_entries=4))
    many.unlink()
    big = _zip(tmp_path / "big.aicpkg", [("a", b"x" * 60), ("b", b"y" * 60)])
    _refused(
        big,
        "“b”: together the entries unpack to more than 100 bytes",
        limits=Limits(max_total_bytes=100),
    )
    big.unlink()
    bomb = _zip(
        tmp_path / "bomb.aicpkg", [("zeros", bytes(200_000))], compression=zipfile.ZIP_DEFLATED
    )
    _refused(
        bomb,
        "“zeros”: it expands [0-9]+ times, the mark of a zip bomb",
        limits=Limits(ratio_floor=1000, max_ratio=50),
    )


def test_other_compression_and_encryption_are_refused(tmp_path: Path) -> None:
    bzip = _zip(tmp_path / "bz.aicpkg", [("a.txt", b"x" * 100)], compression=zipfile.ZIP_BZIP2)
    _refused(bzip, "“a.txt”: it uses compression method 12; only stored and deflated")
    bzip.unlink()
    locked = _zip(tmp_path / "enc.aicpkg", [("a.txt", b"secret")])
    _patch(locked, local={6: 1}, central={8: 1})
    _refused(locked, "“a.txt”: it is encrypted")


def test_a_central_directory_that_lies_about_sizes_is_refused(tmp_path: Path) -> None:
    data = b"payload " * 4096
    archive = _zip(tmp_path / "lie.aicpkg", [("a.txt", data)], compression=zipfile.ZIP_DEFLATED)
    _patch(archive, local={}, central={24: 10})  # uncompressed size, central directory only
    _refused(archive, "“a.txt”: its local header and the central directory disagree about its size")
    archive.unlink()
    both = _zip(tmp_path / "both.aicpkg", [("a.txt", data)], compression=zipfile.ZIP_DEFLATED)
    _patch(both, local={22: 10}, central={24: 10})  # both headers lie the same way
    _refused(both, "“a.txt”: its content is damaged or was changed")
    both.unlink()
    longer = _zip(tmp_path / "long.aicpkg", [("a.txt", b"short")])
    _patch(longer, local={22: 500}, central={24: 500})  # stored: claims more than it holds
    _refused(longer, "“a.txt”: it holds 5 bytes, not the 500 the archive declares")


class _Unseekable(io.BytesIO):
    def seek(self, *args: int) -> int:
        raise OSError("not seekable")

    def tell(self) -> int:
        raise OSError("not seekable")


def test_entries_that_share_bytes_are_refused(tmp_path: Path) -> None:
    stream = _Unseekable()
    with zipfile.ZipFile(stream, "w") as archive:  # data descriptors: local sizes are zero
        archive.writestr("a.txt", b"a" * 100)
        archive.writestr("b.txt", b"b" * 100)
    path = tmp_path / "overlap.aicpkg"
    path.write_bytes(stream.getvalue())
    _patch(path, local={}, central={20: 150})  # a.txt's data now runs into b.txt's header
    _refused(path, "“b.txt”: it shares its data with “a.txt”")


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.aicpkg"
    path.write_bytes(b"not a zip at all" * 10)
    _refused(path, "is not a plugin package: it is not a readable ZIP archive")


def test_a_safe_archive_extracts_and_a_cancel_leaves_nothing(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "ok.aicpkg", [("plugin.yaml", b"a: 1\n"), ("src/x.py", b"pass\n")])
    written = extract_archive(archive, tmp_path / "out")
    assert [p.relative_to(tmp_path / "out").as_posix() for p in written] == [
        "plugin.yaml",
        "src/x.py",
    ]
    assert (tmp_path / "out" / "src" / "x.py").read_bytes() == b"pass\n"
    with pytest.raises(Exception, match="must be empty"):
        extract_archive(archive, tmp_path / "out")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        extract_archive(archive, tmp_path / "again", cancel=token)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.aicpkg", "out"]


def test_open_archive_lists_entries_and_streams_them(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "ok.aicpkg", [("a.txt", b"x" * 10)], compression=zipfile.ZIP_DEFLATED)
    with open_archive(archive) as opened:
        assert [(e.name, e.size, e.method) for e in opened.entries] == [("a.txt", 10, "deflated")]
        assert opened.read("a.txt", max_bytes=10) == b"x" * 10
        with pytest.raises(UnsafeArchiveError, match="larger than 5 bytes"):
            opened.read("a.txt", max_bytes=5)


def test_names_a_package_may_hold() -> None:
    assert entry_name_problem("src/model/weights.safetensors") is None
    assert entry_name_problem("docs/") is None
    assert entry_name_problem("") == "the name is empty"
