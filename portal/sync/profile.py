"""The signed-in partner's organisation and profile: fetched from the marketplace, kept locally."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.sqlite import insert

from portal.auth.oauth import AuthError, Marketplace, NetworkError, access_token
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken
from portal.db.enums import PartnerType
from portal.db.models import PartnerOrganisation, PartnerProfile
from portal.db.store import Store
from portal.db.types import utcnow
from portal.i18n import _
from portal.sync.http import TransientError, request_with_retries


@dataclass(frozen=True)
class Whoami:
    """Who the sign-in speaks for, as the marketplace said."""

    organisation_id: str
    organisation: str
    partner_type: PartnerType
    tier: str
    regions: list[str]
    revenue_share: Decimal
    user_id: str
    user_name: str
    email: str


def fetch_profile(
    market: Marketplace, tokens: TokenStore, *, cancel: CancelToken | None = None
) -> Whoami:
    """GET /v1/partners/me with a live token; a rejected token signs the user out."""
    import httpx

    bearer = access_token(market, tokens)
    cancel = cancel or CancelToken()
    try:
        with market.client() as client:
            response = request_with_retries(
                client,
                "GET",
                "/v1/partners/me",
                headers={"Authorization": f"Bearer {bearer}"},
                cancel=cancel,
            )
            if response.status_code == 401:  # revoked or expired early: refresh once and retry
                bearer = access_token(market, tokens, rejected=bearer)
                response = request_with_retries(
                    client,
                    "GET",
                    "/v1/partners/me",
                    headers={"Authorization": f"Bearer {bearer}"},
                    cancel=cancel,
                )
    except (httpx.HTTPError, TransientError) as exc:
        raise NetworkError(
            _("The marketplace at {url} could not be reached ({problem}).").format(
                url=market.url, problem=type(exc).__name__
            )
        ) from exc
    if response.status_code == 401:
        raise AuthError(_("Your sign-in is no longer accepted. Please sign in again."))
    if response.status_code != 200:
        raise NetworkError(
            _("The marketplace answered {what} with an unexpected {status}.").format(
                what="/v1/partners/me", status=response.status_code
            )
        )
    return _parse(response)


def save_profile(store: Store, who: Whoami) -> None:
    """Keep the organisation and profile locally, so the dashboard shows them offline too.

    Upserts, written first in the transaction: two threads saving at once (a sync and the
    account panel) wait for each other instead of both inserting the same organisation.
    """
    with store.session() as session, session.begin():
        organisation = {
            "remote_id": who.organisation_id,
            "name": who.organisation,
            "partner_type": who.partner_type,
            "tier": who.tier,
            "regions": who.regions,
            "revenue_share": who.revenue_share,
            "updated_at": utcnow(),
        }
        session.execute(
            insert(PartnerOrganisation)
            .values(organisation)
            .on_conflict_do_update(index_elements=["remote_id"], set_=organisation)
        )
        org_id = session.scalars(
            select(PartnerOrganisation.id).where(
                PartnerOrganisation.remote_id == who.organisation_id
            )
        ).one()
        person = {
            "remote_id": who.user_id,
            "organisation_id": org_id,
            "display_name": who.user_name,
            "email": who.email,
            "updated_at": utcnow(),
        }
        session.execute(
            insert(PartnerProfile)
            .values(person)
            .on_conflict_do_update(index_elements=["remote_id"], set_=person)
        )
        session.execute(delete(PartnerProfile).where(PartnerProfile.remote_id != who.user_id))
        session.execute(delete(PartnerOrganisation).where(PartnerOrganisation.id != org_id))


def forget_profile(store: Store) -> None:
    """Drop the cached organisation and profile, as signing out does."""
    with store.session() as session, session.begin():
        session.execute(delete(PartnerProfile))
        session.execute(delete(PartnerOrganisation))


def _parse(response: Any) -> Whoami:
    """Check the server's answer field by field: it is untrusted input."""
    try:
        body = response.json()
        share = Decimal(str(body["revenue_share"]))
        who = Whoami(
            organisation_id=str(body["organisation_id"]),
            organisation=str(body["name"]),
            partner_type=PartnerType(body["partner_type"]),
            tier=str(body["tier"]),
            regions=[str(r) for r in body["regions"]],
            revenue_share=share,
            user_id=str(body["user_id"]),
            user_name=str(body["user_name"]),
            email=str(body["email"]),
        )
    except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
        raise NetworkError(
            _(
                "The marketplace's answer to {what} is not what this app expects ({problem})."
            ).format(what="/v1/partners/me", problem=exc)
        ) from exc
    if not Decimal(0) <= share <= Decimal(1):
        raise NetworkError(
            _(
                "The marketplace's answer to {what} is not what this app expects ({problem})."
            ).format(what="/v1/partners/me", problem=f"revenue_share {share}")
        )
    return who
