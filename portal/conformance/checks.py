"""What a check is, what it gets to work with and what it finds, shared by every profile."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from portal.conformance import lowp
from portal.conformance.backends import Backend
from portal.conformance.results import Status
from portal.conformance.tolerances import Tolerance, ToleranceTable


@dataclass(frozen=True)
class CheckContext:
    """A check's inputs: the backend, a generator seeded for this check alone, and the limits."""

    backend: Any  # a TensorBackend or NeuromorphicBackend, as the check's kind says
    rng: np.random.Generator
    table: ToleranceTable


@dataclass(frozen=True)
class Finding:
    """What a check measured; the runner adds timing, and a repro when it is not a pass."""

    status: Status
    message: str
    measured: dict[str, Any] = field(default_factory=dict)
    shapes: list[list[int]] = field(default_factory=list)


@dataclass(frozen=True)
class Check:
    """One entry of a profile: which backend kind and dtype it needs, and whether it is required."""

    id: str
    kind: str
    dtype: str
    required: bool
    run: Callable[[CheckContext], Finding]
    op: str = ""  # a native op the backend must declare (Capabilities.ops), if any
    snippet: str = ""  # the check's inputs and op as standalone Python, for repros (repro.py)

    def supported_by(self, backend: Backend) -> bool:
        """Whether the backend claims what this check needs (else it is NOT_SUPPORTED)."""
        caps = backend.capabilities()
        return (
            caps.kind == self.kind
            and (not self.dtype or self.dtype in caps.dtypes)
            and (not self.op or self.op in caps.ops)
        )


def check_seed(seed: int, check_id: str) -> int:
    """A seed for one check, so running it alone (--only) draws the very same inputs."""
    digest = hashlib.sha256(f"{seed}:{check_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def error_ratio(
    got: npt.NDArray[Any],
    want: npt.NDArray[Any],
    tolerance: Tolerance,
    *,
    magnitude: npt.NDArray[Any] | None = None,
) -> dict[str, float]:
    """Max |got-want|, max relative error and the ratio to the rtol/atol limit (NaN if any NaN)."""
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    err = np.abs(got64 - want64)
    scale = np.abs(want64) if magnitude is None else np.abs(magnitude.astype(np.float64))
    limit = tolerance.atol + tolerance.rtol * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(scale > 0, err / scale, err)
    return {
        "max_abs_error": float(np.max(err)),
        "max_rel_error": float(np.max(relative)),
        "ratio": float(np.max(err / limit)),
    }


def ulp_error(got: npt.NDArray[Any], want: npt.NDArray[Any], dtype: str) -> float:
    """The largest distance in units in the last place of `dtype` (inf where NaN-ness differs)."""
    want64 = want.astype(np.float64)
    spacing = lowp.spacing(want64, dtype)
    both_nan = np.isnan(got) & np.isnan(want64)
    same = (got.astype(np.float64) == want64) | both_nan
    with np.errstate(invalid="ignore"):
        ulps = np.where(same, 0.0, np.abs(got.astype(np.float64) - want64) / spacing)
    return float(np.max(np.nan_to_num(ulps, nan=np.inf)))
