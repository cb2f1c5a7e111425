"""The sandbox's own CAs and loopback server certificate, made once per data dir.

Two CAs: one vouches for the server (clients trust it), the partner CA issues organisations'
client certificates (the server trusts it for mTLS). Keeping them apart means a server key could
never pass as a partner, nor a partner certificate as the server.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK_NAMES = ("localhost",)
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")
RENEW_BEFORE = timedelta(days=30)


@dataclass(frozen=True)
class TLSFiles:
    """Where the sandbox's CA certificate, server certificate and key, and partner CA are."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    partner_ca: Path

    @property
    def partner_ca_key(self) -> Path:
        """The partner CA's private key, which signs client certificates."""
        return self.partner_ca.with_name("partner-ca-key.pem")


def ensure_tls(folder: Path, *, now: datetime | None = None) -> TLSFiles:
    """The CAs and server certificate in `folder`, made or renewed when missing or near expiry."""
    folder.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server-key.pem",
        folder / "partner-ca.pem",
    )
    now = now or datetime.now(UTC)
    if not files.ca_cert.exists() or _expires_soon(files.ca_cert, now):
        _write_ca(files.ca_cert, folder / "ca-key.pem", "AIC Partner Portal sandbox CA", now)
        files.server_cert.unlink(missing_ok=True)
    if not files.partner_ca.exists() or _expires_soon(files.partner_ca, now):
        _write_ca(
            files.partner_ca, files.partner_ca_key, "AIC Partner Portal sandbox partner CA", now
        )
    if not files.server_cert.exists() or _expires_soon(files.server_cert, now):
        _write_server(files, now)
    return files


def _expires_soon(path: Path, now: datetime) -> bool:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.not_valid_after_utc - now < RENEW_BEFORE


def _write_ca(cert_path: Path, key_path: Path, common_name: str, now: datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _write_server(files: TLSFiles, now: datetime) -> None:
    ca_key = serialization.load_pem_private_key(
        (files.ca_cert.parent / "ca-key.pem").read_bytes(), password=None
    )
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in LOOPBACK_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in LOOPBACK_ADDRESSES]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=397))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(files.server_key, key)
    files.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """A private key readable by its owner only; this is a loopback test server's own key."""
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def spki_pin(cert_path: Path) -> str:
    """The certificate's pin-sha256 (base64 SHA-256 of its SubjectPublicKeyInfo), for clients
    that pin the server's key."""
    key = x509.load_pem_x509_certificate(cert_path.read_bytes()).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")
