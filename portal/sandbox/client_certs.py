"""Organisation client certificates from the sandbox's partner CA, as PKCS#12 files for mTLS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from portal.sandbox.store import Organisation
from portal.sandbox.tls import TLSFiles

ORGANISATION_URI = "urn:aic-platform:organisation:"
DEFAULT_VALIDITY = timedelta(days=365)


def issue_client_certificate(
    tls: TLSFiles,
    *,
    organisation_id: str,
    organisation_name: str,
    passphrase: str,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> bytes:
    """A PKCS#12 with a new key and a partner-CA certificate naming the organisation.

    The organisation's id goes into a URI subject alternative name, which the server compares
    with the organisation of the bearer token; the name is only for people to read.
    """
    start = valid_from or datetime.now(UTC) - timedelta(minutes=5)
    end = valid_until or start + DEFAULT_VALIDITY
    ca_key = serialization.load_pem_private_key(tls.partner_ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate(tls.partner_ca.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation_name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation_name} (partner client)"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(ORGANISATION_URI + organisation_id)]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        organisation_name.encode(),
        key,
        cert,
        None,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )


def certificate_organisation(der: bytes) -> str | None:
    """The organisation id a client certificate was issued for, if it names one."""
    try:
        names = (
            x509.load_der_x509_certificate(der)
            .extensions.get_extension_for_class(x509.SubjectAlternativeName)
            .value.get_values_for_type(x509.UniformResourceIdentifier)
        )
    except (ValueError, x509.ExtensionNotFound):
        return None
    found = [n.removeprefix(ORGANISATION_URI) for n in names if n.startswith(ORGANISATION_URI)]
    return found[0] if len(found) == 1 else None


def find_organisation(sessions: sessionmaker[Any], key: str) -> tuple[str, str] | None:
    """The (id, name) of the organisation whose id is `key`, or whose name it is in any case."""
    with sessions() as session:
        org = (
            session.get(Organisation, key)
            or session.scalars(
                select(Organisation).where(func.lower(Organisation.name) == key.strip().lower())
            ).first()
        )
        return (org.id, org.name) if org else None


def organisation_names(sessions: sessionmaker[Any]) -> list[str]:
    """Every organisation as "name (id)", for a message that says which exist."""
    with sessions() as session:
        return [f"{o.name} ({o.id})" for o in session.scalars(select(Organisation))]
