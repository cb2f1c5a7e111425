"""This installation's device key: it seals exam submissions, so the marketplace knows they come
unaltered from a computer the partner registered.

Kept as the plugin signing key is: Ed25519, encrypted in the data dir, the passphrase in the OS
keyring. Made on first use, with no step for the candidate.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from keyring.errors import KeyringError

from portal.atomic import write_atomically
from portal.auth.tokens import NoKeyringError, os_keyring
from portal.errors import InputError, StorageError
from portal.i18n import _
from portal.paths import DataDir
from portal.plugins.dsse import key_id

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

PRIVATE_NAME = "device.key"
PUBLIC_NAME = "device.pub"
KEYRING_ACCOUNT = "exam-device-key"


@dataclass(frozen=True)
class DeviceKey:
    """The private key, its public key in PEM and its fingerprint."""

    private: Ed25519PrivateKey
    public_pem: str
    key_id: str


def device_key(data_dir: DataDir) -> DeviceKey:
    """The installation's device key, made (and its passphrase kept in the keyring) if none
    exists yet."""
    keys = data_dir.ensure().keys
    private_path = keys / PRIVATE_NAME
    keyring = os_keyring(
        _(
            "No OS keyring is available to keep the device key's passphrase ({backend}); exam "
            "submissions cannot be sealed without one. Install and unlock one (GNOME Keyring or "
            "KWallet on Linux; macOS and Windows have one built in)."
        )
    )
    try:
        passphrase = keyring.get_password(data_dir.keyring_service, KEYRING_ACCOUNT)
        if not private_path.exists():
            return _create(data_dir, keyring)
    except KeyringError as exc:
        raise NoKeyringError(
            _("The OS keyring refused the device key's passphrase: {problem}").format(problem=exc)
        ) from exc
    if not passphrase:
        raise InputError(
            _(
                "The passphrase of the device key {path} is not in the OS keyring (it was "
                "removed, or this is another user's keyring). Move {path} aside; a new key is "
                "then made and registered at the next submission."
            ).format(path=private_path)
        )
    try:
        key = serialization.load_pem_private_key(
            private_path.read_bytes(), passphrase.encode("ascii")
        )
    except OSError as exc:
        raise StorageError(
            _("The device key {path} cannot be read: {problem}").format(
                path=private_path, problem=exc.strerror or exc
            )
        ) from exc
    except (ValueError, TypeError) as exc:
        raise InputError(
            _("The device key {path} cannot be opened with the passphrase in the keyring.").format(
                path=private_path
            )
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(_("{path} is not an Ed25519 key.").format(path=private_path))
    return _described(key)


def _create(data_dir: DataDir, keyring: KeyringBackend) -> DeviceKey:
    """A new key: the passphrase kept first, then the public key, then the encrypted key (whose
    presence says a key exists)."""
    key = Ed25519PrivateKey.generate()
    passphrase = secrets.token_urlsafe(32)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("ascii")),
    )
    described = _described(key)
    keyring.set_password(data_dir.keyring_service, KEYRING_ACCOUNT, passphrase)
    try:
        write_atomically(data_dir.keys / PUBLIC_NAME, described.public_pem.encode(), mode=0o644)
        write_atomically(data_dir.keys / PRIVATE_NAME, encrypted, mode=0o600)
    except OSError as exc:
        raise StorageError(
            _("The device key cannot be written to {path}: {problem}").format(
                path=data_dir.keys, problem=exc.strerror or exc
            )
        ) from exc
    return described


def _described(key: Ed25519PrivateKey) -> DeviceKey:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DeviceKey(key, pem.decode("ascii"), key_id(key.public_key()))
