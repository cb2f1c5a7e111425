"""Partner organisations and profiles, plugin projects and versions, the sync outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.db.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("partner_type", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=True),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("revenue_share", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_organisations")),
        sa.UniqueConstraint("remote_id", name=op.f("uq_partner_organisations_remote_id")),
    )
    op.create_table(
        "partner_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["partner_organisations.id"],
            name=op.f("fk_partner_profiles_organisation_id_partner_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_profiles")),
        sa.UniqueConstraint("remote_id", name=op.f("uq_partner_profiles_remote_id")),
    )
    op.create_index(
        op.f("ix_partner_profiles_organisation_id"), "partner_profiles", ["organisation_id"]
    )
    op.create_table(
        "plugin_projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("folder", sa.String(length=4096), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plugin_projects")),
        sa.UniqueConstraint("folder", name=op.f("uq_plugin_projects_folder")),
    )
    op.create_table(
        "plugin_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("package_path", sa.String(length=4096), nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("review_status", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["plugin_projects.id"],
            name=op.f("fk_plugin_versions_project_id_plugin_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plugin_versions")),
        sa.UniqueConstraint("project_id", "version", name=op.f("uq_plugin_versions_project_id")),
    )
    op.create_index(op.f("ix_plugin_versions_project_id"), "plugin_versions", ["project_id"])
    op.create_table(
        "outbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("resource", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_items")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_items_idempotency_key")),
    )
    op.create_index("ix_outbox_items_state_resource", "outbox_items", ["state", "resource", "id"])


def downgrade() -> None:
    op.drop_table("outbox_items")
    op.drop_table("plugin_versions")
    op.drop_table("plugin_projects")
    op.drop_table("partner_profiles")
    op.drop_table("partner_organisations")
