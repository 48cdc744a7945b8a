"""Rate limits: per plan, per client, and the ceilings of the shared provider keys.

``plan_rate_limits`` and ``client_rate_limits`` hold requests/tokens per minute and
concurrent calls (NULL: no limit / follow the plan); ``shared_gateway_config`` gains
``provider_rate_limits`` (JSON), so a ceiling change bumps the config version every
replica polls. ``client_rate_limits`` is under row-level security on PostgreSQL.

Revision ID: 0008_rate_limits
Revises: 0005_merge
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import ai_gateway.storage.types

revision = "0008_rate_limits"
down_revision = "0005_merge"
branch_labels = None
depends_on = None

ROLE = "ai_gateway_tenant"
_CONDITION = (
    "(current_setting('ai_gateway.is_admin', true) = 'on' "
    "OR client_id = current_setting('ai_gateway.client_id', true))"
)


def _limit_columns(table: str) -> list[Any]:
    items: list[Any] = []
    for column in ("rpm", "tpm", "concurrency"):
        items.append(sa.Column(column, sa.Integer(), nullable=True))
    items.append(
        sa.Column("updated_at", ai_gateway.storage.types.UTCDateTime(timezone=True), nullable=False)
    )
    for column in ("rpm", "tpm", "concurrency"):
        items.append(
            sa.CheckConstraint(f"{column} IS NULL OR {column} >= 1", name=f"ck_{table}_{column}")
        )
    return items


def upgrade() -> None:
    op.create_table(
        "plan_rate_limits",
        sa.Column("plan", sa.String(length=32), nullable=False),
        *_limit_columns("plan_rate_limits"),
        sa.ForeignKeyConstraint(["plan"], ["plan_budgets.plan"]),
        sa.PrimaryKeyConstraint("plan"),
    )
    op.create_table(
        "client_rate_limits",
        sa.Column("client_id", sa.String(length=32), nullable=False),
        *_limit_columns("client_rate_limits"),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("client_id"),
    )
    with op.batch_alter_table("shared_gateway_config", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider_rate_limits", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT SELECT ON plan_rate_limits TO {ROLE}")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON client_rate_limits TO {ROLE}")
        op.execute("ALTER TABLE client_rate_limits ENABLE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY tenant_isolation ON client_rate_limits "
            f"USING {_CONDITION} WITH CHECK {_CONDITION}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON client_rate_limits")
        op.execute(f"REVOKE ALL ON client_rate_limits FROM {ROLE}")
        op.execute(f"REVOKE ALL ON plan_rate_limits FROM {ROLE}")
    with op.batch_alter_table("shared_gateway_config", schema=None) as batch_op:
        batch_op.drop_column("provider_rate_limits")
    op.drop_table("client_rate_limits")
    op.drop_table("plan_rate_limits")
