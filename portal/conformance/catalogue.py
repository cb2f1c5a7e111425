"""The profiles and their checks, and running one check in this process (the worker's job)."""

from __future__ import annotations

import fnmatch
import time
import traceback
import warnings

import numpy as np

from portal.conformance import lif_checks, quantum_checks, tensor_checks
from portal.conformance.backends import Backend
from portal.conformance.checks import Check, CheckContext, check_seed
from portal.conformance.repro import standalone
from portal.conformance.results import CheckResult, Repro, Status
from portal.conformance.tolerances import ToleranceTable
from portal.errors import InputError
from portal.i18n import _

PROFILES: dict[str, list[Check]] = {
    tensor_checks.PROFILE: tensor_checks.CHECKS,
    lif_checks.PROFILE: lif_checks.CHECKS,
    quantum_checks.PROFILE: quantum_checks.CHECKS,
}
PROFILE_KINDS = {
    tensor_checks.PROFILE: "tensor",
    lif_checks.PROFILE: "neuromorphic",
    quantum_checks.PROFILE: "quantum",
}


def profile_checks(profile: str, *, only: str | None = None) -> list[Check]:
    """The checks of `profile`, narrowed to ids matching the glob `only`."""
    if profile not in PROFILES:
        raise InputError(
            _("There is no conformance profile “{name}”. Known: {known}.").format(
                name=profile, known=", ".join(sorted(PROFILES))
            )
        )
    checks = [c for c in PROFILES[profile] if only is None or fnmatch.fnmatchcase(c.id, only)]
    if not checks:
        raise InputError(
            _("No check of {profile} matches “{pattern}”.").format(profile=profile, pattern=only)
        )
    return checks


def repro(
    spec: str, profile: str, check_id: str, *, seed: int, shapes: list[list[int]], dtype: str
) -> Repro:
    """How to rerun one check alone with the same inputs: the backend alone where it can be, and
    through the portal in any case."""
    through_portal = (
        "from portal.conformance.catalogue import run_check\n"
        f"print(run_check({spec!r}, {profile!r}, {check_id!r}, seed={seed}))"
    )
    body = next((c.snippet for c in PROFILES.get(profile, []) if c.id == check_id), "")
    alone = standalone(spec, body, seed=check_seed(seed, check_id), dtype=dtype)
    snippet = (
        through_portal
        if alone is None
        else f"{alone}\n# The same check through the portal:\n# "
        + through_portal.replace("\n", "\n# ")
    )
    return Repro(seed=seed, shapes=shapes, dtype=dtype, snippet=snippet)


def run_check(spec: str, profile: str, check_id: str, *, seed: int) -> CheckResult:
    """Load the backend and run one check here, as a repro snippet does."""
    from portal.conformance.backends import load_backend
    from portal.conformance.tolerances import load_table

    (check,) = [c for c in profile_checks(profile) if c.id == check_id]
    return execute(
        load_backend(spec), check, spec=spec, profile=profile, seed=seed, table=load_table()
    )


def execute(
    backend: Backend, check: Check, *, spec: str, profile: str, seed: int, table: ToleranceTable
) -> CheckResult:
    """Run one check; an exception is its ERROR, with the traceback's last line as the message."""
    start = time.perf_counter()
    if not check.supported_by(backend):
        missing = (
            _("the backend does not offer {dtype}").format(dtype=check.dtype)
            if check.dtype not in backend.capabilities().dtypes
            else _("the backend declares no native {op}").format(op=check.op)
        )
        if not check.required:  # NOT_SUPPORTED only where the profile allows a backend to opt out
            return CheckResult(check.id, Status.NOT_SUPPORTED, check.required, missing)
        return CheckResult(
            check.id,
            Status.FAIL,
            check.required,
            _("{profile} requires this check, but {reason}").format(
                profile=profile, reason=missing
            ),
            {},
            repro(spec, profile, check.id, seed=seed, shapes=[], dtype=check.dtype),
        )
    ctx = CheckContext(backend, np.random.default_rng(check_seed(seed, check.id)), table)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NaN and inf are inputs here
            finding = check.run(ctx)
    except Exception as exc:  # noqa: BLE001 - a backend's exception is the check's result
        last = traceback.format_exception_only(exc)[-1].strip()
        status, message, measured, shapes = Status.ERROR, last, {}, []
    else:
        status, message = finding.status, finding.message
        measured, shapes = finding.measured, finding.shapes
    duration = time.perf_counter() - start
    failed = status in (Status.FAIL, Status.ERROR)
    return CheckResult(
        check.id,
        status,
        check.required,
        message,
        measured,
        repro(spec, profile, check.id, seed=seed, shapes=shapes, dtype=check.dtype)
        if failed
        else None,
        round(duration, 4),
    )
