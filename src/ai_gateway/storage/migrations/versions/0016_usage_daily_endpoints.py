"""``gateway_usage_daily_endpoints``: usage per UTC day x client x endpoint, kept by the
usage writer like every roll-up and backfilled here from the existing rows.

Why: one client's breakdown by endpoint summed its raw rows, a heap visit per call (the
slowest part of the client's analytics at 20M rows, docs/PERFORMANCE.md), and it lost the
days the retention job had pruned while every other total kept them.

Revision ID: 0016_usage_daily_endpoints
Revises: 0015_gateway_replicas
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ai_gateway.storage.types import Money

revision = "0016_usage_daily_endpoints"
down_revision = "0015_gateway_replicas"
branch_labels = None
depends_on = None

ROLE = "ai_gateway_tenant"
_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CONDITION = (
    "(current_setting('ai_gateway.is_admin', true) = 'on' "
    "OR client_id = current_setting('ai_gateway.client_id', true))"
)
_COUNTS = (
    "requests",
    "errors",
    "cache_hits",
    "fallbacks",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "latency_ms_sum",
)
_MONEY = ("cost_usd", "cost_brl", "prompt_cache_saved_usd", "prompt_cache_saved_brl")
TABLE = "gateway_usage_daily_endpoints"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _COUNTS[:7]),
        sa.Column("cost_usd", Money(), nullable=False),
        sa.Column("cost_brl", Money(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("prompt_cache_saved_usd", Money(), nullable=False, server_default="0"),
        sa.Column("prompt_cache_saved_brl", Money(), nullable=False, server_default="0"),
        sa.Column("latency_ms_sum", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "client_id", "endpoint", name="uq_usage_daily_endpoints"),
    )
    op.create_index("ix_usage_daily_endpoints_client_day", TABLE, ["client_id", "day"])
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {TABLE} TO {ROLE}")
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {TABLE} USING {_CONDITION} WITH CHECK {_CONDITION}"
        )
        op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")


def _backfill() -> None:
    """Sum the rows already logged, as the writer would have (one GROUP BY)."""
    day = (
        "substr(CAST(created_at AS TEXT), 1, 10)"
        if op.get_bind().dialect.name == "sqlite"
        else "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    )
    columns = ", ".join((*_COUNTS, *_MONEY))
    op.execute(f"""
        INSERT INTO {TABLE} (day, client_id, endpoint, {columns})
        SELECT {day}, client_id, endpoint, COUNT(*),
            SUM(CASE WHEN status IN ('error', 'cut') THEN 1 ELSE 0 END),
            SUM(CASE WHEN cache_hit THEN 1 ELSE 0 END),
            SUM(CASE WHEN fallback_from IS NOT NULL THEN 1 ELSE 0 END),
            SUM(input_tokens), SUM(output_tokens), SUM(cached_tokens),
            SUM(cache_write_tokens), SUM(latency_ms),
            SUM(cost_usd), SUM(cost_brl), SUM(prompt_cache_saved_usd),
            SUM(prompt_cache_saved_brl)
        FROM gateway_usage_logs
        GROUP BY {day}, client_id, endpoint
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {TABLE}")
        op.execute(f"REVOKE ALL ON {TABLE} FROM {ROLE}")
    op.drop_index("ix_usage_daily_endpoints_client_day", table_name=TABLE)
    op.drop_table(TABLE)
