"""Checking a signed conformance report as the marketplace does: signature by a known key, the
report's digest, the tolerance table it was judged by, the challenge's seed, and whether every
required check of its profile is there and passed. Server-safe: the sandbox imports it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from portal.conformance.catalogue import profile_checks
from portal.conformance.challenge import challenged_seed
from portal.conformance.results import Status, passed
from portal.conformance.tolerances import ToleranceTable, load_table
from portal.errors import InputError
from portal.i18n import _
from portal.plugins.dsse import SignatureError, parse_envelope, signature_valid

SCHEMA = "https://aic-platform.io/schemas/conformance-report/v1"
PREDICATE_TYPE = "https://aic-platform.io/attestations/conformance-report/v1"
MAX_REPORT_BYTES = 16 << 20  # thousands of checks with their measurements fit many times over


class ReportRefusedError(SignatureError):
    """A report that is not what it claims: tampered, foreign, or judged by an unknown table.

    `checked` lists what held before the check that failed, so a user sees how far it got.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.checked: list[str] = []


@dataclass(frozen=True)
class ChallengeClaim:
    """The challenge a report says it answered."""

    id: str
    nonce: str
    base_seed: int


@dataclass(frozen=True)
class VerifiedReport:
    """A report that is authentic, what it says, and what was checked, in words, in order.

    `certifiable` is False when a required check is missing or did not pass (`shortfalls`
    says which), or when the run had no challenge.
    """

    key_id: str
    sha256: str
    profile: str
    backend: str
    seed: int
    challenge: ChallengeClaim | None
    shortfalls: list[str]
    checked: list[str] = field(default_factory=list)
    waivers: list[str] = field(default_factory=list)
    """Each loosened limit as "op dtype (reason)"; a certification says it relied on them."""

    @property
    def passed(self) -> bool:
        """Every required check present and passed, and no check failed or erred."""
        return not self.shortfalls

    @property
    def certifiable(self) -> bool:
        """Passed under a marketplace challenge."""
        return self.passed and self.challenge is not None


def verify_signed_report(
    report: bytes,
    envelope: bytes,
    keys: Mapping[str, Ed25519PublicKey],
    *,
    report_name: str = "report.json",
    signature_name: str = "report.dsse.json",
) -> VerifiedReport:
    """Verify `report` and its DSSE `envelope` with the signer's key among `keys` (key id →
    key); a ReportRefusedError says the first check that failed, naming the file."""
    checked: list[str] = []
    try:
        return _verify(report, envelope, keys, report_name, signature_name, checked)
    except ReportRefusedError as exc:
        exc.checked = checked
        raise


def _verify(
    report: bytes,
    envelope: bytes,
    keys: Mapping[str, Ed25519PublicKey],
    report_name: str,
    signature_name: str,
    checked: list[str],
) -> VerifiedReport:
    if len(report) > MAX_REPORT_BYTES:
        raise ReportRefusedError(
            _("{path} is larger than {n} bytes: not a conformance report.").format(
                path=report_name, n=MAX_REPORT_BYTES
            )
        )
    parsed = parse_envelope(envelope, signature_name)
    signer = next((kid for kid, _sig in parsed.signatures if kid in keys), None)
    if signer is None:
        raise ReportRefusedError(
            _("{path} is signed with key {key}, which is not a known signing key.").format(
                path=signature_name, key=parsed.signatures[0][0]
            )
        )
    if not signature_valid(parsed, keys[signer]):
        raise ReportRefusedError(
            _("The signature in {path} is not valid for key {key}.").format(
                path=signature_name, key=signer
            )
        )
    checked.append(_("signature: valid, by key {key}").format(key=signer))
    digest = hashlib.sha256(report).hexdigest()
    try:
        claims = json.loads(parsed.payload)
        signed_digest = claims["subject"][0]["digest"]["sha256"]
        if claims["predicateType"] != PREDICATE_TYPE:
            raise ValueError(claims["predicateType"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ReportRefusedError(
            _("{path} is not a signed conformance report.").format(path=signature_name)
        ) from exc
    if signed_digest != digest:
        raise ReportRefusedError(
            _("{path} was changed after it was signed: its SHA-256 is not the signed one.").format(
                path=report_name
            )
        )
    checked.append(
        _("digest: {path} has the signed SHA-256 {sha256}").format(path=report_name, sha256=digest)
    )
    content = _content(report, report_name)
    waivers = _check_table(content, report_name, checked)
    challenge = _check_challenge(content, report_name, checked)
    shortfalls = _check_required(content, report_name, checked)
    return VerifiedReport(
        key_id=signer,
        sha256=digest,
        profile=content["profile"],
        backend=content["backend"]["spec"],
        seed=content["seed"],
        challenge=challenge,
        shortfalls=shortfalls,
        checked=checked,
        waivers=waivers,
    )


def _content(report: bytes, name: str) -> dict[str, Any]:
    """The report's fields this check relies on, each of the right type, or a refusal."""
    try:
        content = json.loads(report)
        ok = (
            isinstance(content, dict)
            and content.get("schema") == SCHEMA
            and isinstance(content.get("profile"), str)
            and isinstance(content.get("backend"), dict)
            and isinstance(content["backend"].get("spec"), str)
            and type(content.get("seed")) is int
            and isinstance(content.get("toleranceTable"), dict)
            and isinstance(content.get("challenge"), dict)
            and isinstance(content.get("results"), list)
            and all(
                isinstance(r, dict)
                and isinstance(r.get("check"), str)
                and isinstance(r.get("status"), str)
                and r["status"] in set(Status)
                for r in content["results"]
            )
            # each check once: a second, passing entry must not hide a failed one
            and len({r["check"] for r in content["results"]}) == len(content["results"])
        )
    except (ValueError, UnicodeDecodeError):
        ok = False
    if not ok:
        raise ReportRefusedError(
            _("{path} is not a conformance report of schema v1.").format(path=name)
        )
    return dict(content)


def _check_table(content: dict[str, Any], name: str, checked: list[str]) -> list[str]:
    table = load_table()
    claimed = content["toleranceTable"]
    if claimed.get("version") != table.version or claimed.get("sha256") != table.sha256:
        raise ReportRefusedError(
            _(
                "{path} was judged by tolerance table v{version} ({sha256}), which is not the "
                "known table v{known} ({known_sha256})."
            ).format(
                path=name,
                version=claimed.get("version"),
                sha256=claimed.get("sha256"),
                known=table.version,
                known_sha256=table.sha256,
            )
        )
    checked.append(
        _("tolerance table: v{version}, SHA-256 {sha256} (known)").format(
            version=table.version, sha256=table.sha256
        )
    )
    waivers = claimed.get("waivers", [])
    if not waivers:
        return []
    problems = [w for w in waivers if not _honest_waiver(w, table)]
    if problems:
        raise ReportRefusedError(
            _(
                "{path} records a waiver that does not loosen a limit of the known table, or "
                "gives no reason."
            ).format(path=name)
        )
    described = [f"{w['op']} {w['dtype']} ({w['reason']})" for w in waivers]
    checked.append(_("tolerance waivers: {list}").format(list="; ".join(described)))
    return described


def _honest_waiver(waiver: Any, table: ToleranceTable) -> bool:
    """Whether a recorded waiver names a known limit as it is, loosens it, and says why."""
    try:
        base = table.entries[(str(waiver["op"]), str(waiver["dtype"]))]
        recorded = {k: float(waiver["table"].get(k, 0.0)) for k in ("rtol", "atol", "ulp")}
        waived = {k: float(waiver["waived"].get(k, 0.0)) for k in ("rtol", "atol", "ulp")}
        reason = str(waiver["reason"]).strip()
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    kept = all(recorded[k] == getattr(base, k) for k in recorded)
    looser = all(waived[k] >= recorded[k] for k in waived) and waived != recorded
    return kept and looser and bool(reason)


def _check_challenge(
    content: dict[str, Any], name: str, checked: list[str]
) -> ChallengeClaim | None:
    claim = content["challenge"]
    if claim.get("state") == "unchallenged":
        checked.append(_("challenge: none (an unchallenged run cannot be certified)"))
        return None
    ident, nonce, base = claim.get("id"), claim.get("nonce"), claim.get("baseSeed")
    if (
        claim.get("state") != "challenged"
        or not isinstance(ident, str)
        or not isinstance(nonce, str)
        or type(base) is not int
    ):
        raise ReportRefusedError(_("{path} has a damaged challenge record.").format(path=name))
    if challenged_seed(base, nonce) != content["seed"]:
        raise ReportRefusedError(
            _(
                "{path} claims challenge {id}, but its seed {seed} is not the one the challenge "
                "derives from seed {base}."
            ).format(path=name, id=ident, seed=content["seed"], base=base)
        )
    checked.append(
        _("challenge: {id}; the seed {seed} derives from its nonce").format(
            id=ident, seed=content["seed"]
        )
    )
    return ChallengeClaim(ident, nonce, base)


def _check_required(content: dict[str, Any], name: str, checked: list[str]) -> list[str]:
    """Which required checks of the profile are missing or not passed, and any FAIL or ERROR."""
    try:
        required = [c.id for c in profile_checks(content["profile"]) if c.required]
    except InputError as exc:
        raise ReportRefusedError(
            _("{path}: {problem}").format(path=name, problem=exc.message)
        ) from exc
    statuses = {r["check"]: Status(r["status"]) for r in content["results"]}
    shortfalls = []
    for check in required:
        if check not in statuses:
            shortfalls.append(_("{check}: required, but not in the report").format(check=check))
        elif not passed(statuses[check]):
            shortfalls.append(
                _("{check}: required, but {status}").format(check=check, status=statuses[check])
            )
    for check, status in statuses.items():
        if check not in required and status in (Status.FAIL, Status.ERROR):
            shortfalls.append(_("{check}: {status}").format(check=check, status=status))
    checked.append(
        _("required checks of {profile}: {passed} of {total} present and passed").format(
            profile=content["profile"],
            passed=sum(1 for c in required if c in statuses and passed(statuses[c])),
            total=len(required),
        )
    )
    return shortfalls
