"""The `aic-portal` command, run as a user runs it: a real process on a real data dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from portal import __version__
from portal.db.migrate import head_revision


def aic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_version() -> None:
    done = aic("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"aic-portal, version {__version__}"


def test_info_names_every_place_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "d"
    done = aic("--data-dir", str(data), "info")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"Data dir:           {data}" in out
    assert f"Log file:           {data / 'logs' / 'portal.log'}" in out
    assert "Keyring:            keyring.backends.fail.Keyring — cannot hold secrets" in out
    assert f"database is created at the next start, at {head_revision()}" in out
    assert "Locale:             en (English, left to right)" in out
    assert "SQLAlchemy:" in out and "PySide6-Essentials:" in out
    assert not (data / "portal.sqlite3").exists()


def test_demo_creates_the_store_and_shows_it(tmp_path: Path) -> None:
    data = tmp_path / "d"
    done = aic("--data-dir", str(data), "demo")
    assert done.returncode == 0, done.stderr
    assert f"upgraded from empty to schema {head_revision()}" in done.stdout
    assert "outbox_items: 0 rows" in done.stdout
    assert "No marketplace is configured: started the embedded sandbox at https://127.0.0.1:" in (
        done.stdout
    )
    assert "No OS keyring is available" in done.stdout  # and so it does not sign in
    assert (data / "portal.sqlite3").exists()
    again = aic("--data-dir", str(data), "info")
    assert f"Schema:             {head_revision()} (current)" in again.stdout


def test_demo_signs_in_to_the_embedded_sandbox_and_publishes_a_plugin(tmp_path: Path) -> None:
    env = {
        "PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring",
        "AIC_TEST_KEYRING": str(tmp_path / "keyring.json"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    done = aic("--data-dir", str(tmp_path / "d"), "demo", env=env)
    assert done.returncode == 0, done.stderr
    assert "Signed in as Ada Obi <ada@lagos-ai.example> for Lagos AI Integrators." in done.stdout
    assert "from the model-serving template; lint: 0 findings." in done.stdout
    # the key registration and the version went out; the sandbox took the version for review
    assert "then synced: Delivered 2; postponed 0; conflicts 0; needing attention 0." in done.stdout
    assert "Review: In review." in done.stdout
    assert "access_token" not in (tmp_path / "d" / "logs" / "portal.log").read_text()


def test_two_data_dirs_share_nothing(tmp_path: Path) -> None:
    for name in ("one", "two"):
        assert aic("--data-dir", str(tmp_path / name), "demo").returncode == 0
    for name in ("one", "two"):
        log = (tmp_path / name / "logs" / "portal.log").read_text()
        assert f"data dir {tmp_path / name}" in log
        other = tmp_path / ("two" if name == "one" else "one")
        assert str(other) not in log


def test_environment_names_the_data_dir(tmp_path: Path) -> None:
    done = aic("info", env={"AIC_PORTAL_DATA_DIR": str(tmp_path / "env")})
    assert f"Data dir:           {tmp_path / 'env'}" in done.stdout


def test_data_dir_after_the_subcommand_is_refused(tmp_path: Path) -> None:
    done = aic("info", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert "No such option '--data-dir'" in done.stderr


def test_unusable_data_dir_is_one_plain_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = aic("--data-dir", str(blocker / "sub"), "info")
    assert done.returncode == 1
    assert done.stderr.strip().startswith(f"Error: The data dir {blocker / 'sub'} cannot be used")
    assert "Traceback" not in done.stderr


def test_french_settings_speak_french(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "settings.json").write_text('{"language": "fr"}')
    done = aic("--data-dir", str(data), "info")
    assert "Dossier de données" in done.stdout
    assert "Langue :" in done.stdout or "Langue:" in done.stdout
