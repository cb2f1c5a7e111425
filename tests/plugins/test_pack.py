"""Packing: same tree, same bytes; dense files stored; flat memory; a cancel leaves no file."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import threading
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import portal.plugins.pack as pack
from portal.cancel import CancelToken, no_progress
from portal.errors import Cancelled, InputError
from portal.plugins.files import PluginFile
from portal.plugins.pack import pack_plugin, source_date
from portal.plugins.package import check_package
from portal.plugins.safezip import Limits
from tests.plugins.conftest import MakePlugin


def _pack(folder: Path, output: Path, **options: object) -> Path:
    return pack_plugin(folder, output, progress=no_progress, cancel=CancelToken(), **options).path  # type: ignore[arg-type]


def test_the_same_tree_packs_to_the_same_bytes_anywhere(
    make_plugin: MakePlugin, tmp_path: Path
) -> None:
    folder = make_plugin()
    (folder / "data").mkdir()
    (folder / "data" / "b.csv").write_text("x,y\n1,2\n" * 100)
    (folder / "data" / "a.txt").write_text("hello")
    first = _pack(folder, tmp_path / "one.aicpkg")
    old = os.umask(0o077)
    try:
        copy = shutil.copytree(
            folder, tmp_path / "elsewhere" / "deeper" / "copy", copy_function=shutil.copy
        )
    finally:
        os.umask(old)
    for path in copy.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    second = _pack(copy, tmp_path / "two.aicpkg")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    assert names[0] == "plugin.yaml" and names[-1] == "SHA256SUMS"
    assert names[1:-1] == sorted(names[1:-1])
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert all(not i.extra and not i.comment for i in infos)
    assert check_package(first).manifest.metadata.name == "demo-plugin"


def test_source_date_epoch_sets_the_timestamps(
    make_plugin: MakePlugin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    package = _pack(make_plugin(), tmp_path / "p.aicpkg")
    with zipfile.ZipFile(package) as archive:
        assert archive.infolist()[0].date_time == (2023, 11, 14, 22, 13, 20)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH must be a number"):
        _pack(make_plugin("pipeline-step", "other"), tmp_path / "q.aicpkg")


def test_text_is_deflated_and_dense_files_are_stored(
    make_plugin: MakePlugin, tmp_path: Path
) -> None:
    folder = make_plugin()
    (folder / "notes.txt").write_text("compressible text\n" * 500)
    (folder / "weights.safetensors").write_bytes(b"\0" * 5000)  # dense by its suffix
    (folder / "noise.dat").write_bytes(os.urandom(5000))  # dense by its sample
    package = _pack(folder, tmp_path / "p.aicpkg")
    with zipfile.ZipFile(package) as archive:
        method = {i.filename: i.compress_type for i in archive.infolist()}
    assert method["notes.txt"] == zipfile.ZIP_DEFLATED
    assert method["plugin.yaml"] == zipfile.ZIP_DEFLATED
    assert method["weights.safetensors"] == zipfile.ZIP_STORED
    assert method["noise.dat"] == zipfile.ZIP_STORED
    assert method["icon.png"] == zipfile.ZIP_STORED


def test_aicignore_keeps_files_out(make_plugin: MakePlugin, tmp_path: Path) -> None:
    folder = make_plugin()
    (folder / ".aicignore").write_text("secret-data/\n*.log\n!keep.log\n")
    (folder / "secret-data").mkdir()
    (folder / "secret-data" / "x.csv").write_text("1")
    (folder / "run.log").write_text("log")
    (folder / "keep.log").write_text("log")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "x.pyc").write_bytes(b"\0")
    with zipfile.ZipFile(_pack(folder, tmp_path / "p.aicpkg")) as archive:
        names = set(archive.namelist())
    assert "keep.log" in names
    assert not names & {"secret-data/x.csv", "run.log", "__pycache__/x.pyc"}


def test_memory_stays_flat_for_a_large_file(make_plugin: MakePlugin, tmp_path: Path) -> None:
    folder = make_plugin()
    with open(folder / "model.safetensors", "wb") as sparse:
        sparse.truncate(48 << 20)
    tracemalloc.start()
    try:
        _pack(folder, tmp_path / "p.aicpkg")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak


def test_a_cancel_leaves_no_file_behind(make_plugin: MakePlugin, tmp_path: Path) -> None:
    folder = make_plugin()
    (folder / "big.bin").write_bytes(b"\1" * (3 << 20))
    token = CancelToken()
    seen = []

    def progress(done: int, total: int | None, message: str) -> None:
        seen.append(done)
        if done > 1 << 20:
            token.cancel()

    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(Cancelled):
        pack_plugin(folder, out / "p.aicpkg", progress=progress, cancel=token)
    assert list(out.iterdir()) == []
    assert seen and seen[-1] < 3 << 20


def test_links_and_reserved_names_are_not_packed(make_plugin: MakePlugin, tmp_path: Path) -> None:
    folder = make_plugin()
    (folder / "SHA256SUMS").write_text("x")
    with pytest.raises(InputError, match="“SHA256SUMS” cannot go in a package: the name is kept"):
        _pack(folder, tmp_path / "p.aicpkg")
    (folder / "SHA256SUMS").unlink()
    (folder / "link").symlink_to("/etc/hostname")
    with pytest.raises(InputError, match="“link” is a link or a special file"):
        _pack(folder, tmp_path / "p.aicpkg")
    assert not (tmp_path / "p.aicpkg").exists()


def _mixed_tree(folder: Path) -> dict[str, bytes]:
    """Many small files, an empty one, a non-ASCII name, and the three kinds of big file."""
    rng = random.Random(3)
    words = [b"tensor", b"kernel", b"plugin", b"latency", b"model", b"\n"]
    files = {
        f"data/{n // 50:02d}/doc-{n:04d}.txt": b" ".join(rng.choices(words, k=rng.randrange(400)))
        for n in range(300)
    }
    files["data/empty.txt"] = b""
    files["données/été.md"] = "Résumé\n".encode() * 40
    files["weights/model.bin"] = rng.randbytes(3 << 20)  # stored by its suffix: scanned, copied
    files["big/table.csv"] = b"".join(b"%d,%d\n" % (n, n * n) for n in range(300_000))  # streamed
    files["big/noise.dat"] = rng.randbytes((1 << 20) + 4097)  # streamed, stored by its sample
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return files


def test_any_number_of_workers_makes_the_same_standard_zip(
    make_plugin: MakePlugin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_plugin()
    files = _mixed_tree(folder)
    monkeypatch.setattr(pack, "BATCH_BYTES", 8 * 1024)  # many batches, few in flight at a time
    monkeypatch.setattr(pack, "AHEAD_BYTES", 32 * 1024)
    results = [
        pack_plugin(
            folder,
            tmp_path / f"{workers}.aicpkg",
            progress=no_progress,
            cancel=CancelToken(),
            workers=workers,
        )
        for workers in (1, 4)
    ]
    one, four = (result.path.read_bytes() for result in results)
    assert one == four
    result = results[0]
    assert result.sha256 == hashlib.sha256(one).hexdigest() and result.size == len(one)
    with zipfile.ZipFile(result.path) as archive:
        assert archive.testzip() is None
        assert result.source_digest == hashlib.sha256(archive.read("SHA256SUMS")).hexdigest()
        for name, data in files.items():
            assert archive.read(name) == data, name
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == ["plugin.yaml", *sorted(names[1:-1]), "SHA256SUMS"]
    where = {i.filename: i.header_offset for i in infos}  # the big stored file lies early
    assert where["plugin.yaml"] == 0 < where["weights/model.bin"] < where["big/noise.dat"]
    method = {i.filename: i.compress_type for i in infos}
    assert method["weights/model.bin"] == method["big/noise.dat"] == zipfile.ZIP_STORED
    assert method["big/table.csv"] == method["data/00/doc-0001.txt"] == zipfile.ZIP_DEFLATED
    assert check_package(result.path).source_digest == result.source_digest
    if shutil.which("unzip") is None:
        print("unzip is not installed: the package was checked with zipfile only")
    else:
        done = subprocess.run(["unzip", "-tq", str(result.path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_big_file_changed_between_its_two_reads_is_refused(
    make_plugin: MakePlugin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_plugin()
    weights = folder / "model.safetensors"
    weights.write_bytes(b"\1" * (2 << 20))
    scan = pack._scan

    def scan_then_change(item: PluginFile, halt: Callable[[], None]) -> object:
        found = scan(item, halt)
        weights.write_bytes(b"\2" * (2 << 20))  # same size, other bytes
        return found

    monkeypatch.setattr(pack, "_scan", scan_then_change)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputError, match=r"model\.safetensors changed while it was being packed"):
        _pack(folder, out / "p.aicpkg")
    assert list(out.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("pack")]


def test_a_small_file_that_grew_after_the_folder_was_read_is_refused(
    make_plugin: MakePlugin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_plugin()
    walk = pack.plugin_tree

    def walk_then_grow(root: Path, **options: Any) -> Any:
        tree = walk(root, **options)
        with open(folder / "README.md", "ab") as readme:
            readme.write(b"one more line\n")
        return tree

    monkeypatch.setattr(pack, "plugin_tree", walk_then_grow)
    with pytest.raises(InputError, match=r"README\.md changed while it was being packed"):
        _pack(folder, tmp_path / "p.aicpkg")
    assert not (tmp_path / "p.aicpkg").exists()


def test_a_file_the_reader_would_refuse_as_a_zip_bomb_is_not_packed(
    make_plugin: MakePlugin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_plugin()
    (folder / "zeros.txt").write_bytes(bytes(4 << 20))  # zlib's level 1 gets ~230:1 at most
    monkeypatch.setattr(pack, "DEFAULT_LIMITS", Limits(max_ratio=100))
    with pytest.raises(InputError, match=r"zeros.txt compresses [0-9]+ times"):
        _pack(folder, tmp_path / "p.aicpkg")
    assert not (tmp_path / "p.aicpkg").exists()


def test_a_cancel_among_many_small_files_stops_the_workers(
    make_plugin: MakePlugin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_plugin()
    _mixed_tree(folder)
    monkeypatch.setattr(pack, "BATCH_BYTES", 4 * 1024)
    token = CancelToken()
    seen = []

    def progress(done: int, total: int | None, message: str) -> None:
        seen.append(message)
        token.cancel()

    with pytest.raises(Cancelled):
        pack_plugin(folder, tmp_path / "p.aicpkg", progress=progress, cancel=token, workers=2)
    assert len(seen) == 1 and not list(tmp_path.glob("p.aicpkg*"))
    assert not [t for t in threading.enumerate() if t.name.startswith("pack")]


def test_source_date_epoch_after_2107_is_refused() -> None:
    assert source_date({"SOURCE_DATE_EPOCH": "4354819199"}) == 4354819199
    assert source_date({"SOURCE_DATE_EPOCH": "12"}) == 315532800
    with pytest.raises(InputError, match="after 2107"):
        source_date({"SOURCE_DATE_EPOCH": "4354819200"})
