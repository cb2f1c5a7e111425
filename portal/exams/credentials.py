"""Certificates as Open Badges 3.0 style verifiable credentials, signed with eddsa-jcs-2022.

The proof follows the W3C Data Integrity EdDSA cryptosuite `eddsa-jcs-2022`: the document and the
proof options are canonicalised with JCS (RFC 8785), hashed with SHA-256 and signed with Ed25519,
so any verifier that implements the cryptosuite accepts it. Credentials hold no floating-point
numbers (scores are strings), so `json.dumps(sort_keys=True)` is exactly JCS for them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal.errors import InputError
from portal.i18n import _

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
CRYPTOSUITE = "eddsa-jcs-2022"
MAX_CREDENTIAL_BYTES = 256 * 1024
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_MULTIKEY_ED25519 = b"\xed\x01"


class CredentialError(InputError):
    """A credential file that is not one, or whose proof does not hold; the message says which."""


@dataclass(frozen=True)
class Award:
    """What a passed sitting earned, as the marketplace records it."""

    certificate_id: str
    holder_name: str
    partner_id: str
    exam_id: str
    exam_title: str
    score: str
    """The fraction of the points scored, as decimal text ("0.86"): credentials hold no floats."""
    issued_at: datetime
    valid_until: datetime


@dataclass(frozen=True)
class CredentialCheck:
    """What `cert verify` reports: who, what, when, until when, and whether it is genuine."""

    holder_name: str
    partner_id: str
    exam_title: str
    score: str
    issued_at: datetime
    valid_until: datetime
    issuer: str
    digest: str
    verification_url: str
    genuine: bool
    problem: str | None
    """Why it is not genuine, in words (None when it is)."""

    def expired(self, now: datetime | None = None) -> bool:
        """Whether the certificate's validity has ended."""
        return (now or datetime.now(UTC)) >= self.valid_until


def canonical(data: Any) -> bytes:
    """JCS (RFC 8785) for documents of strings, integers, lists and objects with ASCII keys."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(credential: dict[str, Any]) -> str:
    """SHA-256 of the whole signed credential, in hex: what the certificate's QR code carries."""
    return hashlib.sha256(canonical(credential)).hexdigest()


def verification_url(credential: dict[str, Any]) -> str:
    """Where anyone can check the certificate online (the credential's `id` is a URL under it)."""
    return f"{credential['id']}/verify"


def multikey(public_key: Ed25519PublicKey) -> str:
    """The key as a Multikey `publicKeyMultibase` (base58btc, Ed25519 multicodec prefix)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + _base58(_MULTIKEY_ED25519 + raw)


def build_credential(award: Award, *, issuer_url: str, issuer_name: str) -> dict[str, Any]:
    """The unsigned credential for an award, in the Open Badges 3.0 shape."""
    return {
        "@context": CONTEXTS,
        "id": f"{issuer_url}/v1/certificates/{award.certificate_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_url, "type": ["Profile"], "name": issuer_name},
        "validFrom": _iso(award.issued_at),
        "validUntil": _iso(award.valid_until),
        "name": award.exam_title,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                _identity("name", award.holder_name),
                _identity("identifier", award.partner_id),
            ],
            "achievement": {
                "id": f"{issuer_url}/v1/exams/{award.exam_id}",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": award.exam_title,
                "criteria": {"narrative": "Pass the certification exam."},
            },
            "result": [{"type": ["Result"], "value": award.score}],
        },
    }


def sign_credential(
    credential: dict[str, Any], key: Ed25519PrivateKey, *, created: datetime | None = None
) -> dict[str, Any]:
    """The credential with a DataIntegrityProof (eddsa-jcs-2022) made with the issuer's key."""
    options = {
        "@context": credential["@context"],
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": _iso(created or datetime.now(UTC)),
        "verificationMethod": f"{credential['issuer']['id']}#{multikey(key.public_key())}",
        "proofPurpose": "assertionMethod",
    }
    signature = key.sign(_hash_data(credential, options))
    return {**credential, "proof": {**options, "proofValue": "z" + _base58(signature)}}


def read_credential(path: Path) -> dict[str, Any]:
    """A credential file, parsed with a size limit, or an error naming the file."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_CREDENTIAL_BYTES + 1)
    except OSError as exc:
        raise CredentialError(
            _("{path} cannot be read: {reason}").format(path=path, reason=exc.strerror)
        ) from exc
    if len(data) > MAX_CREDENTIAL_BYTES:
        raise CredentialError(_("{path} is too large to be a certificate.").format(path=path))
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CredentialError(_("{path} is not a JSON certificate.").format(path=path)) from exc
    if not isinstance(document, dict):
        raise CredentialError(_("{path} is not a JSON certificate.").format(path=path))
    return document


def verify_credential(
    credential: dict[str, Any],
    *,
    trusted_keys: list[Ed25519PublicKey],
    now: datetime | None = None,
) -> CredentialCheck:
    """Check the proof against the marketplace keys this app trusts, offline."""
    subject = _object(credential, "credentialSubject")
    achievement = _object(subject, "achievement", "credentialSubject.achievement")
    facts = CredentialCheck(
        holder_name=_identity_of(subject, "name"),
        partner_id=_identity_of(subject, "identifier"),
        exam_title=_text(achievement, "name", "credentialSubject.achievement.name"),
        score=_score(subject),
        issued_at=_moment(credential, "validFrom"),
        valid_until=_moment(credential, "validUntil"),
        issuer=_text(_object(credential, "issuer"), "name", "issuer.name"),
        digest=_digest_of(credential),
        verification_url=f"{_text(credential, 'id')}/verify",
        genuine=False,
        problem=None,
    )
    problem = _proof_problem(credential, dict(_object(credential, "proof")), trusted_keys)
    if problem is None and (now or datetime.now(UTC)) < facts.issued_at:
        problem = _("The certificate is dated in the future.")
    return replace(facts, genuine=problem is None, problem=problem)


def _digest_of(credential: dict[str, Any]) -> str:
    try:
        return digest(credential)
    except (UnicodeEncodeError, RecursionError) as exc:  # a lone surrogate; absurd nesting
        raise _malformed(_("it holds text that cannot be read")) from exc


def _malformed(problem: str) -> CredentialError:
    return CredentialError(
        _("This is not an AIC-Platform certificate: {problem}.").format(problem=problem)
    )


def _object(parent: dict[str, Any], key: str, field: str | None = None) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise _malformed(_("{field} is missing or not an object").format(field=field or key))
    return value


def _text(parent: dict[str, Any], key: str, field: str | None = None) -> str:
    value = parent.get(key)
    if not isinstance(value, str):
        raise _malformed(_("{field} is missing or not text").format(field=field or key))
    return value


def _identity_of(subject: dict[str, Any], kind: str) -> str:
    """The holder's name or partner id, from the subject's IdentityObjects."""
    identities = subject.get("identifier")
    if not isinstance(identities, list):
        raise _malformed(
            _("{field} is missing or not a list").format(field="credentialSubject.identifier")
        )
    for identity in identities:
        if isinstance(identity, dict) and identity.get("identityType") == kind:
            value = identity.get("identityHash")
            if isinstance(value, str):
                return value
    raise _malformed(
        _("{field} has no “{kind}” identity").format(
            field="credentialSubject.identifier", kind=kind
        )
    )


def _score(subject: dict[str, Any]) -> str:
    """The result's value: decimal text, so a reader can show it as a percentage."""
    results = subject.get("result")
    first = results[0] if isinstance(results, list) and results else None
    value = first.get("value") if isinstance(first, dict) else None
    if isinstance(value, str):
        try:
            if Decimal(value).is_finite():
                return value
        except InvalidOperation:
            pass  # refused below
    raise _malformed(_("{field} has no score as a number").format(field="credentialSubject.result"))


def _moment(credential: dict[str, Any], key: str) -> datetime:
    value = credential.get(key)
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or not 1 < moment.year < 9999:  # at the ends, a time zone overflows
        raise _malformed(_("its {field} is not a date").format(field=key))
    if moment.tzinfo is None:
        raise _malformed(_("its {field} has no time zone").format(field=key))
    return moment


def _proof_problem(
    credential: dict[str, Any], proof: dict[str, Any], trusted_keys: list[Ed25519PublicKey]
) -> str | None:
    """Why the proof does not hold, or None when a trusted key made it over these exact bytes."""
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        return _("The certificate's proof is not an {suite} proof.").format(suite=CRYPTOSUITE)
    value = proof.pop("proofValue", "")
    if not isinstance(value, str) or not value.startswith("z"):
        return _("The certificate's signature is missing.")
    try:
        signature = _unbase58(value[1:])
    except ValueError:
        return _("The certificate's signature is not valid base58.")
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    if proof.get("@context") != unsigned.get("@context"):
        return _("The certificate's proof was made for another document.")
    method = str(proof.get("verificationMethod", ""))
    keys = [k for k in trusted_keys if method.endswith("#" + multikey(k))]
    if not keys:
        return _("The certificate was signed by a key this app does not trust.")
    try:
        keys[0].verify(signature, _hash_data(unsigned, proof))
    except InvalidSignature:
        return _("The certificate was changed after it was signed.")
    return None


def _hash_data(document: dict[str, Any], options: dict[str, Any]) -> bytes:
    """eddsa-jcs-2022's hashData: SHA-256 of the proof options, then of the document."""
    return (
        hashlib.sha256(canonical(options)).digest() + hashlib.sha256(canonical(document)).digest()
    )


def _identity(kind: str, value: str) -> dict[str, Any]:
    return {"type": "IdentityObject", "identityType": kind, "hashed": False, "identityHash": value}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _base58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = _B58[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def _unbase58(text: str) -> bytes:
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise ValueError(char)
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body
