"""The semantic cache: per-client opt-in, its entries, and semantic hits counted apart.

* ``clients.semantic_cache`` (off by default) and ``clients.semantic_cache_threshold``
  (NULL: the gateway's default similarity);
* ``semantic_cache_entries``: one row per cached answer with its question's embedding
  (float32 little-endian bytes), the scope it may be reused in, the answer itself and
  its expiry; row-level security on PostgreSQL like every tenant table;
* ``gateway_usage_logs.cache_semantic`` and ``gateway_cache_performance.semantic_hits``:
  a semantic hit is still a hit (``cache_hit``, ``hits``), these say which kind.

Revision ID: 0014_semantic_cache
Revises: 0013_request_explorer
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ai_gateway.storage.types import Money, UTCDateTime

revision = "0014_semantic_cache"
down_revision = "0013_request_explorer"
branch_labels = None
depends_on = None

ROLE = "ai_gateway_tenant"
_CONDITION = (
    "(current_setting('ai_gateway.is_admin', true) = 'on' "
    "OR client_id = current_setting('ai_gateway.client_id', true))"
)


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it, with a constant default): a batch copy of clients
    # would drop a table that every tenant table references.
    op.add_column(
        "clients",
        sa.Column("semantic_cache", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("clients", sa.Column("semantic_cache_threshold", sa.Float(), nullable=True))
    op.add_column(
        "gateway_usage_logs",
        sa.Column("cache_semantic", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "gateway_cache_performance",
        sa.Column("semantic_hits", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "semantic_cache_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("scope_hash", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=128), nullable=False),
        sa.Column("embed_model", sa.String(length=128), nullable=False),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("literals", sa.JSON(), nullable=False),
        sa.Column("query_text", sa.Text(), nullable=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("cost_usd", Money(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_semantic_cache_scope",
        "semantic_cache_entries",
        ["client_id", "scope_hash", "created_at"],
    )
    op.create_index("ix_semantic_cache_expiry", "semantic_cache_entries", ["expires_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON semantic_cache_entries TO {ROLE}")
        op.execute("ALTER TABLE semantic_cache_entries ENABLE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY tenant_isolation ON semantic_cache_entries "
            f"USING {_CONDITION} WITH CHECK {_CONDITION}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON semantic_cache_entries")
        op.execute(f"REVOKE ALL ON semantic_cache_entries FROM {ROLE}")
    op.drop_index("ix_semantic_cache_expiry", table_name="semantic_cache_entries")
    op.drop_index("ix_semantic_cache_scope", table_name="semantic_cache_entries")
    op.drop_table("semantic_cache_entries")
    # Plain DROP COLUMN on both databases (SQLite >= 3.35), as 0010 and 0011 do.
    for table, name in (
        ("gateway_cache_performance", "semantic_hits"),
        ("gateway_usage_logs", "cache_semantic"),
        ("clients", "semantic_cache_threshold"),
        ("clients", "semantic_cache"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
