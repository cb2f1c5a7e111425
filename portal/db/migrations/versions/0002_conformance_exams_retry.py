"""Conformance runs and results, exams, sittings and their journal, certificates; outbox retry time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_items") as batch_op:
        batch_op.add_column(sa.Column("not_before", UTCDateTime(), nullable=True))
    op.create_table(
        "conformance_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("backend", sa.String(length=200), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("tolerance_table_sha256", sa.String(length=64), nullable=True),
        sa.Column("report_path", sa.String(length=4096), nullable=True),
        sa.Column("report_sha256", sa.String(length=64), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conformance_runs")),
    )
    op.create_table(
        "conformance_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.Column("dtype", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("measured_error", sa.Float(), nullable=True),
        sa.Column("tolerance", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("repro", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["conformance_runs.id"],
            name=op.f("fk_conformance_results_run_id_conformance_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conformance_results")),
    )
    op.create_index(op.f("ix_conformance_results_run_id"), "conformance_results", ["run_id"])
    op.create_table(
        "exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=False),
        sa.Column("pass_mark", sa.Float(), nullable=False),
        sa.Column("practice", sa.Boolean(), nullable=False),
        sa.Column("package_path", sa.String(length=4096), nullable=False),
        sa.Column("package_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exams")),
        sa.UniqueConstraint("exam_id", "version", name=op.f("uq_exams_exam_id")),
    )
    op.create_table(
        "sittings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_pk", sa.Integer(), nullable=False),
        sa.Column("candidate_name", sa.String(length=200), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["exam_pk"], ["exams.id"], name=op.f("fk_sittings_exam_pk_exams"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sittings")),
    )
    op.create_index(op.f("ix_sittings_exam_pk"), "sittings", ["exam_pk"])
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["sitting_id"],
            ["sittings.id"],
            name=op.f("fk_journal_entries_sitting_id_sittings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("sitting_id", "seq", name=op.f("uq_journal_entries_sitting_id")),
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.String(length=64), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=True),
        sa.Column("exam_id", sa.String(length=64), nullable=False),
        sa.Column("exam_title", sa.String(length=300), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sitting_id"],
            ["sittings.id"],
            name=op.f("fk_certificates_sitting_id_sittings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("certificate_id", name=op.f("uq_certificates_certificate_id")),
    )
    op.create_index(op.f("ix_certificates_sitting_id"), "certificates", ["sitting_id"])


def downgrade() -> None:
    op.drop_table("certificates")
    op.drop_table("journal_entries")
    op.drop_table("sittings")
    op.drop_table("exams")
    op.drop_table("conformance_results")
    op.drop_table("conformance_runs")
    with op.batch_alter_table("outbox_items") as batch_op:
        batch_op.drop_column("not_before")
