"""Response pieces several usage reads share (totals, calls, latency, savings): wire
schemas only, returned by the services and sent as they are by the REST API and rendered
by the pages (so the two cannot disagree).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, PlainSerializer

__all__ = [
    "CallPublic",
    "CallsPublic",
    "CostSavings",
    "Latency",
    "ModelSavings",
    "Money",
    "Savings",
    "SavingsPoint",
    "SavingsTotals",
    "UsageTotals",
]

#: Money leaves as a string so no JSON parser turns it into a float.
Money = Annotated[
    Decimal, PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json")
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


class ModelSavings(BaseModel):
    model_id: str
    hits: int
    misses: int
    hit_rate: float
    #: ``hits`` split by the cache that served them (exact key, or semantic match).
    exact_hits: int = 0
    semantic_hits: int = 0
    exact_hit_rate: float = 0.0
    semantic_hit_rate: float = 0.0
    tokens_saved: int
    saved_usd: Money
    saved_brl: Money


class Savings(BaseModel):
    """What the response cache saved (one client's, or every client's)."""

    hits: int
    misses: int
    hit_rate: float
    exact_hits: int = 0
    semantic_hits: int = 0
    exact_hit_rate: float = 0.0
    semantic_hit_rate: float = 0.0
    tokens_saved: int
    saved_usd: Money
    saved_brl: Money
    by_model: list[ModelSavings]
