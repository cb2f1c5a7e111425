"""The one way the app makes HTTPS clients: OS trust store, extra CAs, explicit timeouts."""

from __future__ import annotations

import ssl
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portal import __version__
from portal.errors import InputError
from portal.i18n import _

if TYPE_CHECKING:
    import httpx
    from tenacity import RetryCallState

    from portal.cancel import CancelToken

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0


_contexts: dict[tuple[str, float], ssl.SSLContext] = {}
_contexts_lock = threading.Lock()


def tls_context(*, ca_bundle: Path | None = None) -> ssl.SSLContext:
    """Verification against the OS trust store (corporate CAs work) plus `ca_bundle`.

    Made once per CA file (again when the file changes), under a lock, and shared: an SSLContext
    is safe to use from several threads, and reading a CA file per request would cost time.
    """
    try:
        key = (str(ca_bundle), ca_bundle.stat().st_mtime if ca_bundle else 0.0)
        with _contexts_lock:
            if key not in _contexts:
                import truststore

                context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                if ca_bundle is not None:
                    context.load_verify_locations(cafile=str(ca_bundle))
                _contexts[key] = context
            return _contexts[key]
    except (OSError, ssl.SSLError) as exc:
        raise InputError(
            _("The CA certificate file {path} cannot be read: {problem}").format(
                path=ca_bundle, problem=getattr(exc, "strerror", None) or exc
            )
        ) from exc


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
    Raises TransientError when every try failed that way.
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
                raise TransientError(type(exc).__name__) from exc
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
