"""The `neuromorphic-lif-v1` profile: a backend's LIF run matches the fixed-point model exactly."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from portal.conformance.checks import Check, CheckContext, Finding
from portal.conformance.lif import LifParams, LifTrace, simulate
from portal.conformance.results import Status
from portal.i18n import _

PROFILE = "neuromorphic-lif-v1"
PARAMS = LifParams()


def _compare(got: LifTrace, want: LifTrace, currents: npt.NDArray[np.int32]) -> Finding:
    shapes = [[int(n) for n in currents.shape]]
    if got.potentials.shape != want.potentials.shape or got.spikes.shape != want.spikes.shape:
        return Finding(
            Status.FAIL,
            _("the trace has shape {got}, not {want}").format(
                got=got.potentials.shape, want=want.potentials.shape
            ),
            shapes=shapes,
        )
    potential_diff = got.potentials.astype(np.int64) != want.potentials
    spike_diff = got.spikes != want.spikes
    measured = {
        "potential_mismatches": int(potential_diff.sum()),
        "max_potential_error": int(
            np.max(np.abs(got.potentials.astype(np.int64) - want.potentials))
        ),
        "spike_mismatches": int(spike_diff.sum()),
        "spikes_expected": int(want.spikes.sum()),
    }
    steps = np.flatnonzero(potential_diff.any(axis=1) | spike_diff.any(axis=1))
    if steps.size:
        measured["first_divergent_step"] = int(steps[0])
        return Finding(
            Status.FAIL,
            _("the trace departs from the fixed-point model at step {step}").format(step=steps[0]),
            measured,
            shapes,
        )
    return Finding(Status.PASS, _("bit-exact with the fixed-point model"), measured, shapes)


def impulse_response(ctx: CheckContext) -> Finding:
    """One sub-threshold impulse decays exactly as v - (v >> decay_shift), step by step."""
    currents = np.zeros((64, 4), dtype=np.int32)
    currents[0] = [PARAMS.threshold // 2, PARAMS.threshold - 1, 1000, -1000]
    return _compare(
        ctx.backend.run_lif(currents.copy(), PARAMS), simulate(currents, PARAMS), currents
    )


def spike_timing(ctx: CheckContext) -> Finding:
    """Seeded random currents over 500 steps: every spike at the very step the model fires."""
    currents = ctx.rng.integers(-200, 900, size=(500, 64), dtype=np.int32)
    return _compare(
        ctx.backend.run_lif(currents.copy(), PARAMS), simulate(currents, PARAMS), currents
    )


CHECKS: list[Check] = [
    Check("lif.impulse-response", "neuromorphic", "int32", True, impulse_response),
    Check("lif.spike-timing", "neuromorphic", "int32", True, spike_timing),
]
