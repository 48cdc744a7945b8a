"""Response pieces several usage routers share (totals, calls, latency): wire schemas only.

Money is :data:`~ai_gateway.api.common.Money` (a Decimal that leaves as a string).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ai_gateway.api.common import Money

__all__ = ["CallPublic", "CallsPublic", "Latency", "UsageTotals"]


class Latency(BaseModel):
    p50: float
    p95: float
    p99: float


class UsageTotals(BaseModel):
    requests: int
    errors: int
    cache_hits: int
    fallbacks: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: Money
    cost_brl: Money
    error_rate: float
    cache_hit_rate: float
    avg_latency_ms: float


class CallPublic(BaseModel):
    """One call as listed (no prompt or answer is ever stored)."""

    id: str
    client_id: str
    conversation_id: str | None
    request_id: str
    model_requested: str
    model_used: str | None
    provider: str | None
    route: str
    status: str
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: Money
    cost_brl: Money
    latency_ms: int
    cache_hit: bool
    fallback_from: str | None
    fallback_attempts: int
    fallback_reason: str | None
    error_code: str | None
    created_at: datetime


class CallsPublic(BaseModel):
    data: list[CallPublic]
    count: int
