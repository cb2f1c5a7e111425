"""What one check found: a status, the measured error and, when it failed, how to reproduce it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """A check's verdict; QUALITY_WARNING passes but tells the vendor the error nears the limit."""

    PASS = "PASS"
    QUALITY_WARNING = "QUALITY_WARNING"
    FAIL = "FAIL"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    ERROR = "ERROR"


@dataclass(frozen=True)
class Repro:
    """Enough to rerun a failed check alone: its seed, input shapes, dtype and a Python snippet."""

    seed: int
    shapes: list[list[int]]
    dtype: str
    snippet: str


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome for the report; `measured` keeps the errors, not only a verdict."""

    check: str
    status: Status
    required: bool
    message: str
    measured: dict[str, Any] = field(default_factory=dict)
    repro: Repro | None = None
    duration_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The result as plain JSON values, for the report."""
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        """A result back from `as_json`."""
        repro = data.get("repro")
        return cls(
            check=data["check"],
            status=Status(data["status"]),
            required=bool(data["required"]),
            message=data["message"],
            measured=dict(data.get("measured") or {}),
            repro=Repro(**repro) if repro else None,
            duration_s=float(data.get("duration_s", 0.0)),
        )


def passed(status: Status) -> bool:
    """Whether a status counts as passing for certification."""
    return status in (Status.PASS, Status.QUALITY_WARNING)
