"""`/v1/partners/me`: the signed-in user's partner organisation, the first scoped resource."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from portal.sandbox.oauth import bearer_user
from portal.sandbox.store import User

router = APIRouter(tags=["partners"])

PartnerType = Literal[
    "cloud", "hardware", "academic", "regional", "standards_body", "system_integrator"
]


class PartnerProfile(BaseModel):
    """The caller's organisation and who the caller is in it."""

    organisation_id: str
    name: str
    partner_type: PartnerType
    tier: str
    regions: list[str]
    revenue_share: Decimal
    user_id: str
    user_name: str
    email: str


@router.get("/v1/partners/me")
def me(user: Annotated[User, Depends(bearer_user)]) -> PartnerProfile:
    """Who the access token speaks for."""
    org = user.organisation
    return PartnerProfile(
        organisation_id=org.id,
        name=org.name,
        partner_type=org.partner_type,  # type: ignore[arg-type]
        tier=org.tier,
        regions=org.regions,
        revenue_share=org.revenue_share,
        user_id=user.id,
        user_name=user.display_name,
        email=user.email,
    )
