"""Sign-in, token refresh and sign-out against the marketplace's authorisation server."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from portal.auth.loopback import LoopbackReceiver
from portal.auth.tokens import Tokens, TokenStore
from portal.cancel import CancelToken
from portal.errors import ErrorKind, PortalError
from portal.i18n import _

if TYPE_CHECKING:
    import httpx

CLIENT_ID = "aic-partner-portal"
SCOPE = "partner"
SIGN_IN_TIMEOUT_S = 300.0


class AuthError(PortalError):
    """The marketplace did not accept the sign-in; the user must sign in (again)."""

    kind = ErrorKind.AUTH


class NetworkError(PortalError):
    """The marketplace could not be reached or answered with something unusable."""

    kind = ErrorKind.NETWORK


@dataclass(frozen=True)
class Marketplace:
    """Where the marketplace is and which extra CA vouches for it."""

    url: str
    ca_bundle: Path | None = None

    def client(self) -> httpx.Client:
        """An HTTPS client for this marketplace."""
        from portal.sync.http import marketplace_client

        return marketplace_client(self.url, ca_bundle=self.ca_bundle)


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
    receiver = LoopbackReceiver()
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
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


def access_token(market: Marketplace, store: TokenStore) -> str:
    """A live access token, refreshed (and the rotated refresh token kept) when it has expired."""
    tokens = store.load()
    if tokens is None:
        raise AuthError(_("You are not signed in to {url}.").format(url=market.url))
    if tokens.expired():
        try:
            tokens = _token_request(
                market, {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
            )
        except AuthError:
            store.clear()
            raise
        store.save(tokens)
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
        raise NetworkError(
            _("The marketplace at {url} could not be reached ({problem}).").format(
                url=market.url, problem=type(exc).__name__
            )
        ) from exc
    body = _json(response)
    if response.status_code in (400, 401) and body.get("error"):
        raise AuthError(
            _(
                "The marketplace did not accept the sign-in ({reason}). Please sign in again."
            ).format(reason=body.get("error_description") or body["error"])
        )
    if response.status_code != 200 or not {"access_token", "refresh_token"} <= body.keys():
        raise NetworkError(
            _("The marketplace answered the sign-in with an unexpected {status}.").format(
                status=response.status_code
            )
        )
    lifetime = timedelta(seconds=int(body.get("expires_in", 0)))
    return Tokens(body["access_token"], body["refresh_token"], datetime.now(UTC) + lifetime)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
