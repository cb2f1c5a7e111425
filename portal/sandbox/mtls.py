"""mTLS in the sandbox: the client certificate reaches the app, and the API needs one.

The TLS layer asks every client for a certificate and refuses, in the handshake, one that the
partner CA did not sign or that has expired. A client with no certificate still gets through
the handshake, because the browser pages of the sign-in (which a browser without the
organisation's certificate must show) are exempt; every other path answers it with a 403 whose
problem type tells the client that it must present its organisation's certificate.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from portal.sandbox.problems import problem_response

PEER_CERTIFICATE = "client_certificate"
CERTIFICATE_REQUIRED = "urn:aic-platform:problem:client-certificate-required"
CERTIFICATE_MISMATCH = "urn:aic-platform:problem:client-certificate-mismatch"
BROWSER_PAGES = frozenset({"/oauth/authorize", "/device"})


class PeerCertificateProtocol(H11Protocol):
    """uvicorn's h11 protocol that also hands the app the client's verified certificate.

    uvicorn keeps the TLS transport to itself; what an ASGI app does get is `scope["state"]`,
    a copy of the server's state dict per request. Each connection gets its own copy of that
    dict with the peer certificate (DER, or None) in it, read in `connection_made`, which
    asyncio calls once the handshake, and so the verification, is done.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Note the peer certificate, for every request on this connection."""
        super().connection_made(transport)
        tls = transport.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True) if isinstance(tls, ssl.SSLObject) else None
        self.app_state = {**self.app_state, PEER_CERTIFICATE: der}


def tls_options(partner_ca: Path) -> dict[str, Any]:
    """uvicorn.Config options that ask for client certificates and check them in the handshake."""
    return {
        "ssl_cert_reqs": ssl.CERT_OPTIONAL,
        "ssl_ca_certs": str(partner_ca),
        "http": PeerCertificateProtocol,
    }


def peer_certificate(request: Request) -> bytes | None:
    """The DER client certificate of the request's connection, when it presented one."""
    value = getattr(request.state, PEER_CERTIFICATE, None)
    return value if isinstance(value, bytes) else None


class RequireClientCertificate:
    """ASGI middleware: a request without a client certificate gets a 403 problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in BROWSER_PAGES:
            request = Request(scope)
            if peer_certificate(request) is None:
                response = problem_response(
                    request,
                    403,
                    detail="This marketplace requires your organisation's client certificate "
                    "(mTLS); present one issued by the partner CA.",
                    extra={"type": CERTIFICATE_REQUIRED},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
