"""What the marketplace's verification catches in reports a modified client signed: lies the
signature cannot reveal, found by checking the report against the profile, table and challenge."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.conformance.catalogue import profile_checks
from portal.conformance.challenge import Challenge
from portal.conformance.report import canonical_json, report_data, statement
from portal.conformance.runner import RunOutcome, run_profile
from portal.conformance.verification import ReportRefusedError, verify_signed_report
from portal.plugins.dsse import key_id, sign_envelope

KEY = Ed25519PrivateKey.generate()
KEYS = {key_id(KEY.public_key()): KEY.public_key()}


@pytest.fixture(scope="module")
def outcome() -> RunOutcome:
    challenge = Challenge("c-1", "cd" * 32, datetime.now(UTC) + timedelta(days=1))
    return run_profile("cpu-reference", "tensor-core-v1", seed=4, challenge=challenge)


def signed(outcome: RunOutcome, change: Callable[[dict[str, Any]], object]) -> tuple[bytes, bytes]:
    """The run's report changed by `change`, then signed: what a modified client could send."""
    data = json.loads(canonical_json(report_data(outcome)))
    change(data)
    report = canonical_json(data)
    envelope = sign_envelope(canonical_json(statement(report, outcome)), KEY)
    return report, json.dumps(envelope).encode()


def test_an_honest_challenged_report_is_certifiable(outcome: RunOutcome) -> None:
    done = verify_signed_report(*signed(outcome, lambda _r: None), KEYS)
    assert done.certifiable and done.challenge is not None and done.challenge.base_seed == 4
    required = sum(c.required for c in profile_checks("tensor-core-v1"))
    assert done.checked[-1] == (
        f"required checks of tensor-core-v1: {required} of {required} present and passed"
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: r.update(seed=r["seed"] + 1), "is not the one the challenge derives"),
        (lambda r: r["challenge"].update(nonce=None), "damaged challenge record"),
        (lambda r: r["toleranceTable"].update(sha256="0" * 64), "which is not the known table"),
        (lambda r: r.update(profile="tensor-core-v9"), "There is no conformance profile"),
        (lambda r: r["results"].append(dict(r["results"][0])), "not a conformance report"),
        (lambda r: r["results"][0].update(status=["PASS"]), "not a conformance report"),
        (lambda r: r.pop("challenge"), "not a conformance report"),
    ],
)
def test_a_signed_lie_is_refused(
    outcome: RunOutcome, change: Callable[[dict[str, Any]], object], problem: str
) -> None:
    with pytest.raises(ReportRefusedError, match=problem) as refused:
        verify_signed_report(*signed(outcome, change), KEYS)
    assert refused.value.checked[0].startswith("signature: valid")


def test_a_missing_or_failed_required_check_is_a_shortfall(outcome: RunOutcome) -> None:
    def drop_and_fail(report: dict[str, Any]) -> None:
        report["results"] = [r for r in report["results"] if r["check"] != "casts"]
        report["results"][0]["status"] = "FAIL"
        report["passed"] = True  # the claim is not believed: the results are judged again

    done = verify_signed_report(*signed(outcome, drop_and_fail), KEYS)
    assert not done.passed and not done.certifiable
    assert done.shortfalls == [
        "elementwise.special-values.float32: required, but FAIL",
        "casts: required, but not in the report",
    ]


def test_an_unknown_key_is_refused(outcome: RunOutcome) -> None:
    with pytest.raises(ReportRefusedError, match="which is not a known signing key"):
        verify_signed_report(*signed(outcome, lambda _r: None), {})
