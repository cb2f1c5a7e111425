"""Sign-in, token refresh and sign-out against the marketplace's authorisation server."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from portal.auth.identity import ClientIdentity, client_identity
from portal.auth.loopback import LoopbackReceiver
from portal.auth.tokens import Tokens, TokenStore
from portal.cancel import CancelToken
from portal.errors import ErrorKind, PortalError
from portal.i18n import _
from portal.paths import DataDir
from portal.settings import Settings

if TYPE_CHECKING:
    import httpx

CLIENT_ID = "aic-partner-portal"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SCOPE = "partner"
SIGN_IN_TIMEOUT_S = 300.0


class AuthError(PortalError):
    """The marketplace did not accept the sign-in; the user must sign in (again)."""

    kind = ErrorKind.AUTH

    def __init__(self, message: str, *, oauth_error: str | None = None) -> None:
        super().__init__(message)
        self.oauth_error = oauth_error


class NetworkError(PortalError):
    """The marketplace could not be reached or answered with something unusable."""

    kind = ErrorKind.NETWORK


@dataclass(frozen=True)
class Marketplace:
    """Where the marketplace is, which extra CA vouches for it, and how to connect to it."""

    url: str
    ca_bundle: Path | None = None
    name: str | None = None  # a stable name for one whose URL changes (the embedded sandbox)
    identity: ClientIdentity | None = None
    pins: tuple[str, ...] = ()
    proxy: str | None = None

    @property
    def account(self) -> str:
        """What its sign-in is filed under in the keyring."""
        return self.name or self.url

    def client(self, *, timeout: float | None = None) -> httpx.Client:
        """An HTTPS client for this marketplace."""
        from portal.sync.http import marketplace_client

        return marketplace_client(
            self.url,
            ca_bundle=self.ca_bundle,
            identity=self.identity,
            pins=self.pins,
            proxy=self.proxy,
            timeout=timeout,
        )


def configured_marketplace(data_dir: DataDir, settings: Settings) -> Marketplace | None:
    """The marketplace the settings name, with this data dir's client certificate (when one is
    imported), the pins and the proxy; None when none is configured."""
    if not settings.marketplace_url:
        return None
    return Marketplace(
        settings.marketplace_url,
        Path(settings.ca_bundle) if settings.ca_bundle else None,
        identity=client_identity(data_dir),
        pins=settings.pins,
        proxy=settings.proxy,
    )


def pkce_pair() -> tuple[str, str]:
    """A random PKCE verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_in(
    market: Marketplace,
    store: TokenStore,
    *,
    open_url: Callable[[str], object],
    cancel: CancelToken,
    timeout: float = SIGN_IN_TIMEOUT_S,
) -> Tokens:
    """Send the user to the sign-in page in their browser, take the code back, keep the tokens."""
    store.load()  # fail now, not after the browser, when there is no keyring
    state = secrets.token_urlsafe(16)
    receiver = LoopbackReceiver(state=state)
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": receiver.redirect_uri,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "scope": SCOPE,
            "state": state,
        }
    )
    open_url(f"{market.url}/oauth/authorize?{query}")
    answer = receiver.wait(cancel=cancel, timeout=timeout)
    if answer.get("state") != state:
        raise AuthError(_("The sign-in answer did not match this request. Try again."))
    if "code" not in answer:
        raise AuthError(
            _("The marketplace refused the sign-in ({error}).").format(
                error=answer.get("error", "?")
            )
        )
    tokens = _token_request(
        market,
        {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": receiver.redirect_uri,
            "code_verifier": verifier,
        },
    )
    store.save(tokens)
    return tokens


def sign_in_with_device_code(
    market: Marketplace,
    store: TokenStore,
    *,
    show_code: Callable[[str, str], object],
    cancel: CancelToken,
) -> Tokens:
    """RFC 8628: show a short code to enter on any device, and wait until it is approved."""
    import httpx

    store.load()  # fail now, not after the wait, when there is no keyring
    try:
        with market.client() as client:
            started = client.post(
                "/oauth/device_authorization", data={"client_id": CLIENT_ID, "scope": SCOPE}
            )
    except httpx.HTTPError as exc:
        raise _unreachable(market, exc) from exc
    _raise_refusal(started)
    offer = _json(started)
    if started.status_code != 200 or "device_code" not in offer:
        raise NetworkError(
            _("The marketplace answered the sign-in with an unexpected {status}.").format(
                status=started.status_code
            )
        )
    show_code(offer["user_code"], offer.get("verification_uri_complete", offer["verification_uri"]))
    interval = float(offer.get("interval", 5))
    deadline = time.monotonic() + float(offer.get("expires_in", 600))
    form = {"grant_type": DEVICE_GRANT, "device_code": offer["device_code"]}
    while time.monotonic() < deadline:
        cancel.sleep(interval)
        try:
            tokens = _token_request(market, form)
        except AuthError as exc:
            if exc.oauth_error == "authorization_pending":
                continue
            if exc.oauth_error == "slow_down":
                interval += 5  # RFC 8628 §3.5
                continue
            raise
        store.save(tokens)
        return tokens
    raise AuthError(_("The sign-in code expired before it was used. Start again."))


_refresh_locks: dict[tuple[str, str], threading.Lock] = {}
_refresh_locks_guard = threading.Lock()


def access_token(market: Marketplace, store: TokenStore, *, rejected: str | None = None) -> str:
    """A live access token; refreshed when expired or `rejected` (a 401), one refresh at a time.

    Refresh tokens rotate and the marketplace revokes the whole sign-in when one is used twice,
    so two threads must never refresh with the same token: the second waits, then reads the
    tokens the first one saved.
    """
    with _refresh_locks_guard:
        lock = _refresh_locks.setdefault((store.service, store.account), threading.Lock())
    with lock:
        tokens = store.load()
        if tokens is None:
            raise AuthError(_("You are not signed in to {url}.").format(url=market.url))
        if tokens.expired() or tokens.access_token == rejected:
            try:
                renewed = _token_request(
                    market, {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
                )
            except AuthError:
                current = store.load()
                if current is not None and current.refresh_token == tokens.refresh_token:
                    store.clear()
                raise
            store.save(renewed)
            tokens = renewed
        return tokens.access_token


def sign_out(market: Marketplace, store: TokenStore) -> bool:
    """Revoke the sign-in at the marketplace and forget the tokens; False if it was unreachable."""
    tokens = store.load()
    store.clear()
    if tokens is None:
        return True
    import httpx

    try:
        with market.client() as client:
            client.post("/oauth/revoke", data={"token": tokens.refresh_token})
    except httpx.HTTPError:
        return False
    return True


def _token_request(market: Marketplace, form: dict[str, str]) -> Tokens:
    import httpx

    try:
        with market.client() as client:
            response = client.post("/oauth/token", data={**form, "client_id": CLIENT_ID})
    except httpx.HTTPError as exc:
        raise _unreachable(market, exc) from exc
    _raise_refusal(response)
    body = _json(response)
    if response.status_code in (400, 401) and body.get("error"):
        raise AuthError(
            _(
                "The marketplace did not accept the sign-in ({reason}). Please sign in again."
            ).format(reason=body.get("error_description") or body["error"]),
            oauth_error=str(body["error"]),
        )
    if response.status_code != 200 or not {"access_token", "refresh_token"} <= body.keys():
        raise NetworkError(
            _("The marketplace answered the sign-in with an unexpected {status}.").format(
                status=response.status_code
            )
        )
    lifetime = timedelta(seconds=int(body.get("expires_in", 0)))
    return Tokens(body["access_token"], body["refresh_token"], datetime.now(UTC) + lifetime)


def _unreachable(market: Marketplace, exc: Exception) -> PortalError:
    from portal.sync.refusals import RefusedError, refusal_of

    refused = refusal_of(exc)
    if refused is not None:
        return RefusedError(refused)
    return NetworkError(
        _("The marketplace at {url} could not be reached ({problem}).").format(
            url=market.url, problem=type(exc).__name__
        )
    )


def _raise_refusal(response: httpx.Response) -> None:
    from portal.sync.refusals import RefusedError, refusal_in

    refused = refusal_in(response)
    if refused is not None:
        raise RefusedError(refused)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
