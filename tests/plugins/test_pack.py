"""Packing: same tree, same bytes; dense files stored; flat memory; a cancel leaves no file."""

from __future__ import annotations

import os
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from portal.cancel import CancelToken, no_progress
from portal.errors import Cancelled, InputError
from portal.plugins.pack import pack_plugin
from portal.plugins.package import check_package
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
