"""The plugin commands as a partner runs them: new, lint, keygen, pack --sign, verify, inspect."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import aic


def test_new_lint_keygen_pack_verify_inspect(tmp_path: Path) -> None:
    env = {
        "PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring",
        "AIC_TEST_KEYRING": str(tmp_path / "keyring.json"),
    }
    data = ["--data-dir", str(tmp_path / "data")]
    folder = tmp_path / "acme-vision"
    done = aic(*data, "plugin", "new", "--template", "model-serving", str(folder))
    assert done.returncode == 0, done.stderr
    assert "Created the model-serving plugin acme-vision" in done.stdout
    assert aic(*data, "plugin", "lint", str(folder)).stdout == f"No problems found in {folder}.\n"
    done = aic(*data, "plugin", "keygen", env=env)
    assert done.returncode == 0, done.stderr
    assert "Key id:" in done.stdout
    package = tmp_path / "out.aicpkg"
    done = aic(*data, "plugin", "pack", str(folder), "-o", str(package), "--sign", env=env)
    assert done.returncode == 0, done.stderr
    assert f"Signed: {package}.sig.json" in done.stdout
    done = aic(*data, "plugin", "verify", str(package), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("  ok  ") == 4
    done = aic(*data, "plugin", "inspect", str(package), "--extract", str(tmp_path / "x"))
    assert done.returncode == 0, done.stderr
    assert "acme-vision 0.1.0 — Acme vision (model)" in done.stdout
    assert (tmp_path / "x" / "src" / "serve.py").is_file()


def test_lint_errors_exit_1_in_every_format_and_block_packing(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    folder = tmp_path / "bad"
    aic(*data, "plugin", "new", "--template", "pipeline-step", str(folder))
    (folder / "requirements.txt").write_text("numpy\n")
    for fmt in ("text", "json", "sarif"):
        done = aic(*data, "plugin", "lint", "--format", fmt, str(folder))
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
    assert json.loads(done.stdout)["runs"][0]["results"][0]["ruleId"] == "AIC013"
    done = aic(*data, "plugin", "pack", str(folder), "-o", str(tmp_path / "p.aicpkg"))
    assert done.returncode == 1
    assert "requirements.txt:1:1: error AIC013" in done.stderr
    assert not (tmp_path / "p.aicpkg").exists()
    bad_package = tmp_path / "junk.aicpkg"
    bad_package.write_bytes(b"junk")
    done = aic(*data, "plugin", "inspect", str(bad_package))
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: {bad_package} is not a plugin package")
