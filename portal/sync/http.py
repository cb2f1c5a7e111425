"""The one way the app makes HTTPS clients: OS trust store, extra CAs, explicit timeouts."""

from __future__ import annotations

import ssl
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from portal import __version__

if TYPE_CHECKING:
    import httpx

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0


_contexts: dict[tuple[str, float], ssl.SSLContext] = {}
_contexts_lock = threading.Lock()


def tls_context(*, ca_bundle: Path | None = None) -> ssl.SSLContext:
    """Verification against the OS trust store (corporate CAs work) plus `ca_bundle`.

    Made once per CA file (again when the file changes), under a lock, and shared: an SSLContext
    is safe to use from several threads, and reading a CA file per request would cost time.
    """
    key = (str(ca_bundle), ca_bundle.stat().st_mtime if ca_bundle else 0.0)
    with _contexts_lock:
        if key not in _contexts:
            import truststore

            context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            if ca_bundle is not None:
                context.load_verify_locations(cafile=str(ca_bundle))
            _contexts[key] = context
        return _contexts[key]


def marketplace_client(
    base_url: str, *, ca_bundle: Path | None = None, timeout: float | None = None
) -> httpx.Client:
    """An httpx client for the marketplace at `base_url`; TLS verification is always on."""
    import httpx

    limits = httpx.Timeout(
        timeout or READ_TIMEOUT_S, connect=min(timeout or CONNECT_TIMEOUT_S, CONNECT_TIMEOUT_S)
    )
    return httpx.Client(
        base_url=base_url,
        verify=tls_context(ca_bundle=ca_bundle),
        timeout=limits,
        follow_redirects=False,
        headers={"User-Agent": f"aic-partner-portal/{__version__}"},
    )
