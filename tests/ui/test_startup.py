"""`aic-portal-gui --measure-startup` as the benchmark runs it, and what start-up leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

GUI = Path(sys.executable).with_name("aic-portal-gui")


def _start(data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GUI), "--data-dir", str(data), "--measure-startup"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )


def test_measure_startup_reports_and_exits(tmp_path: Path) -> None:
    done = _start(tmp_path / "d")
    assert done.returncode == 0, done.stderr
    values = dict(line.split("=", 1) for line in done.stdout.split())
    assert set(values) == {"startup_ms", "idle_rss_mib"}
    assert 0 < float(values["startup_ms"]) < 60_000
    assert float(values["idle_rss_mib"]) > 0
    assert (tmp_path / "d" / "portal.sqlite3").exists()
    assert "session started" in (tmp_path / "d" / "logs" / "portal.log").read_text()


def test_a_broken_database_fails_the_start_plainly(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "portal.sqlite3").write_bytes(b"this is not a database" * 100)
    done = _start(data)
    assert done.returncode == 1
    log = (data / "logs" / "portal.log").read_text()
    assert "the local store could not be opened: The database" in log
    assert "portal.sqlite3 cannot be read: file is not a database" in log


def test_an_unusable_data_dir_is_one_plain_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: QApplication
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from ui.app import main

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, _title, text: shown.append(text))
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["--data-dir", str(blocker / "data")]) == 1
    assert shown == [f"The data dir {blocker / 'data'} cannot be used: Not a directory"]


def test_imports_after_qt_do_not_fill_linecache(tmp_path: Path) -> None:
    code = (
        "import linecache, sys\n"
        "from ui.app import Shell, _arguments\n"
        f"shell = Shell(_arguments(['--data-dir', {str(tmp_path)!r}]))\n"
        "import sqlalchemy.orm, json.tool\n"
        "print(len(linecache.cache))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=True,
    )
    assert int(done.stdout.split()[-1]) < 10
