"""Usage rows for API tests, written through the real usage writer's storage function so
the roll-ups (daily usage, latency histogram, cache performance) move exactly as in
production."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import new_id
from ai_gateway.storage.usage import UsageRecord, write_usage_batch

__all__ = ["meter_row", "usage_row", "write_rows"]


def usage_row(client_id: str, **fields: Any) -> dict[str, Any]:
    """One row; ``days_ago`` moves it back in time."""
    days_ago = fields.pop("days_ago", 0)
    row: dict[str, Any] = {
        "id": new_id(),
        "client_id": client_id,
        "conversation_id": None,
        "request_id": new_id(),
        "model_requested": "openai/gpt-4o-mini",
        "model_used": "openai/gpt-4o-mini",
        "provider": "openai",
        "route": "direct",
        "is_stream": False,
        "input_tokens": 100,
        "output_tokens": 50,
        "cached_tokens": 0,
        "cost_usd": Decimal("0.0010000000"),
        "cost_brl": Decimal("0.0050000000"),
        "exchange_rate": Decimal("5"),
        "latency_ms": 100,
        "cache_hit": False,
        "saved_usd": Decimal(0),
        "saved_brl": Decimal(0),
        "fallback_from": None,
        "fallback_attempts": 0,
        "fallback_reason": None,
        "status": "success",
        "error_code": None,
        "created_at": datetime.now(UTC) - timedelta(days=days_ago),
    }
    row.update(fields)
    return row


def meter_row(client_id: str) -> dict[str, Any]:
    """A row with every column the meter fills (``pipeline.meter.Meter._row``)."""
    return usage_row(
        client_id,
        latency_ms=random.randint(1, 40),
        endpoint="chat.completions",
        cache_write_tokens=0,
        cost_usd=Decimal("0.0000133326"),
        cost_brl=Decimal("0.0000666630"),
        exchange_rate=Decimal("5.000000"),
        input_price_per_1m=Decimal("0.150000"),
        output_price_per_1m=Decimal("0.600000"),
        cached_input_price_per_1m=Decimal("0.075000"),
        cache_write_price_per_1m=None,
        prompt_cache_saved_usd=Decimal(0),
        prompt_cache_saved_brl=Decimal(0),
        unpriced=False,
        ttft_ms=None,
        cache_semantic=False,
        error_message=None,
        upstream_request_id="chatcmpl-" + os.urandom(12).hex(),
        upstream_provider=None,
        upstream_cache=None,
        telemetry={"attempts": 1},
    )


def write_rows(db: Database, rows: list[dict[str, Any]], *, cache_lookup: bool = True) -> None:
    with db.write() as s:
        write_usage_batch(s, [UsageRecord(row=r, cache_lookup=cache_lookup) for r in rows])
