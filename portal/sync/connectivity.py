"""Whether the marketplace can be reached now, for the status bar and before a sync."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from portal.i18n import _


class Problem(StrEnum):
    """Why the marketplace is not reachable; put into words only when shown."""

    UNCONFIGURED = "unconfigured"
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
            Problem.TIMEOUT: _("The marketplace did not answer in time."),
            Problem.UNTRUSTED: _("The marketplace's certificate is not trusted."),
            Problem.UNREACHABLE: _("The marketplace cannot be reached."),
        }[self.problem]


def probe_marketplace(url: str | None, *, timeout: float = 5.0) -> Reachability:
    """Any HTTP answer means online; no answer, a timeout or a TLS failure means offline."""
    if not url:
        return Reachability(url, Problem.UNCONFIGURED)
    import httpx

    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            client.head(url)
    except httpx.TimeoutException:
        return Reachability(url, Problem.TIMEOUT)
    except httpx.ConnectError as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return Reachability(url, Problem.UNTRUSTED)
        return Reachability(url, Problem.UNREACHABLE)
    except httpx.HTTPError:
        return Reachability(url, Problem.UNREACHABLE)
    return Reachability(url)
