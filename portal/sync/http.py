"""The one way the app makes HTTPS clients: OS trust store, extra CAs, the organisation's client
certificate, SPKI pins, a proxy, explicit timeouts."""

from __future__ import annotations

import ssl
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portal import __version__
from portal.errors import InputError
from portal.i18n import _
from portal.sync.refusals import RefusedError, refusal_in, refusal_of

if TYPE_CHECKING:
    import httpx
    from tenacity import RetryCallState

    from portal.auth.identity import CertificateInfo, ClientIdentity
    from portal.cancel import CancelToken

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0


_contexts: dict[tuple[object, ...], tuple[ssl.SSLContext, CertificateInfo | None]] = {}
_contexts_lock = threading.Lock()


def tls_context(
    *,
    ca_bundle: Path | None = None,
    identity: ClientIdentity | None = None,
    pins: tuple[str, ...] = (),
) -> ssl.SSLContext:
    """Verification against the OS trust store (corporate CAs work) plus `ca_bundle`, then the
    SPKI `pins`; the client certificate of `identity`, once imported, is presented.

    Made once per CA file, certificate and pins (again when a file changes), under a lock, and
    shared: an SSLContext is safe to use from several threads, and reading files and a keyring
    per request would cost time. An expired certificate stops the connection before it starts.
    """
    key = (
        str(ca_bundle),
        _stamp(ca_bundle) if ca_bundle else None,
        str(identity.cert_file) if identity else None,
        _stamp(identity.cert_file) if identity else None,
        _stamp(identity.key_file) if identity else None,
        tuple(sorted(pins)),
    )
    with _contexts_lock:
        if key not in _contexts:
            _contexts[key] = _make_context(ca_bundle, identity, pins)
        context, certificate = _contexts[key]
    if certificate is not None:
        certificate.refuse_if_expired()
    return context


def _make_context(
    ca_bundle: Path | None, identity: ClientIdentity | None, pins: tuple[str, ...]
) -> tuple[ssl.SSLContext, CertificateInfo | None]:
    import truststore

    context: ssl.SSLContext
    if pins:
        from portal.sync.pins import PinnedSSLContext

        context = pinned = PinnedSSLContext(ssl.PROTOCOL_TLS_CLIENT)
        pinned.pins = frozenset(pins)
    else:
        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise InputError(
                _("The CA certificate file {path} cannot be read: {problem}").format(
                    path=ca_bundle, problem=getattr(exc, "strerror", None) or exc
                )
            ) from exc
    certificate = identity.info() if identity is not None else None
    if identity is not None and certificate is not None:
        from portal.auth.identity import IdentityError

        passphrase = identity.passphrase()
        try:
            context.load_cert_chain(identity.cert_file, identity.key_file, password=passphrase)
        except (OSError, ssl.SSLError) as exc:
            raise IdentityError(
                _(
                    "Your client certificate in {path} cannot be opened with the passphrase in "
                    "the keyring ({problem}). Import the certificate again."
                ).format(
                    path=identity.cert_file.parent, problem=getattr(exc, "reason", None) or exc
                )
            ) from exc
    return context, certificate


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """Which version of `path` is there (a replaced file is a new inode even within one clock
    tick); None when it cannot be seen (loading it then says why)."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_mtime_ns, found.st_ino, found.st_size


def marketplace_client(
    base_url: str,
    *,
    ca_bundle: Path | None = None,
    identity: ClientIdentity | None = None,
    pins: tuple[str, ...] = (),
    proxy: str | None = None,
    timeout: float | None = None,
) -> httpx.Client:
    """An httpx client for the marketplace at `base_url`; TLS verification is always on.

    Without a `proxy`, HTTPS_PROXY, ALL_PROXY and NO_PROXY from the environment apply.
    """
    import httpx

    limits = httpx.Timeout(
        timeout or READ_TIMEOUT_S, connect=min(timeout or CONNECT_TIMEOUT_S, CONNECT_TIMEOUT_S)
    )
    return httpx.Client(
        base_url=base_url,
        verify=tls_context(ca_bundle=ca_bundle, identity=identity, pins=pins),
        proxy=proxy,
        trust_env=True,
        timeout=limits,
        follow_redirects=False,
        headers={"User-Agent": f"aic-partner-portal/{__version__}"},
    )


TRIES = 6
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0


class TransientError(Exception):
    """A failure worth trying again with the same request: no answer, 5xx, 429."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def request_with_retries(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    cancel: CancelToken,
    json: Any = None,
) -> httpx.Response:
    """A request retried with backoff (or as Retry-After says) while the failure is transient.

    Only for requests that are safe to repeat: reads, and writes that carry an Idempotency-Key.
    Raises TransientError when every try failed that way, RefusedError at once for a refused
    certificate or pin.
    """
    import httpx
    from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

    retrying = Retrying(
        stop=stop_after_attempt(TRIES),
        wait=_wait,
        retry=retry_if_exception_type(TransientError),
        sleep=cancel.sleep,
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            try:
                response = client.request(method, path, json=json, headers=headers)
            except httpx.TransportError as exc:  # no answer: the server may or may not have acted
                refused = refusal_of(exc)
                if refused is not None:
                    raise RefusedError(refused) from exc
                raise TransientError(type(exc).__name__) from exc
            refused = refusal_in(response)
            if refused is not None:
                raise RefusedError(refused)
            if response.status_code in TRANSIENT_STATUS:
                raise TransientError(
                    f"HTTP {response.status_code}", retry_after=_retry_after(response)
                )
            return response
    raise AssertionError("unreachable: tenacity reraises the last error")


def _wait(state: RetryCallState) -> float:
    """Retry-After when the server gave one; otherwise exponential backoff with jitter."""
    from tenacity import wait_random_exponential

    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, TransientError) and error.retry_after is not None:
        return error.retry_after
    return float(wait_random_exponential(multiplier=0.05, max=5.0)(state))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return None
