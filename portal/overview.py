"""What the local store holds, summed up for the dashboard, `aic-portal info` and the demo."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, select

from portal.db.enums import OutboxState, PartnerType, SittingState
from portal.db.models import (
    Base,
    Certificate,
    ConformanceRun,
    Exam,
    OutboxItem,
    PartnerOrganisation,
    PluginProject,
    PluginVersion,
    Sitting,
)
from portal.db.store import Store
from portal.exams.catalog import HeldCertificate, held_certificates


@dataclass(frozen=True)
class Organisation:
    """The partner organisation the user acts for, as the dashboard shows it."""

    name: str
    partner_type: PartnerType
    tier: str | None
    regions: list[str]
    revenue_share: Decimal


@dataclass(frozen=True)
class Overview:
    """Counts of each kind of record, read in one transaction so they agree with each other."""

    organisation: Organisation | None
    plugin_projects: int
    plugin_versions: int
    conformance_runs: int
    exams: int
    sittings_in_progress: int
    certificates: int
    outbox_waiting: int
    held_certificates: list[HeldCertificate]


def waiting_to_sync(store: Store) -> int:
    """How many outbox items are still to be delivered (pending or in flight)."""
    with store.session() as session:
        return session.scalar(_waiting_query()) or 0


def overview(store: Store) -> Overview:
    """The dashboard's numbers, all from the store."""
    held = held_certificates(store)
    with store.session() as session, session.begin():
        org = session.scalars(select(PartnerOrganisation).order_by(PartnerOrganisation.id)).first()

        def count(model: type[Base]) -> int:
            return session.scalar(select(func.count()).select_from(model)) or 0

        return Overview(
            organisation=None
            if org is None
            else Organisation(org.name, org.partner_type, org.tier, org.regions, org.revenue_share),
            plugin_projects=count(PluginProject),
            plugin_versions=count(PluginVersion),
            conformance_runs=count(ConformanceRun),
            exams=count(Exam),
            sittings_in_progress=session.scalar(
                select(func.count())
                .select_from(Sitting)
                .where(Sitting.state == SittingState.IN_PROGRESS)
            )
            or 0,
            certificates=count(Certificate),
            outbox_waiting=session.scalar(_waiting_query()) or 0,
            held_certificates=held,
        )


def table_counts(store: Store) -> dict[str, int]:
    """Rows per table, in schema order, for the walkthrough and for support."""
    with store.session() as session, session.begin():
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def _waiting_query() -> Select[tuple[int]]:
    return (
        select(func.count())
        .select_from(OutboxItem)
        .where(OutboxItem.state.in_([OutboxState.PENDING, OutboxState.IN_FLIGHT]))
    )
