"""Sealed exam submissions: the final answers and the whole journal in a DSSE envelope signed
with the device key; opening one checks the signature, the chain, and that the answers are the
chain's last state.

Server-safe (no database, no keyring): the sandbox opens submissions with it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal.errors import InputError
from portal.exams.journal import ChainEntry, ChainError, canonical, final_state, genesis_hash
from portal.exams.journal import verify_chain as verify_journal
from portal.exams.model import Answer
from portal.i18n import _, format_number, ngettext
from portal.plugins.dsse import Envelope, sign_envelope, signature_valid

PAYLOAD_TYPE = "application/vnd.aic.exam-submission+json"
FORMAT = "aic-exam-submission/1"
MAX_SUBMISSION_BYTES = 16 * 1024 * 1024  # a long essay saved at every pause makes a long journal


class SealError(InputError):
    """A submission whose seal, journal or answers do not hold; the message says which."""


@dataclass(frozen=True)
class Submission:
    """What a sealed submission says, once its seal and chain were checked."""

    submission_id: str
    exam_id: str
    exam_version: str
    candidate_name: str
    partner_id: str
    language: str
    seed: int
    delivered: list[str]
    """The item ids shown, in order."""
    answers: dict[str, Answer]
    flagged: list[str]
    journal: list[ChainEntry]
    elapsed_ms: int
    submitted_at: str
    key_id: str

    def payload(self) -> dict[str, Any]:
        """The JSON that is signed."""
        return {
            "format": FORMAT,
            "submission_id": self.submission_id,
            "exam_id": self.exam_id,
            "exam_version": self.exam_version,
            "candidate_name": self.candidate_name,
            "partner_id": self.partner_id,
            "language": self.language,
            "seed": self.seed,
            "delivered": list(self.delivered),
            "answers": {k: list(v) for k, v in sorted(self.answers.items())},
            "flagged": sorted(self.flagged),
            "journal": [e.as_json() for e in self.journal],
            "elapsed_ms": self.elapsed_ms,
            "submitted_at": self.submitted_at,
            "key_id": self.key_id,
        }


def seal(submission: Submission, key: Ed25519PrivateKey) -> dict[str, Any]:
    """The DSSE envelope of `submission`, signed by the device key."""
    return sign_envelope(canonical(submission.payload()), key, payload_type=PAYLOAD_TYPE)


def envelope_key_id(envelope: Any) -> str:
    """The key id the envelope says it is signed with (unchecked), to look the key up."""
    return _parse(envelope).signatures[0][0]


def open_sealed(envelope: Any, public_key: Ed25519PublicKey) -> Submission:
    """The submission in `envelope` (JSON as parsed), or SealError saying what does not hold."""
    parsed = _parse(envelope)
    if signature_valid(parsed, public_key) is not True:
        raise SealError(
            _("the seal does not match the submission: it was changed or not signed by this device")
        )
    submission = _submission(parsed.payload)
    genesis = genesis_hash(
        uid=submission.submission_id,
        exam_id=submission.exam_id,
        version=submission.exam_version,
        seed=submission.seed,
        candidate_name=submission.candidate_name,
        partner_id=submission.partner_id,
        language=submission.language,
    )
    try:
        verify_journal(submission.journal, genesis=genesis)
    except ChainError as exc:
        raise SealError(
            _("the journal does not hold: {problem}").format(problem=exc.message)
        ) from exc
    answers, flagged = final_state(submission.journal)
    if answers != submission.answers or flagged != set(submission.flagged):
        raise SealError(_("the final answers are not the journal's last state"))
    if submission.journal and submission.elapsed_ms < submission.journal[-1].elapsed_ms:
        raise SealError(_("the time used is less than the journal's last entry"))
    return submission


def _parse(envelope: Any) -> Envelope:
    if len(json.dumps(envelope)) > MAX_SUBMISSION_BYTES:
        raise SealError(
            ngettext(
                "the submission is larger than {n} byte",
                "the submission is larger than {n} bytes",
                MAX_SUBMISSION_BYTES,
            ).format(n=format_number(MAX_SUBMISSION_BYTES))
        )
    try:
        payload_type = envelope["payloadType"]
        payload = base64.b64decode(envelope["payload"], validate=True)
        signatures = [
            (str(s["keyid"]), base64.b64decode(s["sig"], validate=True))
            for s in envelope["signatures"]
        ]
    except (KeyError, TypeError, binascii.Error) as exc:
        raise SealError(_("the submission is not a DSSE envelope")) from exc
    if payload_type != PAYLOAD_TYPE:
        raise SealError(
            _("its payload type is {kind}, not {expected}").format(
                kind=payload_type, expected=PAYLOAD_TYPE
            )
        )
    if not signatures:
        raise SealError(_("the submission carries no seal"))
    return Envelope(payload_type, payload, signatures)


def _submission(payload: bytes) -> Submission:
    try:
        raw = json.loads(payload)
        if raw["format"] != FORMAT:
            raise SealError(_("the submission's format is {format}").format(format=raw["format"]))
        journal = [ChainEntry.from_json(e) for e in raw["journal"]]
        submission = Submission(
            submission_id=raw["submission_id"],
            exam_id=raw["exam_id"],
            exam_version=raw["exam_version"],
            candidate_name=raw["candidate_name"],
            partner_id=raw["partner_id"],
            language=raw["language"],
            seed=raw["seed"],
            delivered=raw["delivered"],
            answers=raw["answers"],
            flagged=raw["flagged"],
            journal=journal,
            elapsed_ms=raw["elapsed_ms"],
            submitted_at=raw["submitted_at"],
            key_id=raw["key_id"],
        )
    except ChainError as exc:
        raise SealError(exc.message) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise SealError(
            _("the submission is not readable ({problem})").format(problem=exc)
        ) from exc
    texts = (
        submission.submission_id,
        submission.exam_id,
        submission.exam_version,
        submission.candidate_name,
        submission.partner_id,
        submission.language,
        submission.submitted_at,
        submission.key_id,
    )
    well_typed = (
        all(isinstance(t, str) and "\x00" not in t for t in texts)
        and type(submission.seed) is int
        and type(submission.elapsed_ms) is int
        and isinstance(submission.delivered, list)
        and all(isinstance(i, str) for i in submission.delivered)
        and isinstance(submission.flagged, list)
        and isinstance(submission.answers, dict)
        and all(
            isinstance(v, list) and all(isinstance(s, str) for s in v)
            for v in submission.answers.values()
        )
    )
    if not well_typed:
        raise SealError(_("the submission has a field of the wrong type"))
    return submission
