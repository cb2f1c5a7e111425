"""The layer rule holds today, and the contract really fails when the core imports Qt or the UI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_tree(target: Path) -> Path:
    for name in ("portal", "ui"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_contract_is_kept() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    "offending", ["from PySide6.QtCore import QObject", "import ui.operations", "import shiboken6"]
)
def test_the_contract_breaks_when_the_core_imports_qt(tmp_path: Path, offending: str) -> None:
    tree = _copy_tree(tmp_path)
    (tree / "portal" / "overview.py").write_text(
        (tree / "portal" / "overview.py").read_text() + f"\n{offending}\n"
    )
    done = _lint_imports(tree)
    assert done.returncode == 1, done.stdout
    assert "The core (portal) never imports Qt or the UI BROKEN" in done.stdout
    assert "portal.overview" in done.stdout
