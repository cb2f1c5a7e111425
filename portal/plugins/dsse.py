"""DSSE envelopes signed with Ed25519, as the DSSE v1 spec lays them out (PAE, base64, keyid)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal.errors import InputError
from portal.i18n import _

PAYLOAD_TYPE = "application/vnd.in-toto+json"
MAX_ENVELOPE_BYTES = 1 << 20


class SignatureError(InputError):
    """A signature or signed statement that does not hold; the message says which check failed."""


@dataclass(frozen=True)
class Envelope:
    """A parsed DSSE envelope: the payload and its (keyid, signature) pairs."""

    payload_type: str
    payload: bytes
    signatures: list[tuple[str, bytes]]


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is really signed, so the type is bound too."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's fingerprint: SHA-256 of its raw 32 bytes, in hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_key_from_pem(data: bytes, source: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, or an error naming `source`."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InputError(_("{path} is not a PEM public key.").format(path=source)) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(_("{path} is not an Ed25519 public key.").format(path=source))
    return key


def sign_envelope(
    payload: bytes, key: Ed25519PrivateKey, *, payload_type: str = PAYLOAD_TYPE
) -> dict[str, Any]:
    """A DSSE envelope around `payload`, signed by `key`."""
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {
                "keyid": key_id(key.public_key()),
                "sig": base64.b64encode(key.sign(pae(payload_type, payload))).decode("ascii"),
            }
        ],
    }


def parse_envelope(data: bytes, source: str) -> Envelope:
    """The envelope in `data`, or an error saying the signature file is damaged."""

    def damaged(problem: str) -> SignatureError:
        return SignatureError(
            _("The signature file {path} is damaged: {problem}.").format(
                path=source, problem=problem
            )
        )

    if len(data) > MAX_ENVELOPE_BYTES:
        raise damaged(_("it is larger than {n} bytes").format(n=MAX_ENVELOPE_BYTES))
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise damaged(_("it is not JSON")) from exc
    try:
        payload_type = raw["payloadType"]
        payload = base64.b64decode(raw["payload"], validate=True)
        signatures = [
            (str(s["keyid"]), base64.b64decode(s["sig"], validate=True)) for s in raw["signatures"]
        ]
    except (KeyError, TypeError, binascii.Error) as exc:
        raise damaged(_("it is not a DSSE envelope")) from exc
    if payload_type != PAYLOAD_TYPE:
        raise damaged(
            _("its payload type is {kind}, not {expected}").format(
                kind=payload_type, expected=PAYLOAD_TYPE
            )
        )
    if not signatures:
        raise damaged(_("it holds no signature"))
    return Envelope(payload_type, payload, signatures)


def signature_valid(envelope: Envelope, public_key: Ed25519PublicKey) -> bool | None:
    """True or False for the signature by `public_key`; None when none is by that key."""
    wanted = key_id(public_key)
    mine = [sig for keyid, sig in envelope.signatures if keyid == wanted]
    if not mine:
        return None
    for sig in mine:
        try:
            public_key.verify(sig, pae(envelope.payload_type, envelope.payload))
        except InvalidSignature:
            continue
        return True
    return False
