"""Why a marketplace (or a pin) refused a connection, told apart from network trouble: these
are not worth a retry, and each has something the user can do about it."""

from __future__ import annotations

import ssl
from enum import StrEnum
from typing import TYPE_CHECKING

from portal.errors import ErrorKind, PortalError
from portal.i18n import _

if TYPE_CHECKING:
    import httpx

# RFC 9457 problem types of the marketplace's mTLS refusals (answered over HTTP, not in TLS).
CERTIFICATE_REQUIRED_TYPE = "urn:aic-platform:problem:client-certificate-required"
CERTIFICATE_MISMATCH_TYPE = "urn:aic-platform:problem:client-certificate-mismatch"


class Refusal(StrEnum):
    """Why the marketplace, or the pins, refused this connection; none is worth a retry."""

    CERTIFICATE_REQUIRED = "certificate_required"
    CERTIFICATE_REFUSED = "certificate_refused"
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_MISMATCH = "certificate_mismatch"
    PIN_MISMATCH = "pin_mismatch"
    PINS_THROUGH_PROXY = "pins_through_proxy"

    def explain(self) -> str:
        """What happened and what to do, in the current language."""
        return {
            Refusal.CERTIFICATE_REQUIRED: _(
                "The marketplace requires your organisation's client certificate. Import it "
                "in Settings or with `aic-portal cert import FILE.p12`."
            ),
            Refusal.CERTIFICATE_REFUSED: _(
                "The marketplace refused your client certificate: it was not issued by the "
                "marketplace's partner CA, or it was revoked. Import your organisation's "
                "current certificate."
            ),
            Refusal.CERTIFICATE_EXPIRED: _(
                "The marketplace refused your client certificate because it has expired. "
                "Import your organisation's current certificate."
            ),
            Refusal.CERTIFICATE_MISMATCH: _(
                "Your client certificate belongs to another organisation than your sign-in. "
                "Import your organisation's certificate, or sign in for the organisation "
                "of the certificate."
            ),
            Refusal.PIN_MISMATCH: _(
                "The marketplace's key matches none of the pinned keys (pin-sha256), so "
                "nothing was sent to it. If its key changed, update the pins in Settings."
            ),
            Refusal.PINS_THROUGH_PROXY: _(
                "Pinned keys cannot be checked through an https:// proxy. Use an http:// "
                "proxy (the marketplace's TLS still runs end to end through it)."
            ),
        }[self]


class RefusedError(PortalError):
    """The connection was refused for its certificates or pins; retrying cannot help."""

    kind = ErrorKind.NETWORK

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.explain())
        self.refusal = refusal


# TLS alerts a server sends about the client's certificate (OpenSSL's reason names).
_ALERTS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": Refusal.CERTIFICATE_REQUIRED,
    "TLSV1_ALERT_UNKNOWN_CA": Refusal.CERTIFICATE_REFUSED,
    "SSLV3_ALERT_BAD_CERTIFICATE": Refusal.CERTIFICATE_REFUSED,
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": Refusal.CERTIFICATE_REFUSED,
    "SSLV3_ALERT_CERTIFICATE_REVOKED": Refusal.CERTIFICATE_REFUSED,
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": Refusal.CERTIFICATE_REFUSED,
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": Refusal.CERTIFICATE_EXPIRED,
}


def refusal_of(error: BaseException) -> Refusal | None:
    """The refusal behind a transport error (httpx wraps httpcore, which wraps ssl), if any."""
    from portal.sync.pins import PinMismatchError, PinsThroughProxyError

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, PinMismatchError):
            return Refusal.PIN_MISMATCH
        if isinstance(seen, PinsThroughProxyError):
            return Refusal.PINS_THROUGH_PROXY
        if isinstance(seen, ssl.SSLError) and seen.reason in _ALERTS:
            return _ALERTS[seen.reason]
        seen = seen.__cause__ or seen.__context__
    return None


def refusal_in(response: httpx.Response) -> Refusal | None:
    """The refusal a marketplace answered over HTTP (a 403 problem of an mTLS type), if any."""
    if response.status_code != 403:
        return None
    try:
        kind = response.json().get("type")
    except (ValueError, AttributeError):
        return None
    return {
        CERTIFICATE_REQUIRED_TYPE: Refusal.CERTIFICATE_REQUIRED,
        CERTIFICATE_MISMATCH_TYPE: Refusal.CERTIFICATE_MISMATCH,
    }.get(kind)
