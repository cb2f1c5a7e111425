"""Certificates as signed credentials: a genuine one verifies offline, any change is caught."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.cli import main
from portal.exams.credentials import (
    Award,
    CredentialError,
    build_credential,
    digest,
    read_credential,
    sign_credential,
    verify_credential,
)
from portal.i18n import format_datetime, format_percent

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


def _damaged(changes: dict[str, object]) -> dict[str, object]:
    """A genuine credential with fields replaced; a path "a.b" reaches into objects."""
    document = copy.deepcopy(_signed(Ed25519PrivateKey.generate()))
    for path, value in changes.items():
        *parents, last = path.split(".")
        target: Any = document
        for name in parents:
            target = target[int(name)] if isinstance(target, list) else target[name]
        if value is _GONE:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return document


_GONE = object()
DAMAGED = [
    ({"credentialSubject": "x"}, "credentialSubject is missing or not an object"),
    ({"credentialSubject": _GONE}, "credentialSubject is missing or not an object"),
    ({"credentialSubject.achievement": []}, "credentialSubject.achievement is missing or not an"),
    ({"credentialSubject.achievement.name": 7}, "credentialSubject.achievement.name is missing or"),
    ({"credentialSubject.identifier": "Amina"}, "credentialSubject.identifier is missing or not a"),
    ({"credentialSubject.identifier": [1, None]}, "credentialSubject.identifier has no “name”"),
    ({"credentialSubject.identifier.1.identityHash": 42}, "has no “identifier” identity"),
    ({"credentialSubject.result": {}}, "credentialSubject.result has no score as a number"),
    ({"credentialSubject.result.0.value": "lots"}, "credentialSubject.result has no score"),
    ({"credentialSubject.result.0.value": "NaN"}, "credentialSubject.result has no score"),
    ({"credentialSubject.result.0.value": 0.86}, "credentialSubject.result has no score"),
    ({"validUntil": 12}, "its validUntil is not a date"),
    ({"validUntil": "next year"}, "its validUntil is not a date"),
    ({"validFrom": _GONE}, "its validFrom is not a date"),
    ({"validFrom": "0001-01-01T00:00:00+00:00"}, "its validFrom is not a date"),
    ({"validFrom": "2026-11-01T09:30:00"}, "its validFrom has no time zone"),
    ({"issuer": "AIC"}, "issuer is missing or not an object"),
    ({"issuer.name": ["AIC"]}, "issuer.name is missing or not text"),
    ({"id": None}, "id is missing or not text"),
    ({"proof": "signed, honest"}, "proof is missing or not an object"),
    ({"name": "\ud800"}, "it holds text that cannot be read"),
]


@pytest.mark.parametrize(("changes", "problem"), DAMAGED)
def test_a_damaged_certificate_names_the_field_in_words(
    changes: dict[str, object], problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _damaged(changes)
    with pytest.raises(CredentialError) as caught:
        verify_credential(document, trusted_keys=[])
    message = caught.value.message
    assert message.startswith("This is not an AIC-Platform certificate: ") and problem in message
    for python in ("string indices", "fromisoformat", "argument must", "KeyError", "'"):
        assert python not in message

    path = tmp_path / "cert.json"
    path.write_text(json.dumps(document))  # a lone surrogate is written as \ud800, as it came
    code = main(["--data-dir", str(tmp_path / "d"), "cert", "verify", str(path)])
    err = capsys.readouterr().err
    assert (code, err) == (1, f"Error: {message}\n")


def test_a_deeply_nested_file_is_not_a_certificate(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CredentialError, match="is not a JSON certificate"):
        read_credential(path)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def _paths(document: object, prefix: str = "") -> list[str]:
    found = []
    items = (
        document.items() if isinstance(document, dict) else enumerate(document)  # type: ignore[arg-type]
    )
    for name, value in items:
        path = f"{prefix}{name}"
        found.append(path)
        if isinstance(value, dict | list):
            found.extend(_paths(value, path + "."))
    return found


PATHS = [p for p in _paths(_signed(Ed25519PrivateKey.generate())) if not p.startswith("@context.")]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(PATHS), value=_JSON)
def test_any_field_replaced_gives_a_check_or_a_plain_error(path: str, value: object) -> None:
    document = _damaged({path: value})
    key = Ed25519PrivateKey.generate()
    try:
        check = verify_credential(document, trusted_keys=[key.public_key()])
    except CredentialError as exc:
        assert exc.message.startswith("This is not an AIC-Platform certificate: ")
        assert "'" not in exc.message and "argument" not in exc.message
    else:
        assert not check.genuine and check.problem  # (signed by a key it does not trust)
        assert format_datetime(check.valid_until) and format_percent(Decimal(check.score))
