"""Usage roll-ups for the REST API's dashboards (daily per client x model, daily totals,
daily per client, monthly per client x model, a latency histogram), a per-client index on
the cache roll-up, and two per-client indexes on the usage log (latency, fallbacks);
existing usage rows are summed into the new tables.

Revision ID: 0004_api
Revises: 0003
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

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


_COUNTS = (
    "requests",
    "errors",
    "cache_hits",
    "fallbacks",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
)
_SUMS = ", ".join((*_COUNTS, "cost_usd", "cost_brl", "latency_ms_sum"))


def _sum_columns() -> list[sa.Column[Any]]:
    return [
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _COUNTS),
        sa.Column("cost_usd", ai_gateway.storage.types.Money(), nullable=False),
        sa.Column("cost_brl", ai_gateway.storage.types.Money(), nullable=False),
        sa.Column("latency_ms_sum", sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "gateway_usage_daily",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=128), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        *_sum_columns(),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "client_id", "model_id", "provider", name="uq_usage_daily"),
    )
    op.create_index("ix_usage_daily_client_day", "gateway_usage_daily", ["client_id", "day"])
    op.create_table(
        "gateway_usage_daily_totals",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("model_id", sa.String(length=128), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        *_sum_columns(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "model_id", "provider", name="uq_usage_daily_totals"),
    )
    op.create_table(
        "gateway_usage_monthly",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=128), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        *_sum_columns(),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month", "client_id", "model_id", "provider", name="uq_usage_monthly"),
    )
    op.create_index("ix_usage_monthly_client", "gateway_usage_monthly", ["client_id", "month"])
    op.create_index(
        "ix_usage_client_latency",
        "gateway_usage_logs",
        ["client_id", "created_at", "model_used", "latency_ms"],
    )
    op.create_index(
        "ix_usage_client_fallbacks",
        "gateway_usage_logs",
        ["client_id", "created_at"],
        postgresql_where=sa.text("fallback_from IS NOT NULL"),
        sqlite_where=sa.text("fallback_from IS NOT NULL"),
    )
    op.create_table(
        "gateway_usage_daily_clients",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        *_sum_columns(),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "client_id", name="uq_usage_daily_clients"),
    )
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
        for table in ("gateway_usage_daily", "gateway_usage_monthly"):
            op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {_ROLE}")
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} "
                f"USING {_CONDITION} WITH CHECK {_CONDITION}"
            )
        # gateway_usage_daily_totals and _clients are every-client aggregates that only
        # admin routes read: the tenant role gets no grant on them at all.
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
    totals = ", ".join(f"SUM({name})" for name in _SUMS.split(", "))
    op.execute(f"""
        INSERT INTO gateway_usage_daily_totals (day, model_id, provider, {_SUMS})
        SELECT day, model_id, provider, {totals} FROM gateway_usage_daily
        GROUP BY day, model_id, provider
    """)
    op.execute(f"""
        INSERT INTO gateway_usage_daily_clients (day, client_id, {_SUMS})
        SELECT day, client_id, {totals} FROM gateway_usage_daily GROUP BY day, client_id
    """)
    op.execute(f"""
        INSERT INTO gateway_usage_monthly (month, client_id, model_id, provider, {_SUMS})
        SELECT substr(day, 1, 7), client_id, model_id, provider, {totals}
        FROM gateway_usage_daily GROUP BY substr(day, 1, 7), client_id, model_id, provider
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
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON gateway_usage_monthly")
    op.drop_index("ix_usage_client_fallbacks", table_name="gateway_usage_logs")
    op.drop_index("ix_usage_client_latency", table_name="gateway_usage_logs")
    op.drop_index("ix_usage_monthly_client", table_name="gateway_usage_monthly")
    op.drop_table("gateway_usage_monthly")
    op.drop_index("ix_cache_perf_client_day", table_name="gateway_cache_performance")
    op.drop_table("gateway_latency_daily")
    op.drop_table("gateway_usage_daily_clients")
    op.drop_table("gateway_usage_daily_totals")
    op.drop_index("ix_usage_daily_client_day", table_name="gateway_usage_daily")
    op.drop_table("gateway_usage_daily")
