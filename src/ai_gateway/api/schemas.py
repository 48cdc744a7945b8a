"""Response pieces several usage routers share (totals, calls, latency): wire schemas only.

Money is :data:`~ai_gateway.api.common.Money` (a Decimal that leaves as a string).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from ai_gateway.api.common import Money

__all__ = [
    "CallPublic",
    "CallsPublic",
    "CostSavings",
    "Latency",
    "SavingsPoint",
    "SavingsTotals",
    "UsageTotals",
]


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
    #: Prompt tokens written to the providers' prompt caches (within ``input_tokens``).
    cache_write_tokens: int = 0
    cost_usd: Money
    cost_brl: Money
    #: What the providers' prompt caches saved (already netted in ``cost_*``; negative
    #: when dear cache writes outweighed the cheap reads).
    prompt_cache_saved_usd: Money = Decimal(0)
    prompt_cache_saved_brl: Money = Decimal(0)
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
    cache_write_tokens: int = 0
    cost_usd: Money
    cost_brl: Money
    prompt_cache_saved_usd: Money = Decimal(0)
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


class SavingsTotals(BaseModel):
    """Spent, saved by the response cache and by the providers' prompt caches, and the
    cost reduction they add up to (``saved / cost_without_savings``, of the USD amounts)."""

    cost_usd: Money
    cost_brl: Money
    cache_saved_usd: Money
    cache_saved_brl: Money
    prompt_cache_saved_usd: Money
    prompt_cache_saved_brl: Money
    saved_usd: Money
    saved_brl: Money
    cost_without_savings_usd: Money
    cost_without_savings_brl: Money
    cost_reduction_percent: Money


class SavingsPoint(SavingsTotals):
    day: str


class CostSavings(BaseModel):
    totals: SavingsTotals
    series: list[SavingsPoint]
