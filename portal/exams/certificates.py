"""Certificates the marketplace issued, fetched and checked before this computer keeps them."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from portal.auth.oauth import Marketplace, NetworkError
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken
from portal.db.models import Certificate
from portal.db.store import Store
from portal.exams.credentials import CredentialError, verify_credential
from portal.i18n import _
from portal.sync.reads import get_signed_in, unexpected

CERTIFICATES_PATH = "/v1/certificates"
log = logging.getLogger(__name__)


def refresh_certificates(
    store: Store,
    market: Marketplace,
    tokens: TokenStore,
    *,
    trusted_keys: list[Ed25519PublicKey],
    cancel: CancelToken | None = None,
) -> int:
    """Keep every certificate the marketplace lists for the partner; how many are new here.

    Each credential is verified with the marketplace keys this app trusts before it is kept, so a
    certificate on this computer is one `cert verify` accepts offline.
    """
    response = get_signed_in(market, tokens, CERTIFICATES_PATH, cancel=cancel or CancelToken())
    if response.status_code != 200:
        raise unexpected(CERTIFICATES_PATH, response)
    try:
        listed = response.json()
        credentials = [dict(entry["credential"]) for entry in listed]
    except (ValueError, KeyError, TypeError) as exc:
        raise NetworkError(_("The marketplace's list of certificates could not be read.")) from exc
    new = 0
    with store.session() as session, session.begin():
        known = set(session.scalars(select(Certificate.certificate_id)))
        for credential in credentials:
            row = _row(credential, trusted_keys)
            if row is not None and row.certificate_id not in known:
                session.add(row)
                known.add(row.certificate_id)
                new += 1
    return new


def _row(credential: dict[str, Any], trusted_keys: list[Ed25519PublicKey]) -> Certificate | None:
    """The row for a genuine credential; a forged or garbled one is logged and left out."""
    try:
        check = verify_credential(credential, trusted_keys=trusted_keys)
        certificate_id = str(credential["id"]).rsplit("/", 1)[-1]
        exam_id = str(credential["credentialSubject"]["achievement"]["id"]).rsplit("/", 1)[-1]
        score = float(Decimal(check.score))
    except (CredentialError, KeyError, TypeError, InvalidOperation) as exc:
        log.warning("certificate left out: %s", exc)
        return None
    if not check.genuine:
        log.warning("certificate %s left out: %s", certificate_id, check.problem)
        return None
    return Certificate(
        certificate_id=certificate_id[:64],
        exam_id=exam_id[:64],
        exam_title=check.exam_title[:300],
        holder_name=check.holder_name[:200],
        score=score,
        passed=True,
        issued_at=check.issued_at,
        document=credential,
    )
