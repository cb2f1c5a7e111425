"""Certificates as signed credentials: a genuine one verifies offline, any change is caught."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.exams.credentials import (
    Award,
    CredentialError,
    build_credential,
    digest,
    read_credential,
    sign_credential,
    verify_credential,
)

ISSUED = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def _award(**changes: object) -> Award:
    values: dict[str, object] = {
        "certificate_id": "c0ffee",
        "holder_name": "Amina Diallo",
        "partner_id": "org-lagos",
        "exam_id": "aic-plugin-engineer",
        "exam_title": "AIC Certified Plugin Engineer",
        "score": "0.86",
        "issued_at": ISSUED,
        "valid_until": ISSUED + timedelta(days=730),
    }
    values.update(changes)
    return Award(**values)  # type: ignore[arg-type]


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _signed(key: Ed25519PrivateKey, **changes: object) -> dict[str, object]:
    unsigned = build_credential(
        _award(**changes), issuer_url="https://market.example", issuer_name="AIC-Platform"
    )
    return sign_credential(unsigned, key, created=ISSUED)


def test_a_genuine_credential_says_who_what_when_and_until_when(key: Ed25519PrivateKey) -> None:
    check = verify_credential(_signed(key), trusted_keys=[key.public_key()])
    assert check.genuine and check.problem is None
    assert (check.holder_name, check.partner_id) == ("Amina Diallo", "org-lagos")
    assert check.exam_title == "AIC Certified Plugin Engineer"
    assert check.score == "0.86"
    assert (check.issued_at, check.valid_until) == (ISSUED, ISSUED + timedelta(days=730))
    assert check.verification_url == "https://market.example/v1/certificates/c0ffee/verify"
    assert not check.expired(ISSUED + timedelta(days=1))
    assert check.expired(ISSUED + timedelta(days=730))


def test_the_proof_is_the_eddsa_jcs_2022_data_integrity_shape(key: Ed25519PrivateKey) -> None:
    credential = _signed(key)
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    proof = credential["proof"]
    assert isinstance(proof, dict)
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["proofValue"].startswith("z")
    assert proof["verificationMethod"].startswith("https://market.example#z6Mk")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c["credentialSubject"]["identifier"][0].update(identityHash="Someone Else"),
        lambda c: c["credentialSubject"]["result"][0].update(value="1.00"),
        lambda c: c.update(validUntil="2099-01-01T00:00:00Z"),
        lambda c: c["proof"].update(created="2020-01-01T00:00:00Z"),
    ],
    ids=["holder", "score", "validity", "proof-options"],
)
def test_any_change_after_signing_is_caught(key: Ed25519PrivateKey, tamper: object) -> None:
    credential = copy.deepcopy(_signed(key))
    tamper(credential)  # type: ignore[operator]
    check = verify_credential(credential, trusted_keys=[key.public_key()])
    assert not check.genuine
    assert check.problem == "The certificate was changed after it was signed."
    assert digest(credential) != digest(_signed(key))


def test_a_key_the_app_does_not_trust_is_named_as_such(key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    check = verify_credential(_signed(other), trusted_keys=[key.public_key()])
    assert not check.genuine
    assert check.problem == "The certificate was signed by a key this app does not trust."


def test_a_file_that_is_not_a_credential_says_so(tmp_path: Path) -> None:
    path = tmp_path / "cert.json"
    path.write_text("{not json")
    with pytest.raises(CredentialError, match="is not a JSON certificate"):
        read_credential(path)
    path.write_text(json.dumps({"id": "x"}))
    with pytest.raises(CredentialError, match="not an AIC-Platform certificate"):
        verify_credential(read_credential(path), trusted_keys=[])
    path.write_bytes(b" " * (300 * 1024))
    with pytest.raises(CredentialError, match="too large"):
        read_credential(path)


def test_names_in_any_script_survive_signing(key: Ed25519PrivateKey) -> None:
    credential = _signed(key, holder_name="أمينة ديالو")
    path_free = json.loads(json.dumps(credential, ensure_ascii=False))
    check = verify_credential(path_free, trusted_keys=[key.public_key()])
    assert check.genuine and check.holder_name == "أمينة ديالو"


def test_cert_verify_says_who_what_when_and_whether_it_is_genuine(
    key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization

    from tests.test_cli import aic

    pem = tmp_path / "market.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    file = tmp_path / "certificate.json"
    file.write_text(json.dumps(_signed(key)))
    data = ["--data-dir", str(tmp_path / "data")]
    genuine = aic(*data, "cert", "verify", str(file), "--issuer-key", str(pem))
    assert genuine.returncode == 0, genuine.stderr
    assert "Amina Diallo" in genuine.stdout
    assert "AIC Certified Plugin Engineer" in genuine.stdout
    assert "86%" in genuine.stdout
    assert "Genuine: signed by the marketplace and unchanged since." in genuine.stdout

    forged = _signed(key)
    forged["credentialSubject"]["identifier"][0]["identityHash"] = "Mallory"  # type: ignore[index]
    file.write_text(json.dumps(forged))
    refused = aic(*data, "cert", "verify", str(file), "--issuer-key", str(pem))
    assert refused.returncode == 1
    assert "NOT genuine: The certificate was changed after it was signed." in refused.stdout

    untrusted = aic(*data, "cert", "verify", str(file))  # no marketplace key kept yet
    assert untrusted.returncode == 1
    assert "a key this app does not trust" in untrusted.stdout

    file.write_text("[]")
    garbled = aic(*data, "cert", "verify", str(file))
    assert garbled.returncode == 1
    assert "is not a JSON certificate" in garbled.stderr
    assert "Traceback" not in garbled.stderr
