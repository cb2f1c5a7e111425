"""Sittings get a uid and the wall time they were last seen; journal entries a kind (answer or
flag); sealed exam submissions and the marketplace's results.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.db.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sittings") as batch_op:
        # a sitting of an earlier revision gets its row id as uid: unique, and never sealed yet
        batch_op.add_column(sa.Column("uid", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("seen_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE sittings SET uid = 'sitting-' || id WHERE uid IS NULL")
    with op.batch_alter_table("sittings") as batch_op:
        batch_op.alter_column("uid", existing_type=sa.String(length=36), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_sittings_uid"), ["uid"])
    with op.batch_alter_table("journal_entries") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="answer")
        )
    op.create_table(
        "exam_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.String(length=36), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=True),
        sa.Column("exam_id", sa.String(length=64), nullable=False),
        sa.Column("exam_version", sa.String(length=32), nullable=False),
        sa.Column("candidate_name", sa.String(length=200), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("device_public_key", sa.Text(), nullable=False),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sitting_id"],
            ["sittings.id"],
            name=op.f("fk_exam_submissions_sitting_id_sittings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_submissions")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_exam_submissions_submission_id")),
    )
    op.create_index(op.f("ix_exam_submissions_sitting_id"), "exam_submissions", ["sitting_id"])
    op.create_table(
        "exam_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.String(length=36), nullable=False),
        sa.Column("exam_id", sa.String(length=64), nullable=False),
        sa.Column("exam_version", sa.String(length=32), nullable=False),
        sa.Column("candidate_name", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("pending_manual", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("scored_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_results")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_exam_results_submission_id")),
    )


def downgrade() -> None:
    op.drop_table("exam_results")
    op.drop_index(op.f("ix_exam_submissions_sitting_id"), table_name="exam_submissions")
    op.drop_table("exam_submissions")
    with op.batch_alter_table("journal_entries") as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("sittings") as batch_op:
        batch_op.drop_constraint(op.f("uq_sittings_uid"), type_="unique")
        batch_op.drop_column("seen_at")
        batch_op.drop_column("uid")
