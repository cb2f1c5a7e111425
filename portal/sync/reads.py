"""Reading from the marketplace as the signed-in partner: one GET, its token refreshed once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.auth.oauth import Marketplace, NetworkError, access_token
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken
from portal.i18n import _
from portal.sync.http import TransientError, request_with_retries

if TYPE_CHECKING:
    import httpx


def get_signed_in(
    market: Marketplace, tokens: TokenStore, path: str, *, cancel: CancelToken
) -> httpx.Response:
    """The marketplace's answer to GET `path`; a 401 refreshes the token and asks once more."""
    import httpx

    bearer = access_token(market, tokens)
    try:
        with market.client() as client:
            response = _get(client, path, bearer, cancel)
            if response.status_code == 401:  # expired early or revoked: refresh once
                fresh = access_token(market, tokens, rejected=bearer)
                response = _get(client, path, fresh, cancel)
    except (httpx.HTTPError, TransientError) as exc:
        raise NetworkError(
            _("The marketplace at {url} could not be reached ({problem}).").format(
                url=market.url, problem=type(exc).__name__
            )
        ) from exc
    return response


def unexpected(path: str, response: httpx.Response) -> NetworkError:
    """The error for an answer the client has no use for, naming what was asked."""
    return NetworkError(
        _("The marketplace answered {what} with an unexpected {status}.").format(
            what=path, status=response.status_code
        )
    )


def _get(client: httpx.Client, path: str, bearer: str, cancel: CancelToken) -> httpx.Response:
    return request_with_retries(
        client, "GET", path, headers={"Authorization": f"Bearer {bearer}"}, cancel=cancel
    )
