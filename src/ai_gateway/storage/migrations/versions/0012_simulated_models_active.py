"""Seed the ``simulated`` chat model, active, so a fresh instance answers a first call.

Without it, a new operator cannot get one chat answer before buying provider keys. The
simulated provider needs no key and no network; its answers are deterministic. The
operator disables it like any model (``ai-gateway models disable simulated/demo-chat``).
The row is inserted only when missing (``serve --demo`` used to add it), and the
downgrade removes it only if no usage row points at it.

Revision ID: 0012_simulated_models_active
Revises: 0010_prompt_cache_pricing
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from ai_gateway.storage.types import Money, UTCDateTime

revision = "0012_simulated_models_active"
down_revision = "0010_prompt_cache_pricing"
branch_labels = None
depends_on = None

MODEL_ID = "simulated/demo-chat"
_INPUT, _OUTPUT = Decimal("0.10"), Decimal("0.40")

models_table = sa.table(
    "ai_models_registry",
    sa.column("id", sa.String),
    sa.column("provider", sa.String),
    sa.column("model_name", sa.String),
    sa.column("display_name", sa.String),
    sa.column("input_price_per_1m", Money(18, 6)),
    sa.column("output_price_per_1m", Money(18, 6)),
    sa.column("cached_input_price_per_1m", Money(18, 6)),
    sa.column("context_window", sa.Integer),
    sa.column("capabilities", sa.JSON),
    sa.column("aliases", sa.JSON),
    sa.column("is_active", sa.Boolean),
    sa.column("created_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
)
history_table = sa.table(
    "model_price_history",
    sa.column("model_id", sa.String),
    sa.column("input_price_per_1m", Money(18, 6)),
    sa.column("output_price_per_1m", Money(18, 6)),
    sa.column("cached_input_price_per_1m", Money(18, 6)),
    sa.column("source", sa.String),
    sa.column("effective_at", UTCDateTime),
)


def upgrade() -> None:
    conn = op.get_bind()
    exists = conn.execute(sa.select(models_table.c.id).where(models_table.c.id == MODEL_ID)).first()
    if exists is not None:
        return
    now = datetime.now(UTC)
    op.bulk_insert(
        models_table,
        [
            {
                "id": MODEL_ID,
                "provider": "simulated",
                "model_name": "demo-chat",
                "display_name": "Simulated demo chat",
                # Priced like a cheap real model, so budgets and charts move on a demo.
                "input_price_per_1m": _INPUT,
                "output_price_per_1m": _OUTPUT,
                "cached_input_price_per_1m": None,
                "context_window": 128_000,
                "capabilities": ["chat", "streaming", "json"],
                "aliases": [],
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    op.bulk_insert(
        history_table,
        [
            {
                "model_id": MODEL_ID,
                "input_price_per_1m": _INPUT,
                "output_price_per_1m": _OUTPUT,
                "cached_input_price_per_1m": None,
                "source": "seed",
                "effective_at": now,
            }
        ],
    )


def downgrade() -> None:
    conn = op.get_bind()
    used = conn.execute(
        sa.text("SELECT 1 FROM gateway_usage_logs WHERE model_used = :m OR model_requested = :m"),
        {"m": MODEL_ID},
    ).first()
    if used is not None:
        return  # usage points at it: keep the row (and its prices) for that history
    conn.execute(sa.text("DELETE FROM model_price_history WHERE model_id = :m"), {"m": MODEL_ID})
    conn.execute(sa.text("DELETE FROM ai_models_registry WHERE id = :m"), {"m": MODEL_ID})
