"""The conformance runs kept on this computer: recorded after each run, listed with their
marketplace certification."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.conformance.report import REPORT_NAME, canonical_json
from portal.conformance.results import Status
from portal.conformance.runner import RunOutcome
from portal.db.enums import Certification, CheckStatus, OutboxState, RunStatus
from portal.db.models import ConformanceResult, ConformanceRun, OutboxItem
from portal.db.store import Store
from portal.errors import InputError
from portal.i18n import _

SUBMISSION_RESOURCE = "conformance-report/"  # + the report's SHA-256: one outbox lane each


@dataclass(frozen=True)
class RunSummary:
    """A conformance run as the Conformance page lists it.

    `certification` is None for a run never submitted; `challenged` says whether it can be
    certified at all (a run without a marketplace challenge cannot).
    """

    id: int
    backend: str
    profile: str
    status: RunStatus
    checks: int
    started_at: datetime
    challenged: bool = False
    certification: Certification | None = None
    certification_detail: str | None = None
    report_path: Path | None = None


@dataclass(frozen=True)
class ResultDetail:
    """One check of a run, with the error it measured as a multiple of its limit."""

    check: str
    status: CheckStatus
    required: bool
    message: str
    ratio: float | None
    measured: dict[str, Any]
    repro: str | None


@dataclass(frozen=True)
class RunDetail:
    """A run with its checks, for the run's page and `conformance runs ID`."""

    summary: RunSummary
    seed: int
    challenge_id: str | None
    tolerance_table_sha256: str | None
    report_sha256: str | None
    finished_at: datetime | None
    results: list[ResultDetail]


def run_status(outcome: RunOutcome) -> RunStatus:
    """The run's overall state: passed, failed, or error when a check could not run at all."""
    if outcome.exit_code == 0:
        return RunStatus.PASSED
    if any(r.status == Status.ERROR for r in outcome.results):
        return RunStatus.ERROR
    return RunStatus.FAILED


def record_run(store: Store, outcome: RunOutcome, *, report_dir: Path) -> int:
    """Keep a finished run and its results, with the report written into `report_dir`; its id.

    The report's SHA-256 is what links the run to its submission on the marketplace.
    """
    report = report_dir.expanduser().absolute() / REPORT_NAME
    try:
        sha256: str | None = hashlib.sha256(report.read_bytes()).hexdigest()
    except FileNotFoundError:
        sha256 = None  # a run recorded before (or without) writing its report
    except OSError as exc:
        raise InputError(
            _("{path} cannot be read: {problem}").format(path=report, problem=exc.strerror or exc)
        ) from exc
    run = ConformanceRun(
        backend=outcome.backend,
        profile=outcome.profile,
        seed=outcome.seed,
        status=run_status(outcome),
        tolerance_table_sha256=outcome.table.sha256,
        report_path=str(report),
        report_sha256=sha256,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        challenge_id=outcome.challenge.id if outcome.challenge is not None else None,
        results=[
            ConformanceResult(
                check_id=r.check,
                dtype=r.repro.dtype if r.repro is not None else _dtype(r.check),
                status=CheckStatus(r.status.value),
                measured_error=_ratio(r.measured),
                measured=json.loads(canonical_json(r.measured)),  # NaN, inf as strings
                message=r.message,
                repro=r.repro.snippet if r.repro is not None else None,
                required=r.required,
            )
            for r in outcome.results
        ],
    )
    with store.session() as session, session.begin():
        session.add(run)
        session.flush()
        return run.id


def list_runs(store: Store) -> list[RunSummary]:
    """Every run, newest first, with its number of check results and its certification."""
    checks = (
        select(func.count()).where(ConformanceResult.run_id == ConformanceRun.id).scalar_subquery()
    )
    query = select(ConformanceRun, checks).order_by(
        ConformanceRun.started_at.desc(), ConformanceRun.id.desc()
    )
    with store.session() as session:
        rows = session.execute(query).all()
        refused = _refusals(session, {run.report_sha256 for run, _n in rows if run.report_sha256})
        return [_summary(run, n, refused) for run, n in rows]


def run_detail(store: Store, run_id: int) -> RunDetail:
    """One run with its results in the order they ran; an unknown id is an InputError."""
    with store.session() as session:
        run = session.get(ConformanceRun, run_id)
        if run is None:
            raise InputError(_("There is no conformance run {id}.").format(id=run_id))
        rows = session.scalars(
            select(ConformanceResult)
            .where(ConformanceResult.run_id == run_id)
            .order_by(ConformanceResult.id)
        ).all()
        refused = _refusals(session, {run.report_sha256} if run.report_sha256 else set())
        return RunDetail(
            summary=_summary(run, len(rows), refused),
            seed=run.seed,
            challenge_id=run.challenge_id,
            tolerance_table_sha256=run.tolerance_table_sha256,
            report_sha256=run.report_sha256,
            finished_at=run.finished_at,
            results=[
                ResultDetail(
                    check=r.check_id,
                    status=r.status,
                    required=r.required,
                    message=r.message or "",
                    ratio=r.measured_error,
                    measured=r.measured or {},
                    repro=r.repro,
                )
                for r in rows
            ],
        )


def _refusals(session: Session, hashes: set[str]) -> dict[str, str]:
    """Report SHA-256 → why the marketplace refused its latest submission, for those it did."""
    items = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.resource.in_([SUBMISSION_RESOURCE + h for h in hashes]))
        .order_by(OutboxItem.id)
    )
    latest = {item.resource.removeprefix(SUBMISSION_RESOURCE): item for item in items}
    return {
        sha: item.last_error or _("refused")
        for sha, item in latest.items()
        if item.state == OutboxState.FAILED
    }


def _summary(run: ConformanceRun, checks: int, refused: dict[str, str]) -> RunSummary:
    certification, detail = run.certification, run.certification_detail
    why = refused.get(run.report_sha256 or "")
    if certification == Certification.SUBMITTED and why is not None:
        certification, detail = Certification.REFUSED, why
    return RunSummary(
        run.id,
        run.backend,
        run.profile,
        run.status,
        checks,
        run.started_at,
        challenged=run.challenge_id is not None,
        certification=certification,
        certification_detail=detail,
        report_path=Path(run.report_path) if run.report_path else None,
    )


def _ratio(measured: dict[str, Any]) -> float | None:
    """The error as a multiple of its limit, when the check measured one (finite or infinite)."""
    value = measured.get("ratio")
    if isinstance(value, int | float) and not math.isnan(value):
        return float(value)
    return None


def _dtype(check_id: str) -> str | None:
    """A check id ends in its dtype (matmul.float32); checks of no dtype have none."""
    last = check_id.rsplit(".", 1)[-1]
    return last if last[:1].isalpha() and last[-1:].isdigit() else None
