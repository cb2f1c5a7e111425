"""Whether the marketplace can be reached now, for the status bar and before a sync."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from portal.i18n import _
from portal.sync.refusals import Refusal

if TYPE_CHECKING:
    import httpx

    from portal.auth.oauth import Marketplace


class Problem(StrEnum):
    """Why the marketplace is not reachable; put into words only when shown."""

    UNCONFIGURED = "unconfigured"
    NOT_A_MARKETPLACE = "not_a_marketplace"
    TIMEOUT = "timeout"
    UNTRUSTED = "untrusted"
    UNREACHABLE = "unreachable"
    UNUSABLE_CERTIFICATE = "unusable_certificate"
    REFUSED = "refused"
    CLOSED_AFTER_CERTIFICATE = "closed_after_certificate"


@dataclass(frozen=True)
class Reachability:
    """The answer of one probe of `url`; `problem` says why it is offline, `refusal` how a
    certificate or pin was refused, `detail` what was wrong with the local client certificate."""

    url: str | None
    problem: Problem | None = None
    refusal: Refusal | None = None
    detail: str = ""

    @property
    def online(self) -> bool:
        """Whether the marketplace answered."""
        return self.problem is None

    def reason(self) -> str:
        """Why it is offline, in the current language (empty when online)."""
        if self.refusal is not None:
            return self.refusal.explain()
        if self.detail:
            return self.detail
        return {
            None: "",
            Problem.UNCONFIGURED: _("No marketplace is configured."),
            Problem.NOT_A_MARKETPLACE: _(
                "The address answers, but not as an AIC-Platform marketplace."
            ),
            Problem.TIMEOUT: _("The marketplace did not answer in time."),
            Problem.UNTRUSTED: _("The marketplace's certificate is not trusted."),
            Problem.UNREACHABLE: _("The marketplace cannot be reached."),
            Problem.UNUSABLE_CERTIFICATE: _("Your client certificate cannot be used."),
            Problem.REFUSED: _("The marketplace refused the connection."),
            Problem.CLOSED_AFTER_CERTIFICATE: _(
                "The marketplace closed the connection without answering after your client "
                "certificate was presented: it may have refused the certificate (one its partner "
                "CA did not issue, or a revoked one). Import your organisation's current "
                "certificate, or ask the marketplace's operators."
            ),
        }[self.problem]


def probe_marketplace(market: Marketplace | None, *, timeout: float = 5.0) -> Reachability:
    """Ask the marketplace's health endpoint; say in which way it failed if it did."""
    if market is None:
        return Reachability(None, Problem.UNCONFIGURED)
    import httpx

    from portal.auth.identity import IdentityError
    from portal.auth.tokens import NoKeyringError
    from portal.errors import InputError
    from portal.sync.refusals import refusal_in, refusal_of

    url = market.url
    try:
        with market.client(timeout=timeout) as client:
            response = client.get("/v1/health")
    except httpx.TimeoutException:
        return Reachability(url, Problem.TIMEOUT)
    except httpx.TransportError as exc:
        refused = refusal_of(exc)
        if refused is not None:
            return Reachability(url, Problem.REFUSED, refused)
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError) and _presented(market):
            # asyncio servers (uvicorn) drop the TLS alert that would say why
            return Reachability(url, Problem.CLOSED_AFTER_CERTIFICATE)
        if isinstance(exc.__cause__, ssl.SSLCertVerificationError) or "CERTIFICATE" in str(exc):
            return Reachability(url, Problem.UNTRUSTED)
        return Reachability(url, Problem.UNREACHABLE)
    except httpx.HTTPError:
        return Reachability(url, Problem.UNREACHABLE)
    except (IdentityError, NoKeyringError) as exc:
        return Reachability(url, Problem.UNUSABLE_CERTIFICATE, detail=exc.message)
    except InputError:  # the extra CA file is gone or unreadable
        return Reachability(url, Problem.UNTRUSTED)
    refused = refusal_in(response)
    if refused is not None:
        return Reachability(url, Problem.REFUSED, refused)
    healthy = response.status_code == 200 and _says_ok(response)
    return Reachability(url) if healthy else Reachability(url, Problem.NOT_A_MARKETPLACE)


def _presented(market: Marketplace) -> bool:
    """Whether connections to `market` carry a client certificate."""
    return market.identity is not None and market.identity.cert_file.exists()


def _says_ok(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status") == "ok" and body.get("api") == "v1"
