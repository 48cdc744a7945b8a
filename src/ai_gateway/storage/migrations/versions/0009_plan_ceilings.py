"""Plan ceilings: ``plan_budgets.client_max``, the highest limit a plan's clients may set
themselves (in the plan's budget unit; NULL: no ceiling, as every plan had before).

Revision ID: 0009_plan_ceilings
Revises: 0006_usage_quarantine
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ai_gateway.storage.types

revision = "0009_plan_ceilings"
down_revision = "0006_usage_quarantine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "plan_budgets",
        sa.Column(
            "client_max", ai_gateway.storage.types.Money(precision=28, scale=10), nullable=True
        ),
    )


def downgrade() -> None:
    # SQLite drops a column by rebuilding the table (batch mode); PostgreSQL drops it.
    with op.batch_alter_table("plan_budgets") as batch:
        batch.drop_column("client_max")
