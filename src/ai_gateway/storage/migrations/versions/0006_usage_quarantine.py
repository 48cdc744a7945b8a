"""The usage writer's quarantine: rows the database refused, with the reason.

Revision ID: 0006_usage_quarantine
Revises: 0008_rate_limits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ai_gateway.storage.types

revision = "0006_usage_quarantine"
down_revision = "0008_rate_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_usage_quarantine",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("budget_applied", sa.Boolean(), nullable=False),
        sa.Column(
            "quarantined_at",
            ai_gateway.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("gateway_usage_quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_usage_quarantine_time", ["quarantined_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gateway_usage_quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_quarantine_time")
    op.drop_table("gateway_usage_quarantine")
