"""`/v1/partners/me`: the signed-in user's partner organisation, the first scoped resource."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from portal.errors import InputError
from portal.plugins.dsse import key_id, public_key_from_pem
from portal.sandbox.idempotency import Attempt, attempt, replay, respond
from portal.sandbox.oauth import Db, bearer_user
from portal.sandbox.problems import ProblemError
from portal.sandbox.store import SigningKey, User

router = APIRouter(tags=["partners"])
Caller = Annotated[User, Depends(bearer_user)]
Unsafe = Annotated[Attempt, Depends(attempt)]
KEYS_PATH = "/v1/partners/me/keys"

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


class KeyRegistration(BaseModel):
    """A package-signing public key (PEM, or the raw 32 bytes in base64) and its fingerprint."""

    public_key: str = Field(min_length=1, max_length=4096)
    key_id: str = Field(pattern=r"^[0-9a-f]{64}$")


class RegisteredKey(BaseModel):
    """A key the organisation's package signatures are checked with."""

    key_id: str
    public_key: str
    created_at: datetime


def _registered(key: SigningKey) -> RegisteredKey:
    return RegisteredKey(key_id=key.key_id, public_key=key.public_key, created_at=key.created_at)


def registered_pem(body: KeyRegistration) -> str:
    """The PEM of the key a registration sends, once its fingerprint is checked; else a 422."""
    public = _public_key(body.public_key.strip())
    if key_id(public) != body.key_id:
        raise ProblemError(
            422, f"key_id {body.key_id} is not this key's fingerprint, {key_id(public)}."
        )
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _public_key(text: str) -> Ed25519PublicKey:
    """The Ed25519 key in `text`, PEM or raw base64, else a 422 that says which forms work."""
    if "-----BEGIN" in text:
        try:
            return public_key_from_pem(text.encode("ascii", "replace"), "public_key")
        except InputError as exc:
            raise ProblemError(422, exc.message) from exc
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ProblemError(
            422, "public_key is neither an Ed25519 PEM public key nor its 32 bytes in base64."
        ) from exc


@router.get(KEYS_PATH)
def list_keys(db: Db, user: Caller) -> list[RegisteredKey]:
    """The keys the caller's organisation signs its packages with, oldest first."""
    keys = db.scalars(
        select(SigningKey)
        .where(SigningKey.organisation_id == user.organisation_id)
        .order_by(SigningKey.created_at, SigningKey.key_id)
    )
    return [_registered(key) for key in keys]


@router.post(
    KEYS_PATH,
    status_code=201,
    response_model=RegisteredKey,
    responses={200: {"model": RegisteredKey, "description": "Registered before, by the caller"}},
)
def register_key(db: Db, user: Caller, unsafe: Unsafe, body: KeyRegistration) -> Response:
    """Register a signing key (201), again with no effect (200); another organisation's is 409."""
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    pem = registered_pem(body)
    known = db.get(SigningKey, body.key_id)
    if known is not None and known.organisation_id != user.organisation_id:
        raise ProblemError(
            409,
            f"The key {body.key_id} is registered by another organisation; "
            "make a key of your own (aic-portal plugin keygen --replace).",
        )
    status = 200 if known is not None else 201
    if known is None:
        known = SigningKey(key_id=body.key_id, organisation_id=user.organisation_id, public_key=pem)
        db.add(known)
        db.flush()
    return respond(db, user.organisation_id, unsafe, _registered(known), status=status)
