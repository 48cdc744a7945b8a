"""Seed the six models of the seed, the four plans and the single config row.

Prices are the providers' public list prices in USD per 1M tokens (input, output, cached
input where the provider bills cached reads).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from ai_gateway.storage.types import Money, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_CHAT = ["chat", "streaming", "json", "tools"]
# id, provider, upstream name, display name, input, output, cached input, context, extra caps
MODELS = [
    ("openai/gpt-4o", "openai", "gpt-4o", "GPT-4o", "2.50", "10.00", "1.25", 128_000, ["vision"]),
    (
        "openai/gpt-4o-mini",
        "openai",
        "gpt-4o-mini",
        "GPT-4o mini",
        "0.15",
        "0.60",
        "0.075",
        128_000,
        ["vision"],
    ),
    (
        "groq/llama-3.3-70b",
        "groq",
        "llama-3.3-70b-versatile",
        "Llama 3.3 70B (Groq)",
        "0.59",
        "0.79",
        None,
        131_072,
        [],
    ),
    (
        "anthropic/claude-3-5-sonnet",
        "anthropic",
        "claude-3-5-sonnet-20241022",
        "Claude 3.5 Sonnet",
        "3.00",
        "15.00",
        "0.30",
        200_000,
        ["vision"],
    ),
    (
        "anthropic/claude-3-opus",
        "anthropic",
        "claude-3-opus-20240229",
        "Claude 3 Opus",
        "15.00",
        "75.00",
        "1.50",
        200_000,
        ["vision"],
    ),
    (
        "google/gemini-2.0-flash",
        "google",
        "gemini-2.0-flash",
        "Gemini 2.0 Flash",
        "0.10",
        "0.40",
        "0.025",
        1_048_576,
        ["vision"],
    ),
]
# plan, type, limit, period, pause at limit
PLANS = [
    ("free", "brl", "10", "monthly", True),
    ("basic", "brl", "100", "monthly", True),
    ("pro", "brl", "500", "monthly", False),
    ("enterprise", "brl", "5000", "monthly", False),
]

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
plans_table = sa.table(
    "plan_budgets",
    sa.column("plan", sa.String),
    sa.column("budget_type", sa.String),
    sa.column("limit_value", Money()),
    sa.column("period", sa.String),
    sa.column("alert_thresholds", sa.JSON),
    sa.column("pause_at_limit", sa.Boolean),
    sa.column("markup_percent", Money(8, 4)),
    sa.column("updated_at", UTCDateTime),
)
config_table = sa.table(
    "shared_gateway_config",
    sa.column("id", sa.Integer),
    sa.column("base_urls", sa.JSON),
    sa.column("provider_options", sa.JSON),
    sa.column("cache_enabled", sa.Boolean),
    sa.column("cache_ttl_seconds", sa.Integer),
    sa.column("cache_scope", sa.String),
    sa.column("cache_nondeterministic", sa.Boolean),
    sa.column("cache_count_tokens", sa.Boolean),
    sa.column("default_model", sa.String),
    sa.column("fallback_chain", sa.JSON),
    sa.column("connect_timeout_s", Money(8, 3)),
    sa.column("read_timeout_s", Money(8, 3)),
    sa.column("total_timeout_s", Money(8, 3)),
    sa.column("max_retries", sa.Integer),
    sa.column("version", sa.Integer),
    sa.column("updated_at", UTCDateTime),
)


def _price(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def upgrade() -> None:
    now = datetime.now(UTC)
    op.bulk_insert(
        models_table,
        [
            {
                "id": mid,
                "provider": provider,
                "model_name": name,
                "display_name": display,
                "input_price_per_1m": _price(inp),
                "output_price_per_1m": _price(out),
                "cached_input_price_per_1m": _price(cached),
                "context_window": ctx,
                "capabilities": _CHAT + extra,
                "aliases": [name],
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            }
            for mid, provider, name, display, inp, out, cached, ctx, extra in MODELS
        ],
    )
    op.bulk_insert(
        history_table,
        [
            {
                "model_id": mid,
                "input_price_per_1m": _price(inp),
                "output_price_per_1m": _price(out),
                "cached_input_price_per_1m": _price(cached),
                "source": "seed",
                "effective_at": now,
            }
            for mid, _p, _n, _d, inp, out, cached, _c, _e in MODELS
        ],
    )
    op.bulk_insert(
        plans_table,
        [
            {
                "plan": plan,
                "budget_type": kind,
                "limit_value": Decimal(limit),
                "period": period,
                "alert_thresholds": [80, 90, 100],
                "pause_at_limit": pause,
                "markup_percent": Decimal(30),
                "updated_at": now,
            }
            for plan, kind, limit, period, pause in PLANS
        ],
    )
    op.bulk_insert(
        config_table,
        [
            {
                "id": 1,
                "base_urls": {},
                "provider_options": {},
                "cache_enabled": True,
                "cache_ttl_seconds": 3600,
                "cache_scope": "client",
                "cache_nondeterministic": False,
                "cache_count_tokens": False,
                "default_model": "openai/gpt-4o-mini",
                "fallback_chain": [
                    "openai/gpt-4o-mini",
                    "groq/llama-3.3-70b",
                    "google/gemini-2.0-flash",
                ],
                "connect_timeout_s": Decimal(5),
                "read_timeout_s": Decimal(60),
                "total_timeout_s": Decimal(120),
                "max_retries": 0,
                "version": 1,
                "updated_at": now,
            }
        ],
    )


def downgrade() -> None:
    op.execute("DELETE FROM shared_gateway_config")
    op.execute("DELETE FROM plan_budgets")
    op.execute("DELETE FROM model_price_history WHERE source = 'seed'")
    ids = ", ".join(f"'{m[0]}'" for m in MODELS)
    op.execute(f"DELETE FROM ai_models_registry WHERE id IN ({ids})")
