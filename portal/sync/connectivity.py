"""Whether the marketplace can be reached now, for the status bar and before a sync."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from portal.i18n import _

if TYPE_CHECKING:
    import httpx


class Problem(StrEnum):
    """Why the marketplace is not reachable; put into words only when shown."""

    UNCONFIGURED = "unconfigured"
    NOT_A_MARKETPLACE = "not_a_marketplace"
    TIMEOUT = "timeout"
    UNTRUSTED = "untrusted"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Reachability:
    """The answer of one probe of `url`; `problem` says why it is offline."""

    url: str | None
    problem: Problem | None = None

    @property
    def online(self) -> bool:
        """Whether the marketplace answered."""
        return self.problem is None

    def reason(self) -> str:
        """Why it is offline, in the current language (empty when online)."""
        return {
            None: "",
            Problem.UNCONFIGURED: _("No marketplace is configured."),
            Problem.NOT_A_MARKETPLACE: _(
                "The address answers, but not as an AIC-Platform marketplace."
            ),
            Problem.TIMEOUT: _("The marketplace did not answer in time."),
            Problem.UNTRUSTED: _("The marketplace's certificate is not trusted."),
            Problem.UNREACHABLE: _("The marketplace cannot be reached."),
        }[self.problem]


def probe_marketplace(
    url: str | None, *, ca_bundle: Path | None = None, timeout: float = 5.0
) -> Reachability:
    """Ask the marketplace's health endpoint; say in which way it failed if it did."""
    if not url:
        return Reachability(url, Problem.UNCONFIGURED)
    import httpx

    from portal.errors import InputError
    from portal.sync.http import marketplace_client

    try:
        with marketplace_client(url, ca_bundle=ca_bundle, timeout=timeout) as client:
            response = client.get("/v1/health")
    except httpx.TimeoutException:
        return Reachability(url, Problem.TIMEOUT)
    except httpx.ConnectError as exc:
        if isinstance(exc.__cause__, ssl.SSLCertVerificationError) or "CERTIFICATE" in str(exc):
            return Reachability(url, Problem.UNTRUSTED)
        return Reachability(url, Problem.UNREACHABLE)
    except httpx.HTTPError:
        return Reachability(url, Problem.UNREACHABLE)
    except InputError:  # the extra CA file is gone or unreadable
        return Reachability(url, Problem.UNTRUSTED)
    healthy = response.status_code == 200 and _says_ok(response)
    return Reachability(url) if healthy else Reachability(url, Problem.NOT_A_MARKETPLACE)


def _says_ok(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status") == "ok" and body.get("api") == "v1"
