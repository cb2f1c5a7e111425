"""Importing the organisation's client certificate: checked, key encrypted, passphrase kept safe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from portal.auth.identity import (
    ACCOUNT,
    client_identity,
    import_identity,
    remove_identity,
)
from portal.auth.tokens import NoKeyringError
from portal.errors import InputError
from portal.paths import DataDir
from portal.sandbox.tls import TLSFiles
from tests.client_certs import PASSPHRASE, issue, write_p12
from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox, fake_browser

ROOT = Path(__file__).resolve().parents[2]


def test_import_keeps_the_key_encrypted_and_the_passphrase_in_the_keyring(
    mtls_sandbox: RunningSandbox,
    memory_keyring: MemoryKeyring,
    data_dir: DataDir,
    tmp_path: Path,
) -> None:
    source = write_p12(tmp_path, issue(mtls_sandbox))
    info = import_identity(data_dir, source, PASSPHRASE)
    assert info.organisation == "Lagos AI Integrators"
    assert "Lagos AI Integrators" in info.subject and "partner CA" in info.issuer

    identity = client_identity(data_dir)
    for path in (identity.cert_file, identity.key_file):
        assert path.stat().st_mode & 0o777 == 0o600
        assert PASSPHRASE.encode() not in path.read_bytes()
    assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in identity.key_file.read_bytes()
    assert memory_keyring.entries == {(data_dir.keyring_service, ACCOUNT): PASSPHRASE}
    assert identity.info() == info

    assert remove_identity(data_dir)
    assert not identity.cert_file.exists() and not identity.key_file.exists()
    assert memory_keyring.entries == {}
    assert identity.info() is None
    assert not remove_identity(data_dir)


def _only_a_certificate(sandbox: RunningSandbox) -> bytes:
    _key, cert, _chain = pkcs12.load_key_and_certificates(issue(sandbox), PASSPHRASE.encode())
    return pkcs12.serialize_key_and_certificates(
        b"no key", None, cert, None, BestAvailableEncryption(PASSPHRASE.encode())
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("pem", "is not a PKCS#12 client certificate"),
        ("wrong passphrase", "The passphrase for"),
        ("empty passphrase", "Enter the passphrase of"),
        ("no key", "must hold a certificate and its private key"),
        ("expired", "expired on"),
        ("missing", "cannot be read"),
    ],
)
def test_import_refuses_with_a_plain_message(
    mtls_sandbox: RunningSandbox,
    memory_keyring: MemoryKeyring,
    data_dir: DataDir,
    tmp_path: Path,
    case: str,
    message: str,
) -> None:
    data = {
        "pem": mtls_sandbox.tls.ca_cert.read_bytes(),
        "no key": _only_a_certificate(mtls_sandbox),
        "expired": issue(mtls_sandbox, expired=True),
    }.get(case, issue(mtls_sandbox))
    source = write_p12(tmp_path, data)
    if case == "missing":
        source = tmp_path / "nowhere.p12"
    passphrase = {"wrong passphrase": "not it", "empty passphrase": ""}.get(case, PASSPHRASE)
    with pytest.raises(InputError) as refused:
        import_identity(data_dir, source, passphrase)
    assert message in refused.value.message
    assert str(source) in refused.value.message
    assert not any(data_dir.keys.iterdir())
    assert memory_keyring.entries == {}


def test_without_a_keyring_nothing_is_imported(
    mtls_sandbox: RunningSandbox, data_dir: DataDir, tmp_path: Path
) -> None:
    with pytest.raises(NoKeyringError) as refused:
        import_identity(data_dir, write_p12(tmp_path, issue(mtls_sandbox)), PASSPHRASE)
    assert "passphrase" in refused.value.message and "plain text" in refused.value.message
    assert not any(data_dir.keys.iterdir())


def test_a_certificate_not_yet_valid_is_refused(
    mtls_sandbox: RunningSandbox, memory_keyring: MemoryKeyring, data_dir: DataDir, tmp_path: Path
) -> None:
    source = write_p12(tmp_path, issue(mtls_sandbox))
    with pytest.raises(InputError, match="is not valid before"):
        import_identity(data_dir, source, PASSPHRASE, now=datetime.now(UTC) - timedelta(days=1))


def _announced(server: subprocess.Popen[str]) -> dict[str, str]:
    assert server.stdout is not None
    lines: dict[str, str] = {}
    while not (line := server.stdout.readline()).startswith("Press Ctrl+C"):
        assert line, "the sandbox stopped before it was ready"
        label, _, value = line.partition(": ")
        lines[label] = value.strip()
    return lines


def test_a_full_run_from_the_command_line_leaves_no_secret_in_files(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring",
        "AIC_TEST_KEYRING": str(tmp_path / "keyring.json"),
        "PYTHONPATH": str(ROOT),
    }

    def aic(data: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "portal.cli", "--data-dir", str(tmp_path / data), *args]
        return subprocess.run(
            command, input=stdin, capture_output=True, text=True, env=env, timeout=60
        )

    serve = [sys.executable, "-m", "portal.cli", "--data-dir", str(tmp_path / "server")]
    server = subprocess.Popen(
        [*serve, "sandbox", "serve", "--port", "0", "--seed-demo", "--require-client-cert"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    try:
        said = _announced(server)
        tls = tmp_path / "server" / "sandbox" / "tls"
        assert said["CA certificate"] == str(tls / "ca.pem")
        assert str(tls / "partner-ca.pem") in said["Client certificates"]
        url, pin = said["Sandbox marketplace"], said["Server key pin (pin-sha256)"]

        p12 = tmp_path / "lagos.p12"
        issued = aic(
            "server",
            *("sandbox", "client-cert", "lagos ai integrators", "-o", str(p12)),
            "--passphrase-stdin",
            stdin=PASSPHRASE + "\n",
        )
        assert issued.returncode == 0, issued.stderr
        assert "Client certificate of Lagos AI Integrators" in issued.stdout
        assert p12.stat().st_mode & 0o777 == 0o600
        unknown = aic("server", "sandbox", "client-cert", "Nobody", "-o", str(tmp_path / "x"))
        assert unknown.returncode == 1
        assert "has no organisation “Nobody”. It has: Lagos AI Integrators (" in unknown.stderr

        imported = aic("client", "cert", "import", str(p12), "--passphrase-stdin", stdin=PASSPHRASE)
        assert imported.returncode == 0, imported.stderr
        assert "Imported the client certificate of Lagos AI Integrators" in imported.stdout
        assert PASSPHRASE in (tmp_path / "keyring.json").read_text()
        shown = aic("client", "cert", "show")
        assert "Organisation: Lagos AI Integrators" in shown.stdout

        login = subprocess.Popen(
            [
                *(sys.executable, "-m", "portal.cli", "--data-dir", str(tmp_path / "client")),
                *("login", "--no-browser", "--marketplace", url),
                *("--ca-bundle", str(tls / "ca.pem"), "--pin", pin),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert login.stdout is not None
        login.stdout.readline()
        files = ("ca.pem", "server.pem", "server-key.pem", "partner-ca.pem")
        browser = RunningSandbox(url, TLSFiles(*(tls / name for name in files)))
        fake_browser(browser)(login.stdout.readline().strip())  # a browser without the cert
        out, err = login.communicate(timeout=60)
        assert login.returncode == 0, err
        assert "for Lagos AI Integrators." in out
        synced = aic("client", "sync")
        assert synced.returncode == 0, synced.stderr
        assert synced.stdout.startswith("Delivered 0;")
        entries = json.loads((tmp_path / "keyring.json").read_text())
        tokens = json.loads(next(v for k, v in entries.items() if "\noauth:" in k))
        secrets = [PASSPHRASE, tokens["access_token"], tokens["refresh_token"]]

        assert aic("client", "cert", "remove").stdout.strip() == "Client certificate removed."
        refused = aic("client", "whoami")
        assert refused.returncode == 1
        assert "requires your organisation's client certificate" in refused.stderr
        assert "aic-portal cert import" in refused.stderr
    finally:
        server.terminate()
        server.wait(20)

    assert PASSPHRASE not in (tmp_path / "keyring.json").read_text()  # `cert remove`
    client = tmp_path / "client"
    files = [path for path in client.rglob("*") if path.is_file()]
    expected = {client / "portal.sqlite3", client / "settings.json", client / "logs" / "portal.log"}
    assert expected <= set(files)
    for path in files:
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, path
    assert pin in (client / "settings.json").read_text()
