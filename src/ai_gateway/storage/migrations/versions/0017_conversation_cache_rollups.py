"""Two roll-ups kept by the usage writer like every other and backfilled here:
``gateway_usage_daily_conversations`` (per client x UTC day x conversation: calls,
tokens, cost, errors, cache hits, the latency sum, the first and last call) and
``gateway_cache_daily_totals`` (the cache roll-up of every client together, per UTC day x
model).

Why: one client's conversation table grouped its raw rows (a heap visit per call, 1.5 s
P95 at 20M rows), and the operator's daily cost savings summed the per-client cache
roll-up (~273k rows for 500 clients over 90 days) per day (docs/PERFORMANCE.md).

Revision ID: 0017_conversation_cache_rollups
Revises: 0016_usage_daily_endpoints
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ai_gateway.storage.types import Money, UTCDateTime

revision = "0017_conversation_cache_rollups"
down_revision = "0016_usage_daily_endpoints"
branch_labels = None
depends_on = None

ROLE = "ai_gateway_tenant"
_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CONDITION = (
    "(current_setting('ai_gateway.is_admin', true) = 'on' "
    "OR client_id = current_setting('ai_gateway.client_id', true))"
)
CONVERSATIONS = "gateway_usage_daily_conversations"
CACHE_TOTALS = "gateway_cache_daily_totals"
_CONVERSATION_COUNTS = ("requests", "errors", "cache_hits", "input_tokens", "output_tokens")
_CACHE_COUNTS = ("hits", "semantic_hits", "misses", "tokens_saved")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        CONVERSATIONS,
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _CONVERSATION_COUNTS),
        sa.Column("cost_usd", Money(), nullable=False),
        sa.Column("cost_brl", Money(), nullable=False),
        sa.Column("latency_ms_sum", sa.BigInteger(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "client_id", "day", "conversation_id", name="uq_usage_daily_conversations"
        ),
    )
    op.create_table(
        CACHE_TOTALS,
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("model_id", sa.String(length=128), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _CACHE_COUNTS),
        sa.Column("saved_usd", Money(), nullable=False),
        sa.Column("saved_brl", Money(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "model_id", name="uq_cache_daily_totals"),
    )
    if postgres:
        # The backfill groups every usage row with a conversation: a larger sort memory
        # for this transaction only keeps it from spilling to disk in small runs.
        op.execute("SET LOCAL work_mem = '256MB'")
    _backfill(postgres)
    if postgres:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {CONVERSATIONS} TO {ROLE}")
        op.execute(f"ALTER TABLE {CONVERSATIONS} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {CONVERSATIONS} "
            f"USING {_CONDITION} WITH CHECK {_CONDITION}"
        )
        # gateway_cache_daily_totals is an every-client aggregate that only admin routes
        # read: like gateway_usage_daily_totals, the tenant role gets no grant on it.
        op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")


def _backfill(postgres: bool) -> None:
    """Sum what is already there, as the writer would have: the conversations from the
    usage rows (one GROUP BY), the cache totals from the per-client cache roll-up (which
    also holds the days the retention job pruned from the rows)."""
    day = (
        "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        if postgres
        else "substr(CAST(created_at AS TEXT), 1, 10)"
    )
    op.execute(f"""
        INSERT INTO {CONVERSATIONS} (client_id, day, conversation_id,
            {", ".join(_CONVERSATION_COUNTS)}, cost_usd, cost_brl, latency_ms_sum,
            first_at, last_at)
        SELECT client_id, {day}, conversation_id, COUNT(*),
            SUM(CASE WHEN status IN ('error', 'cut') THEN 1 ELSE 0 END),
            SUM(CASE WHEN cache_hit THEN 1 ELSE 0 END),
            SUM(input_tokens), SUM(output_tokens), SUM(cost_usd), SUM(cost_brl),
            SUM(latency_ms), MIN(created_at), MAX(created_at)
        FROM gateway_usage_logs
        WHERE conversation_id IS NOT NULL
        GROUP BY client_id, {day}, conversation_id
    """)
    sums = ", ".join(f"SUM({name})" for name in (*_CACHE_COUNTS, "saved_usd", "saved_brl"))
    op.execute(f"""
        INSERT INTO {CACHE_TOTALS} (day, model_id, {", ".join(_CACHE_COUNTS)}, saved_usd,
            saved_brl)
        SELECT day, model_id, {sums} FROM gateway_cache_performance GROUP BY day, model_id
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {CONVERSATIONS}")
        op.execute(f"REVOKE ALL ON {CONVERSATIONS} FROM {ROLE}")
    op.drop_table(CACHE_TOTALS)
    op.drop_table(CONVERSATIONS)
