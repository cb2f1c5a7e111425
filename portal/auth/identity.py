"""The organisation's mTLS client certificate: key kept encrypted, passphrase in the keyring."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from portal.atomic import write_atomically
from portal.auth.tokens import NoKeyringError, os_keyring
from portal.errors import InputError, StorageError
from portal.i18n import _, format_datetime
from portal.paths import DataDir

if TYPE_CHECKING:
    from cryptography import x509
    from keyring.backend import KeyringBackend

ACCOUNT = "client-certificate"
MAX_PKCS12_BYTES = 1 << 20  # a certificate chain and a key are a few KiB


class IdentityError(InputError):
    """The imported client certificate, its key or its passphrase cannot be used."""


@dataclass(frozen=True)
class ClientIdentity:
    """Where a data dir keeps its client certificate, and where the key's passphrase is."""

    cert_file: Path
    key_file: Path
    keyring_service: str

    def passphrase(self) -> str:
        """The key's passphrase from the keyring; a plain error when it is missing."""
        secret = _keyring().get_password(self.keyring_service, ACCOUNT)
        if not secret:
            raise IdentityError(
                _(
                    "The passphrase of your client certificate is not in the keyring. Import "
                    "the certificate again (`aic-portal cert import FILE.p12` or Settings)."
                )
            )
        return secret

    def info(self) -> CertificateInfo | None:
        """The imported certificate, or None when there is none (or it is unreadable)."""
        from cryptography import x509

        try:
            return certificate_info(x509.load_pem_x509_certificate(self.cert_file.read_bytes()))
        except (OSError, ValueError):
            return None


@dataclass(frozen=True)
class CertificateInfo:
    """What a person checks about a client certificate before trusting it to a connection."""

    subject: str
    organisation: str | None
    issuer: str
    not_before: datetime
    not_after: datetime
    sha256: str

    def expired(self, *, now: datetime | None = None) -> bool:
        """Whether the certificate is past its end date."""
        return (now or datetime.now(UTC)) > self.not_after

    def refuse_if_expired(self, *, now: datetime | None = None) -> None:
        """Stop before connecting with a certificate the marketplace would refuse anyway."""
        if self.expired(now=now):
            raise IdentityError(
                _(
                    "Your client certificate expired on {date}. Import your organisation's "
                    "current certificate (`aic-portal cert import FILE.p12` or Settings)."
                ).format(date=format_datetime(self.not_after))
            )


def client_identity(data_dir: DataDir) -> ClientIdentity:
    """Where `data_dir` keeps its client certificate (the files may not exist)."""
    return ClientIdentity(
        data_dir.keys / "client-cert.pem",
        data_dir.keys / "client-key.pem",
        data_dir.keyring_service,
    )


def import_identity(
    data_dir: DataDir, source: Path, passphrase: str, *, now: datetime | None = None
) -> CertificateInfo:
    """Check that `source` (PKCS#12) opens with `passphrase` and holds a usable certificate and
    key, then keep both under the data dir (the key still encrypted) and the passphrase in the
    keyring."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    data = _read_pkcs12(source)
    if not passphrase:
        raise InputError(_("Enter the passphrase of {path}.").format(path=source))
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, passphrase.encode())
    except ValueError as exc:
        raise InputError(_("The passphrase for {path} is wrong.").format(path=source)) from exc
    if cert is None or key is None:
        raise InputError(
            _("The file {path} must hold a certificate and its private key.").format(path=source)
        )
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, public) != (
        cert.public_key().public_bytes(serialization.Encoding.DER, public)
    ):
        raise InputError(
            _("The private key in {path} does not belong to its certificate.").format(path=source)
        )
    info = certificate_info(cert)
    moment = now or datetime.now(UTC)
    if info.expired(now=moment):
        raise InputError(
            _("The certificate in {path} expired on {date}.").format(
                path=source, date=format_datetime(info.not_after)
            )
        )
    if moment < info.not_before:
        raise InputError(
            _("The certificate in {path} is not valid before {date}.").format(
                path=source, date=format_datetime(info.not_before)
            )
        )
    from keyring.errors import KeyringError

    keyring = _keyring()  # refuse before anything is written when there is none
    identity = client_identity(data_dir)
    service = identity.keyring_service
    pem = serialization.Encoding.PEM
    previous = keyring.get_password(service, ACCOUNT)
    try:  # the passphrase first: files that nothing can open are worse than no files
        keyring.set_password(service, ACCOUNT, passphrase)
    except KeyringError as exc:
        raise NoKeyringError(
            _("The OS keyring refused to keep the certificate's passphrase: {problem}").format(
                problem=exc
            )
        ) from exc
    try:
        _write_private(
            identity.key_file,
            key.private_bytes(
                pem,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(passphrase.encode()),
            ),
        )
        _write_private(
            identity.cert_file, b"".join(c.public_bytes(pem) for c in [cert, *(chain or [])])
        )
    except StorageError:  # the certificate that was there stays usable
        if previous is None:
            keyring.delete_password(service, ACCOUNT)
        else:
            keyring.set_password(service, ACCOUNT, previous)
        raise
    return info


def remove_identity(data_dir: DataDir) -> bool:
    """Delete the client certificate, its key and its passphrase; False when there was none."""
    identity = client_identity(data_dir)
    found = identity.cert_file.exists() or identity.key_file.exists()
    try:
        identity.cert_file.unlink(missing_ok=True)
        identity.key_file.unlink(missing_ok=True)
    except OSError as exc:
        raise StorageError(
            _("The client certificate in {path} cannot be deleted: {problem}").format(
                path=identity.cert_file.parent, problem=exc.strerror or exc
            )
        ) from exc
    keyring = _keyring()
    if keyring.get_password(identity.keyring_service, ACCOUNT) is not None:
        keyring.delete_password(identity.keyring_service, ACCOUNT)
        found = True
    return found


def certificate_info(cert: x509.Certificate) -> CertificateInfo:
    """The parts of `cert` shown to people."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    organisations = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        organisation=str(organisations[0].value) if organisations else None,
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
    )


def _read_pkcs12(source: Path) -> bytes:
    try:
        with source.open("rb") as handle:
            data = handle.read(MAX_PKCS12_BYTES + 1)
    except OSError as exc:
        raise InputError(
            _("The file {path} cannot be read: {problem}").format(
                path=source, problem=exc.strerror or exc
            )
        ) from exc
    if len(data) > MAX_PKCS12_BYTES or not _looks_like_pkcs12(data):
        raise InputError(
            _("The file {path} is not a PKCS#12 client certificate (.p12 or .pfx).").format(
                path=source
            )
        )
    return data


def _looks_like_pkcs12(data: bytes) -> bool:
    """Whether `data` starts as a DER PFX does (a SEQUENCE, then version 3), so that a failure
    to open it can be blamed on the passphrase rather than on the file."""
    if len(data) < 8 or data[0] != 0x30:
        return False
    length = data[1]
    start = 2 + (length & 0x7F if length & 0x80 else 0)
    return data[start : start + 3] == b"\x02\x01\x03"


def _write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data`, readable by the owner only, whole or not at all."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        write_atomically(path, data, mode=0o600)
    except OSError as exc:
        raise StorageError(
            _("The client certificate cannot be saved to {path}: {problem}").format(
                path=path, problem=exc.strerror or exc
            )
        ) from exc


def _keyring() -> KeyringBackend:
    return os_keyring(
        _(
            "No OS keyring is available to keep your client certificate's passphrase safe "
            "({backend}). Install and unlock one (GNOME Keyring or KWallet on Linux; macOS and "
            "Windows have one built in), then import the certificate again. Passphrases are "
            "never stored in plain text."
        )
    )
