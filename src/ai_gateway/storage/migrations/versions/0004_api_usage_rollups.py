"""Daily usage roll-ups for the REST API's dashboards, and a per-client index on the
cache roll-up; existing usage rows are summed into the new tables.

Revision ID: 0004_api
Revises: 0003
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

import ai_gateway.storage.types
from ai_gateway.storage.rollups import latency_bucket

revision = "0004_api"
down_revision = "0003"
branch_labels = None
depends_on = None

_ROLE = "ai_gateway_tenant"
_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CONDITION = (
    "(current_setting('ai_gateway.is_admin', true) = 'on' "
    "OR client_id = current_setting('ai_gateway.client_id', true))"
)


def upgrade() -> None:
    op.create_table(
        "gateway_usage_daily",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=128), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in (
                "requests",
                "errors",
                "cache_hits",
                "fallbacks",
                "input_tokens",
                "output_tokens",
                "cached_tokens",
            )
        ),
        sa.Column("cost_usd", ai_gateway.storage.types.Money(), nullable=False),
        sa.Column("cost_brl", ai_gateway.storage.types.Money(), nullable=False),
        sa.Column("latency_ms_sum", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "client_id", "model_id", "provider", name="uq_usage_daily"),
    )
    op.create_index("ix_usage_daily_client_day", "gateway_usage_daily", ["client_id", "day"])
    op.create_table(
        "gateway_latency_daily",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("model_id", sa.String(length=128), nullable=False),
        sa.Column("bucket_ms", sa.Integer(), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "model_id", "bucket_ms", name="uq_latency_daily"),
    )
    op.create_index("ix_cache_perf_client_day", "gateway_cache_performance", ["client_id", "day"])
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON gateway_usage_daily TO {_ROLE}")
        op.execute("ALTER TABLE gateway_usage_daily ENABLE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY tenant_isolation ON gateway_usage_daily "
            f"USING {_CONDITION} WITH CHECK {_CONDITION}"
        )
        op.execute(f"GRANT SELECT ON gateway_latency_daily TO {_ROLE}")
        op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {_ROLE}")


def _backfill() -> None:
    """Sum the usage already logged (SQL for the roll-up; the histogram from per-latency
    counts, so the bucket formula is the Python one on both engines)."""
    bind = op.get_bind()
    day = (
        "substr(CAST(created_at AS TEXT), 1, 10)"
        if bind.dialect.name == "sqlite"
        else "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    )
    model = "COALESCE(model_used, model_requested)"
    op.execute(f"""
        INSERT INTO gateway_usage_daily (day, client_id, model_id, provider, requests, errors,
            cache_hits, fallbacks, input_tokens, output_tokens, cached_tokens, cost_usd,
            cost_brl, latency_ms_sum)
        SELECT {day}, client_id, {model}, COALESCE(provider, ''), COUNT(*),
            SUM(CASE WHEN status IN ('error', 'cut') THEN 1 ELSE 0 END),
            SUM(CASE WHEN cache_hit THEN 1 ELSE 0 END),
            SUM(CASE WHEN fallback_from IS NOT NULL THEN 1 ELSE 0 END),
            SUM(input_tokens), SUM(output_tokens), SUM(cached_tokens),
            SUM(cost_usd), SUM(cost_brl), SUM(latency_ms)
        FROM gateway_usage_logs
        GROUP BY {day}, client_id, {model}, COALESCE(provider, '')
    """)
    counts: dict[tuple[str, str, int], int] = defaultdict(int)
    rows = bind.execute(
        sa.text(
            f"SELECT {day}, {model}, latency_ms, COUNT(*) FROM gateway_usage_logs "
            f"GROUP BY {day}, {model}, latency_ms"
        )
    )
    for row_day, row_model, ms, calls in rows:
        counts[(row_day, row_model, latency_bucket(int(ms)))] += int(calls)
    if counts:
        bind.execute(
            sa.text(
                "INSERT INTO gateway_latency_daily (day, model_id, bucket_ms, calls) "
                "VALUES (:d, :m, :b, :c)"
            ),
            [{"d": d, "m": m, "b": b, "c": c} for (d, m, b), c in counts.items()],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON gateway_usage_daily")
    op.drop_index("ix_cache_perf_client_day", table_name="gateway_cache_performance")
    op.drop_table("gateway_latency_daily")
    op.drop_index("ix_usage_daily_client_day", table_name="gateway_usage_daily")
    op.drop_table("gateway_usage_daily")
