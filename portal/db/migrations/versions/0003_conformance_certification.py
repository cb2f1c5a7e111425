"""Conformance runs keep their marketplace challenge and certification; results keep
whether they are required and what they measured.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conformance_runs") as batch_op:
        batch_op.add_column(sa.Column("challenge_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("certification", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("certification_detail", sa.Text(), nullable=True))
    with op.batch_alter_table("conformance_results") as batch_op:
        batch_op.add_column(
            sa.Column("required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("measured", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conformance_results") as batch_op:
        batch_op.drop_column("measured")
        batch_op.drop_column("required")
    with op.batch_alter_table("conformance_runs") as batch_op:
        batch_op.drop_column("certification_detail")
        batch_op.drop_column("certification")
        batch_op.drop_column("challenge_id")
