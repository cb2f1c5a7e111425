"""Whether the marketplace can be reached now, for the status bar and before a sync."""

from __future__ import annotations

from dataclasses import dataclass

from portal.i18n import _


@dataclass(frozen=True)
class Reachability:
    """The answer of one probe; `reason` says in the user's words why it is offline."""

    online: bool
    reason: str | None = None


def probe_marketplace(url: str | None, *, timeout: float = 5.0) -> Reachability:
    """Any HTTP answer means online; no answer, a timeout or a TLS failure means offline."""
    if not url:
        return Reachability(False, _("No marketplace is configured."))
    import httpx

    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            client.head(url)
    except httpx.TimeoutException:
        return Reachability(False, _("The marketplace did not answer in time."))
    except httpx.ConnectError as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return Reachability(False, _("The marketplace's certificate is not trusted."))
        return Reachability(False, _("The marketplace cannot be reached."))
    except httpx.HTTPError:
        return Reachability(False, _("The marketplace cannot be reached."))
    return Reachability(True)
