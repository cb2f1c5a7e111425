"""Signing: the key lives encrypted with its passphrase in the keyring; tampering is caught."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.auth.tokens import NoKeyringError
from portal.cancel import CancelToken, no_progress
from portal.errors import InputError
from portal.paths import DataDir
from portal.plugins.attestation import PREDICATE_TYPE, sign_package, verify_package
from portal.plugins.dsse import SignatureError, pae
from portal.plugins.keys import (
    KEYRING_ACCOUNT,
    generate_signing_key,
    load_public_key,
    load_signing_key,
)
from portal.plugins.pack import pack_plugin
from tests.keyrings import MemoryKeyring
from tests.plugins.conftest import MakePlugin


def test_pae_matches_the_dsse_spec() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_keygen_keeps_the_key_encrypted_and_the_passphrase_in_the_keyring(
    data_dir: DataDir, memory_keyring: MemoryKeyring
) -> None:
    made = generate_signing_key(data_dir)
    assert stat.S_IMODE(made.private_path.stat().st_mode) == 0o600
    passphrase = memory_keyring.entries[(data_dir.keyring_service, KEYRING_ACCOUNT)]
    pem = made.private_path.read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem and passphrase.encode() not in pem
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(pem, None)
    assert load_signing_key(data_dir).public_key() == load_public_key(made.public_path)
    with pytest.raises(InputError, match="A signing key already exists"):
        generate_signing_key(data_dir)
    assert generate_signing_key(data_dir, replace=True).key_id != made.key_id


def test_without_a_keyring_no_key_is_written(data_dir: DataDir) -> None:
    with pytest.raises(NoKeyringError, match="No OS keyring is available"):
        generate_signing_key(data_dir)
    assert list(data_dir.keys.iterdir()) == []


@pytest.fixture
def signed(
    make_plugin: MakePlugin, data_dir: DataDir, memory_keyring: MemoryKeyring, tmp_path: Path
) -> tuple[Path, Path, DataDir]:
    made = generate_signing_key(data_dir)
    package = pack_plugin(
        make_plugin(), tmp_path / "p.aicpkg", progress=no_progress, cancel=CancelToken()
    ).path
    sign_package(package, load_signing_key(data_dir))
    return package, made.public_path, data_dir


def test_a_signed_package_verifies(signed: tuple[Path, Path, DataDir]) -> None:
    package, public, _data = signed
    done = verify_package(package, load_public_key(public))
    assert [line.split(":")[0] for line in done.checks] == [
        "signature",
        "package",
        "files",
        "manifest",
    ]
    envelope = json.loads(package.with_name("p.aicpkg.sig.json").read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == PREDICATE_TYPE
    assert statement["subject"][0]["name"] == "p.aicpkg"
    assert statement["predicate"]["manifest"]["metadata"]["name"] == "demo-plugin"
    assert set(statement["predicate"]) == {"tool", "sourceDigest", "manifest"}


def _rewrite(path: Path, change: str) -> None:
    envelope = json.loads(path.read_text())
    if change == "signature":
        sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
        sig[5] ^= 0x01
        envelope["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    else:
        payload = json.loads(base64.b64decode(envelope["payload"]))
        digest = payload["subject"][0]["digest"]["sha256"]
        payload["subject"][0]["digest"]["sha256"] = ("0" if digest[0] != "0" else "1") + digest[1:]
        envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    path.write_text(json.dumps(envelope))


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("package", "was changed after it was signed"),
        ("signature", "The signature in .* is not valid for key"),
        ("payload", "The signed statement in .* was changed: it names SHA-256"),
    ],
)
def test_each_tampering_fails_with_its_own_message(
    signed: tuple[Path, Path, DataDir], target: str, message: str
) -> None:
    package, public, _data = signed
    if target == "package":
        data = bytearray(package.read_bytes())
        data[len(data) // 2] ^= 0x01
        package.write_bytes(bytes(data))
    else:
        _rewrite(package.with_name("p.aicpkg.sig.json"), target)
    with pytest.raises(SignatureError, match=message):
        verify_package(package, load_public_key(public))


def test_another_key_and_a_damaged_or_missing_signature_are_named(
    signed: tuple[Path, Path, DataDir], tmp_path: Path
) -> None:
    package, _public, _data = signed
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(SignatureError, match=r"was signed with key [0-9a-f]{64}, not with the key"):
        verify_package(package, other)
    sig = package.with_name("p.aicpkg.sig.json")
    sig.write_text(sig.read_text()[:-20])
    with pytest.raises(SignatureError, match="is damaged: it is not JSON"):
        verify_package(package, other)
    sig.unlink()
    with pytest.raises(SignatureError, match="is not signed"):
        verify_package(package, other)
