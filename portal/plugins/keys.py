"""The partner's Ed25519 signing key: encrypted in the data dir, its passphrase in the keyring."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from keyring.errors import KeyringError

from portal.auth.tokens import NoKeyringError, os_keyring
from portal.errors import InputError, StorageError
from portal.i18n import _
from portal.paths import DataDir
from portal.plugins.dsse import key_id, public_key_from_pem

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

PRIVATE_NAME = "plugin-signing.key"
PUBLIC_NAME = "plugin-signing.pub"
KEYRING_ACCOUNT = "plugin-signing-key"


@dataclass(frozen=True)
class SigningKey:
    """Where the key pair lives and its fingerprint."""

    private_path: Path
    public_path: Path
    key_id: str


def generate_signing_key(data_dir: DataDir, *, replace: bool = False) -> SigningKey:
    """Make a new key pair; the private key never touches disk unencrypted."""
    keys = data_dir.ensure().keys
    private_path, public_path = keys / PRIVATE_NAME, keys / PUBLIC_NAME
    if private_path.exists() and not replace:
        raise InputError(
            _(
                "A signing key already exists ({path}, key {key}). Give --replace to make a new "
                "one; packages signed with the old key then need the old public key to verify."
            ).format(path=private_path, key=key_id(load_public_key(public_path)))
        )
    keyring = _keyring()
    key = Ed25519PrivateKey.generate()
    passphrase = secrets.token_urlsafe(32)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("ascii")),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    staged = private_path.with_name(PRIVATE_NAME + ".new")
    staged_public = public_path.with_name(PUBLIC_NAME + ".new")
    service = data_dir.keyring_service
    try:
        _write(staged, encrypted, 0o600)  # both written before anything is replaced
        _write(staged_public, public, 0o644)
        previous = keyring.get_password(service, KEYRING_ACCOUNT)
        keyring.set_password(service, KEYRING_ACCOUNT, passphrase)
        try:
            os.replace(staged, private_path)
        except OSError:
            if previous is not None:  # the old key stays, so its passphrase must too
                keyring.set_password(service, KEYRING_ACCOUNT, previous)
            raise
        os.replace(staged_public, public_path)
    except KeyringError as exc:
        staged.unlink(missing_ok=True)
        staged_public.unlink(missing_ok=True)
        raise NoKeyringError(
            _("The OS keyring refused to keep the signing key's passphrase: {problem}").format(
                problem=exc
            )
        ) from exc
    except OSError as exc:
        staged.unlink(missing_ok=True)
        staged_public.unlink(missing_ok=True)
        raise StorageError(
            _("The signing key cannot be written to {path}: {problem}").format(
                path=keys, problem=exc.strerror or exc
            )
        ) from exc
    return SigningKey(private_path, public_path, key_id(key.public_key()))


def has_signing_key(data_dir: DataDir) -> bool:
    """Whether the data dir has a signing key, so the GUI can offer to make one first."""
    return (data_dir.keys / PRIVATE_NAME).is_file()


def load_signing_key(data_dir: DataDir) -> Ed25519PrivateKey:
    """The private key, decrypted with the passphrase from the keyring."""
    path = data_dir.keys / PRIVATE_NAME
    if not path.is_file():
        raise InputError(
            _(
                "There is no signing key in {path}; make one with `aic-portal plugin keygen`."
            ).format(path=data_dir.keys)
        )
    passphrase = _keyring().get_password(data_dir.keyring_service, KEYRING_ACCOUNT)
    if not passphrase:
        raise InputError(
            _(
                "The passphrase of {path} is not in the OS keyring (it was removed, or this is "
                "another user's keyring); make a new key with `aic-portal plugin keygen --replace`."
            ).format(path=path)
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), passphrase.encode("ascii"))
    except (ValueError, TypeError) as exc:
        raise InputError(
            _("{path} cannot be opened with the passphrase in the keyring.").format(path=path)
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(_("{path} is not an Ed25519 key.").format(path=path))
    return key


def own_public_key_path(data_dir: DataDir) -> Path:
    """Where this data dir's public key is (it may not exist yet)."""
    return data_dir.keys / PUBLIC_NAME


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            _("The public key {path} cannot be read: {problem}").format(
                path=path, problem=exc.strerror or exc
            )
        ) from exc
    return public_key_from_pem(data, str(path))


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write a new file with `mode` from the start, so no other user can ever read it."""
    path.unlink(missing_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(path, mode)  # the umask may have taken bits away; this is the mode we mean


def _keyring() -> KeyringBackend:
    return os_keyring(
        _(
            "No OS keyring is available to keep the signing key's passphrase ({backend}). "
            "Install and unlock one (GNOME Keyring or KWallet on Linux; macOS and Windows "
            "have one built in). The key is never stored unencrypted."
        )
    )
