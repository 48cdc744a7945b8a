"""The gateway processes alive now, for the budget share while Redis is away.

* ``gateway_replicas``: one row per running process that shares budget counters through
  Redis, its ``seen_at`` rewritten every few seconds; a row not seen for three beats is a
  dead process (and is deleted by the next beat of any other).

Revision ID: 0015_gateway_replicas
Revises: 0014_semantic_cache
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ai_gateway.storage.types import UTCDateTime

revision = "0015_gateway_replicas"
down_revision = "0014_semantic_cache"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_replicas",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_gateway_replicas_seen_at", "gateway_replicas", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_gateway_replicas_seen_at", table_name="gateway_replicas")
    op.drop_table("gateway_replicas")
