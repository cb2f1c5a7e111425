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
    # conformance needs no marketplace: the run happens, but stays here unchallenged
    assert "6. Conformance" in done.stdout
    assert "Ran tensor-core-v1 on cpu-reference: 56 checks in" in done.stdout
    assert "      Passed: " in done.stdout and "      Not supported: " in done.stdout
    assert "report.html to " in done.stdout and ", unsigned." in done.stdout
    assert "Recorded as run 1 (`aic-portal conformance runs 1`)." in done.stdout
    assert "Not submitted: a run is certified only when signed in" in done.stdout
    (report,) = (data / "walkthrough").glob("conformance-*/report.json")
    assert not report.with_name("report.dsse.json").exists()
    assert "7. Exams\n   Not signed in: no exams were downloaded" in done.stdout
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
    out = done.stdout
    assert "Signed in as Ada Obi <ada@lagos-ai.example> for Lagos AI Integrators." in out
    assert "from the model-serving template; lint: 0 findings." in out
    # the key registration and the version went out; the sandbox took the version for review
    assert "then synced: Delivered 2; postponed 0; conflicts 0; needing attention 0." in out
    assert "Review: In review." in out
    # conformance: challenged, signed with the key the plugin step made, submitted, certified
    key = out.split("Made the signing key ")[1][:16]
    assert "Challenge " in out and "so the report answers this challenge only." in out
    assert f"report.dsse.json to {tmp_path / 'd' / 'walkthrough'}" in out
    assert f"signed with the key {key}." in out
    assert "Queued it for certification (outbox item #" in out
    assert "Certification: Certified." in out
    # exams: downloaded by sync, a practice scored here, a certification scored and certified
    assert (
        "Sync downloaded AIC-Platform Certified Associate 2026.1 (certification) and "
        "AIC-Platform practice test 2026.1 (practice)." in out
    )
    assert "answered 7 of its 7 items from the keys the practice package carries." in out
    assert "Scored here, offline: " in out and "pass mark 60%: passed; 1 written answer" in out
    assert "with the sitting code AICP-DEMO-2026 that the proctor hands out" in out
    assert "Answered 10 of its 10 items as Ada Obi, sealed the sitting" in out
    assert "Synced: Delivered 2; postponed 0; conflicts 0; needing attention 0." in out
    assert "The marketplace scored it " in out and "): passed." in out
    assert ", fetched by sync: AIC-Platform Certified Associate for Ada Obi, score" in out
    assert "genuine, signed by the marketplace and unchanged since" in out
    assert "access_token" not in (tmp_path / "d" / "logs" / "portal.log").read_text()

    again = aic("--data-dir", str(tmp_path / "d"), "demo", env=env)
    assert again.returncode == 0, again.stderr
    out = again.stdout
    assert "then synced: Delivered 1; postponed 0" in out  # the key was registered before
    assert "Recorded as run 2" in out and "Certification: Certified." in out
    assert "Downloaded by an earlier sync, current: " in out
    assert "answered 7 of its 7 items" in out  # a practice exam may be sat again
    assert "Certification: AIC-Platform Certified Associate was sat on this computer on" in out
    assert "Answered 10 of its 10" not in out and "): passed." in out
    assert "genuine, signed by the marketplace and unchanged since" in out


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
