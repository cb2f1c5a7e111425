"""Exam packages: expiry, wrong sitting codes tried, a practice exam's listed code.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.db.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exams") as batch_op:
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("failed_unlocks", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("practice_code", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exams") as batch_op:
        batch_op.drop_column("practice_code")
        batch_op.drop_column("failed_unlocks")
        batch_op.drop_column("expires_at")
