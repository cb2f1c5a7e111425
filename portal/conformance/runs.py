"""Listing the conformance runs kept on this computer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from portal.db.enums import RunStatus
from portal.db.models import ConformanceResult, ConformanceRun
from portal.db.store import Store


@dataclass(frozen=True)
class RunSummary:
    """A conformance run as the Conformance page lists it."""

    id: int
    backend: str
    profile: str
    status: RunStatus
    checks: int
    started_at: datetime


def list_runs(store: Store) -> list[RunSummary]:
    """Every run, newest first, with its number of check results."""
    checks = (
        select(func.count()).where(ConformanceResult.run_id == ConformanceRun.id).scalar_subquery()
    )
    query = select(ConformanceRun, checks).order_by(
        ConformanceRun.started_at.desc(), ConformanceRun.id.desc()
    )
    with store.session() as session:
        return [
            RunSummary(run.id, run.backend, run.profile, run.status, n, run.started_at)
            for run, n in session.execute(query)
        ]
