"""SPKI pins (HPKP's "pin-sha256"): the marketplace must show one of the keys the user pinned.

Checked in the TLS handshake, inside `wrap_socket`, so a server with another key never gets a
single byte of a request, and so never a bearer token.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
from typing import Any

import truststore


class PinMismatchError(ssl.SSLCertVerificationError):
    """The server's key is none of the pinned ones; the connection was closed unused."""


class PinsThroughProxyError(ssl.SSLError):
    """Pins are set and the connection would be TLS inside TLS, where they cannot be checked."""


def spki_pin(der_certificate: bytes) -> str:
    """The base64 SHA-256 of a certificate's SubjectPublicKeyInfo (its key, not its dates)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = x509.load_der_x509_certificate(der_certificate).public_key()
    spki = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


class PinnedSSLContext(truststore.SSLContext):
    """The OS trust store's verification, then the pins; both must pass."""

    pins: frozenset[str] = frozenset()

    def wrap_socket(self, sock: socket.socket, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        """Wrap and finish the handshake, then refuse a server whose key is not pinned."""
        tls = super().wrap_socket(sock, *args, **kwargs)
        if tls.version() is None:  # asked not to shake hands yet: do it now, before any data
            tls.do_handshake()
        der = tls.getpeercert(binary_form=True)
        if der is None or spki_pin(der) not in self.pins:
            tls.close()
            raise PinMismatchError(
                f"the server's key (pin-sha256 {spki_pin(der) if der else '?'}) is not pinned"
            )
        return tls

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        """Refused: TLS inside TLS (an https:// proxy) shakes hands later, out of our sight."""
        raise PinsThroughProxyError("pins cannot be checked through an https:// proxy")
