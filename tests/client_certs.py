"""Client certificates for tests: issued by a sandbox's partner CA (or another one), as files."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)

from portal.sandbox.client_certs import find_organisation, issue_client_certificate
from portal.sandbox.store import open_store
from portal.sandbox.tls import TLSFiles
from tests.sandbox_server import RunningSandbox

PASSPHRASE = "correct horse battery staple"
LAGOS = "Lagos AI Integrators"
QUBIT = "Qubit Forge"


def organisation_id(sandbox: RunningSandbox, name: str) -> str:
    """The id the sandbox gave a seeded organisation."""
    state = sandbox.tls.ca_cert.parent.parent
    found = find_organisation(open_store(f"sqlite:///{state / 'marketplace.sqlite3'}"), name)
    assert found is not None, name
    return found[0]


def issue(
    sandbox: RunningSandbox,
    name: str = LAGOS,
    *,
    ca: TLSFiles | None = None,
    expired: bool = False,
    passphrase: str = PASSPHRASE,
) -> bytes:
    """A PKCS#12 for the organisation `name`, from the sandbox's partner CA unless `ca` says."""
    now = datetime.now(UTC)
    validity = (
        {"valid_from": now - timedelta(days=30), "valid_until": now - timedelta(days=1)}
        if expired
        else {}
    )
    return issue_client_certificate(
        ca or sandbox.tls,
        organisation_id=organisation_id(sandbox, name),
        organisation_name=name,
        passphrase=passphrase,
        **validity,
    )


def write_p12(folder: Path, data: bytes, name: str = "org.p12") -> Path:
    """The PKCS#12 as a file, as a partner would receive it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def raw_tls(sandbox: RunningSandbox, p12: bytes | None, folder: Path) -> ssl.SSLContext:
    """A plain client context trusting the sandbox and presenting `p12`'s certificate, if any,
    with no check of the app's own (so the server's refusals are what is tested)."""
    context = ssl.create_default_context(cafile=str(sandbox.tls.ca_cert))
    if p12 is not None:
        key, cert, _chain = pkcs12.load_key_and_certificates(p12, PASSPHRASE.encode())
        assert key is not None and cert is not None
        pem = folder / "client.pem"
        pem.write_bytes(
            cert.public_bytes(Encoding.PEM)
            + key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        )
        context.load_cert_chain(pem)
    return context
