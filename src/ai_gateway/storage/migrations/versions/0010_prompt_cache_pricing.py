"""Provider prompt caching, priced exactly: a cache-write price per model (and in its price
history), and per usage row the prompt-cache write tokens, the cache-write price used and
what the provider's prompt cache saved (USD and BRL); the usage roll-ups sum the same.

The two Anthropic seed models get their list cache-write price (1.25x input, the 5-minute
cache). Existing rows get 0: what prompt caching saved was not recorded before. Clients
get ``prompt_cache_breakpoints`` (NULL: follow the shared config), the per-client switch
of Anthropic prompt-cache breakpoints.

Revision ID: 0010_prompt_cache_pricing
Revises: 0009_plan_ceilings
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

import ai_gateway.storage.types

revision = "0010_prompt_cache_pricing"
down_revision = "0009_plan_ceilings"
branch_labels = None
depends_on = None

_ROLLUPS = (
    "gateway_usage_daily",
    "gateway_usage_daily_totals",
    "gateway_usage_daily_clients",
    "gateway_usage_monthly",
)
#: model id -> cache-write price per 1M tokens (USD), Anthropic's list price.
_WRITE_PRICES = {
    "anthropic/claude-3-5-sonnet": Decimal("3.75"),
    "anthropic/claude-3-opus": Decimal("18.75"),
}


_MODELS = "ai_models_registry"
_SAVED = ("cache_write_tokens", "prompt_cache_saved_usd", "prompt_cache_saved_brl")


def _saved_columns(tokens: sa.types.TypeEngine[int]) -> list[sa.Column[Any]]:
    return [
        sa.Column("cache_write_tokens", tokens, nullable=False, server_default="0"),
        sa.Column(
            "prompt_cache_saved_usd",
            ai_gateway.storage.types.Money(),
            nullable=False,
            server_default="0",
        ),
        sa.Column(
            "prompt_cache_saved_brl",
            ai_gateway.storage.types.Money(),
            nullable=False,
            server_default="0",
        ),
    ]


def upgrade() -> None:
    for table in ("ai_models_registry", "model_price_history"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "cache_write_price_per_1m",
                    ai_gateway.storage.types.Money(18, 6),
                    nullable=True,
                )
            )
    with op.batch_alter_table("gateway_usage_logs") as batch:
        batch.add_column(
            sa.Column(
                "cache_write_price_per_1m", ai_gateway.storage.types.Money(18, 6), nullable=True
            )
        )
        for column in _saved_columns(sa.Integer()):
            batch.add_column(column)
    for table in _ROLLUPS:
        with op.batch_alter_table(table) as batch:
            for column in _saved_columns(sa.BigInteger()):
                batch.add_column(column)
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("prompt_cache_breakpoints", sa.Boolean(), nullable=True))
    models = sa.table(
        "ai_models_registry",
        sa.column("id", sa.String()),
        sa.column("cache_write_price_per_1m", ai_gateway.storage.types.Money(18, 6)),
    )
    for model_id, price in _WRITE_PRICES.items():
        op.execute(
            models.update().where(models.c.id == model_id).values(cache_write_price_per_1m=price)
        )


def downgrade() -> None:
    # Plain DROP COLUMN on both databases (SQLite >= 3.35): a batch copy of
    # ai_models_registry would trip the foreign key from model_price_history.
    drops = [(table, name) for table in _ROLLUPS for name in _SAVED]
    drops += [("gateway_usage_logs", name) for name in (*_SAVED, "cache_write_price_per_1m")]
    drops += [(t, "cache_write_price_per_1m") for t in ("model_price_history", _MODELS)]
    drops.append(("clients", "prompt_cache_breakpoints"))
    for table, name in drops:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
