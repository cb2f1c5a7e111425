"""The versioned tolerance table (op x dtype -> rtol/atol or ULP) and how errors are judged."""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from portal.conformance.results import Status
from portal.errors import InputError
from portal.i18n import _

TABLE_NAME = "tolerances-v1.toml"


@dataclass(frozen=True)
class Tolerance:
    """The limit for one op and dtype; `scale` widens it with the reduced length."""

    rtol: float = 0.0
    atol: float = 0.0
    ulp: float = 0.0
    scale: str = ""

    def widened(self, length: int) -> Tolerance:
        """The limit for a reduction over `length` elements (error grows with the length)."""
        factor = {"n": float(length), "sqrt_n": math.sqrt(length)}.get(self.scale, 1.0)
        return Tolerance(self.rtol * factor, self.atol * factor, self.ulp * factor)


@dataclass(frozen=True)
class ToleranceTable:
    """The parsed table with the SHA-256 of its exact bytes, which every report records."""

    version: int
    sha256: str
    warn_factor: float
    entries: dict[tuple[str, str], Tolerance]
    quantum: dict[str, float] = field(default_factory=dict)  # the [quantum] section, as numbers

    def get(self, op: str, dtype: str) -> Tolerance:
        """The limit for `op` on `dtype`; a missing entry is a catalogue bug, said plainly."""
        try:
            return self.entries[(op, dtype)]
        except KeyError:
            raise InputError(
                _("The tolerance table v{version} has no limit for {op} on {dtype}.").format(
                    version=self.version, op=op, dtype=dtype
                )
            ) from None

    def judge(self, ratio: float) -> Status:
        """PASS within the limit, QUALITY_WARNING within warn_factor times it, else FAIL."""
        if not ratio <= self.warn_factor:
            return Status.FAIL
        return Status.PASS if ratio <= 1.0 else Status.QUALITY_WARNING


def load_table(data: bytes | None = None) -> ToleranceTable:
    """The shipped table (or `data`, for tests), parsed, with its hash."""
    if data is None:
        data = resources.files("portal.conformance").joinpath(TABLE_NAME).read_bytes()
    raw: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    entries = {
        (op, dtype): Tolerance(
            rtol=float(limit.get("rtol", 0.0)),
            atol=float(limit.get("atol", 0.0)),
            ulp=float(limit.get("ulp", 0.0)),
            scale=str(limit.get("scale", "")),
        )
        for op, dtypes in raw["ops"].items()
        for dtype, limit in dtypes.items()
    }
    return ToleranceTable(
        version=int(raw["version"]),
        sha256=hashlib.sha256(data).hexdigest(),
        warn_factor=float(raw["warn_factor"]),
        entries=entries,
        quantum={key: float(value) for key, value in raw.get("quantum", {}).items()},
    )
