"""The records every feature keeps locally; the marketplace holds the shared truth."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from portal.db.enums import (
    Certification,
    CheckStatus,
    OutboxState,
    PartnerType,
    ReviewStatus,
    RunStatus,
    SittingState,
)
from portal.db.types import UTCDateTime, str_enum, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with constraint names that batch migrations on SQLite can find."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PartnerOrganisation(Base):
    """The partner organisation the signed-in user acts for."""

    __tablename__ = "partner_organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    remote_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    partner_type: Mapped[PartnerType] = mapped_column(str_enum(PartnerType))
    tier: Mapped[str | None] = mapped_column(String(32))
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    revenue_share: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.20"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    profiles: Mapped[list[PartnerProfile]] = relationship(back_populates="organisation")


class PartnerProfile(Base):
    """A person at a partner organisation who uses this app."""

    __tablename__ = "partner_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("partner_organisations.id", ondelete="CASCADE"), index=True
    )
    remote_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[PartnerOrganisation] = relationship(back_populates="profiles")


class PluginProject(Base):
    """A plugin folder on this computer that the user packages for the marketplace."""

    __tablename__ = "plugin_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    folder: Mapped[str] = mapped_column(String(4096), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[PluginVersion]] = relationship(
        back_populates="project", cascade="all, delete-orphan", passive_deletes=True
    )


class PluginVersion(Base):
    """One packaged version of a plugin project and its review status."""

    __tablename__ = "plugin_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("plugin_projects.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(64))
    package_path: Mapped[str | None] = mapped_column(String(4096))
    package_sha256: Mapped[str | None] = mapped_column(String(64))
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    review_status: Mapped[ReviewStatus] = mapped_column(
        str_enum(ReviewStatus), default=ReviewStatus.DRAFT
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    project: Mapped[PluginProject] = relationship(back_populates="versions")


class OutboxItem(Base):
    """An action to deliver to the marketplace exactly once, written with the local change."""

    __tablename__ = "outbox_items"
    __table_args__ = (Index("ix_outbox_items_state_resource", "state", "resource", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    resource: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[OutboxState] = mapped_column(str_enum(OutboxState), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConformanceRun(Base):
    """One run of a conformance profile against a backend."""

    __tablename__ = "conformance_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    backend: Mapped[str] = mapped_column(String(200))
    profile: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus), default=RunStatus.RUNNING)
    tolerance_table_sha256: Mapped[str | None] = mapped_column(String(64))
    report_path: Mapped[str | None] = mapped_column(String(4096))
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    challenge_id: Mapped[str | None] = mapped_column(String(64))  # None: run unchallenged
    certification: Mapped[Certification | None] = mapped_column(str_enum(Certification))
    certification_detail: Mapped[str | None] = mapped_column(Text)

    results: Mapped[list[ConformanceResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )


class ConformanceResult(Base):
    """The outcome of one check in a run, with the error it measured."""

    __tablename__ = "conformance_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("conformance_runs.id", ondelete="CASCADE"), index=True
    )
    check_id: Mapped[str] = mapped_column(String(200))
    dtype: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[CheckStatus] = mapped_column(str_enum(CheckStatus))
    measured_error: Mapped[float | None]
    tolerance: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    repro: Mapped[str | None] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    measured: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    run: Mapped[ConformanceRun] = relationship(back_populates="results")


class Exam(Base):
    """An exam package on this computer (its content stays encrypted in the package file)."""

    __tablename__ = "exams"
    __table_args__ = (UniqueConstraint("exam_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    duration_s: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[float]
    practice: Mapped[bool] = mapped_column(Boolean, default=False)
    package_path: Mapped[str] = mapped_column(String(4096))
    package_sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_unlocks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Wrong sitting codes tried since the last right one; kept here so a restart resets none."""
    practice_code: Mapped[str | None] = mapped_column(String(64))
    """A practice exam's code as the marketplace lists it (certification codes come from the
    proctor and are never stored)."""


class Sitting(Base):
    """A candidate's sitting of an exam, resumable after a crash."""

    __tablename__ = "sittings"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_pk: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="RESTRICT"), index=True)
    candidate_name: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(Integer)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    """The sitting's id everywhere else: its journal's genesis, its submission's id."""
    state: Mapped[SittingState] = mapped_column(
        str_enum(SittingState), default=SittingState.IN_PROGRESS
    )
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int | None] = mapped_column(Integer)
    """The item number on screen when last moved to (not an answer: kept out of the journal)."""
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Wall time of the last checkpoint: only for exams whose time runs while the app is closed."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    journal: Mapped[list[JournalEntry]] = relationship(
        back_populates="sitting",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="JournalEntry.seq",
    )


class JournalEntry(Base):
    """One answer change, chained to the entry before it by hash."""

    __tablename__ = "journal_entries"
    __table_args__ = (UniqueConstraint("sitting_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sittings.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="answer")
    """"answer", or "flag" (the answer is then ["flagged"] or [])."""
    item_id: Mapped[str] = mapped_column(String(200))
    answer: Mapped[Any] = mapped_column(JSON)
    elapsed_ms: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    sitting: Mapped[Sitting] = relationship(back_populates="journal")


class ExamSubmission(Base):
    """A sealed submission (DSSE envelope), kept for export to a proctor even once sent."""

    __tablename__ = "exam_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    sitting_id: Mapped[int | None] = mapped_column(
        ForeignKey("sittings.id", ondelete="SET NULL"), index=True
    )
    exam_id: Mapped[str] = mapped_column(String(64))
    exam_version: Mapped[str] = mapped_column(String(32))
    candidate_name: Mapped[str] = mapped_column(String(200))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    device_public_key: Mapped[str] = mapped_column(Text)
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    """Brought from another computer's export rather than sat here."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExamResult(Base):
    """The marketplace's score of a submission, fetched after a sync."""

    __tablename__ = "exam_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    exam_id: Mapped[str] = mapped_column(String(64))
    exam_version: Mapped[str] = mapped_column(String(32))
    candidate_name: Mapped[str] = mapped_column(String(200))
    score: Mapped[float]
    max_score: Mapped[float]
    passed: Mapped[bool] = mapped_column(Boolean)
    pending_manual: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Certificate(Base):
    """A certificate the marketplace issued, kept with its signed document for offline proof."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[str] = mapped_column(String(64), unique=True)
    sitting_id: Mapped[int | None] = mapped_column(
        ForeignKey("sittings.id", ondelete="SET NULL"), index=True
    )
    exam_id: Mapped[str] = mapped_column(String(64))
    exam_title: Mapped[str] = mapped_column(String(300))
    holder_name: Mapped[str] = mapped_column(String(200))
    score: Mapped[float]
    passed: Mapped[bool] = mapped_column(Boolean)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
