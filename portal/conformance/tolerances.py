"""The versioned tolerance table (op x dtype -> rtol/atol or ULP) and how errors are judged."""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
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
class Waiver:
    """A tolerance loosened for one op and dtype, with the reason the partner gave for it."""

    op: str
    dtype: str
    tolerance: Tolerance
    reason: str

    def as_json(self, table: ToleranceTable) -> dict[str, Any]:
        """The waiver as a report records it: the table's limit beside the waived one."""
        base = table.original.get((self.op, self.dtype), self.tolerance)
        return {
            "op": self.op,
            "dtype": self.dtype,
            "reason": self.reason,
            "table": _limit_json(base),
            "waived": _limit_json(self.tolerance),
        }


class WaiverError(InputError):
    """A waiver file that cannot be applied; the message names the file and the entry."""


@dataclass(frozen=True)
class ToleranceTable:
    """The parsed table with the SHA-256 of its exact bytes, which every report records."""

    version: int
    sha256: str
    warn_at: float
    """The share of its limit above which an error passes with a QUALITY_WARNING."""
    entries: dict[tuple[str, str], Tolerance]
    quantum: dict[str, float] = field(default_factory=dict)  # the [quantum] section, as numbers
    waivers: tuple[Waiver, ...] = ()
    original: dict[tuple[str, str], Tolerance] = field(default_factory=dict)
    """The table's own limits where a waiver replaced them (what the report shows beside them)."""

    def waived(self, waivers: list[Waiver]) -> ToleranceTable:
        """The same table (same version and hash) with `waivers` applied and recorded."""
        if not waivers:
            return self
        entries = dict(self.entries)
        original = dict(self.original)
        for waiver in waivers:
            key = (waiver.op, waiver.dtype)
            original.setdefault(key, entries[key])
            entries[key] = waiver.tolerance
        return replace(
            self, entries=entries, waivers=self.waivers + tuple(waivers), original=original
        )

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
        """FAIL beyond the limit; within it PASS, or QUALITY_WARNING when close to it."""
        if not ratio <= 1.0:
            return Status.FAIL
        return Status.PASS if ratio <= self.warn_at else Status.QUALITY_WARNING


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
        warn_at=float(raw["warn_at"]),
        entries=entries,
        quantum={key: float(value) for key, value in raw.get("quantum", {}).items()},
    )


def load_waivers(path: Path, table: ToleranceTable) -> list[Waiver]:
    """The waivers in a TOML file (`[[waiver]]` with op, dtype, limits and a reason); each must
    name an entry of the table and only loosen it, never tighten it."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise WaiverError(_("{path} cannot be read.").format(path=path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise WaiverError(
            _("{path} is not valid TOML: {reason}").format(path=path, reason=exc)
        ) from exc
    entries = raw.get("waiver")
    if not isinstance(entries, list) or not entries:
        raise WaiverError(_("{path} has no [[waiver]] entries.").format(path=path))
    return [_waiver(entry, table, path, n) for n, entry in enumerate(entries, start=1)]


def _waiver(entry: Any, table: ToleranceTable, path: Path, n: int) -> Waiver:
    """One `[[waiver]]` entry, checked against the table."""

    def refuse(problem: str) -> WaiverError:
        return WaiverError(
            _("{path}, waiver {n}: {problem}").format(path=path, n=n, problem=problem)
        )

    if not isinstance(entry, dict):
        raise refuse(_("not a table"))
    op, dtype, reason = entry.get("op"), entry.get("dtype"), entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise refuse(_("a waiver needs a reason"))
    base = table.entries.get((str(op), str(dtype)))
    if base is None:
        raise refuse(_("the table has no limit for {op} on {dtype}").format(op=op, dtype=dtype))
    try:
        limits = {k: float(entry.get(k, getattr(base, k))) for k in ("rtol", "atol", "ulp")}
    except (TypeError, ValueError):
        raise refuse(_("rtol, atol and ulp must be numbers")) from None
    if any(limits[k] < getattr(base, k) or not math.isfinite(limits[k]) for k in limits):
        raise refuse(_("a waiver may only loosen the table's limit, never tighten it"))
    if all(limits[k] == getattr(base, k) for k in limits):
        raise refuse(_("the waiver does not change the table's limit"))
    return Waiver(str(op), str(dtype), Tolerance(**limits, scale=base.scale), reason.strip())


def _limit_json(tolerance: Tolerance) -> dict[str, Any]:
    """A limit's non-zero parts, as a report shows them."""
    parts: dict[str, Any] = {
        k: getattr(tolerance, k) for k in ("rtol", "atol", "ulp") if getattr(tolerance, k)
    }
    if tolerance.scale:
        parts["scale"] = tolerance.scale
    return parts
