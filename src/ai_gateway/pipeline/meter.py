"""The last step of every call: price it, settle the budget, queue its usage row.

One code path for every outcome (success, error, cache hit, stream finished, cut or
abandoned), so no kind of call goes unlogged. Nothing here does I/O: the row goes to the
usage writer's queue and the budget change to the in-memory guard. Every string of the
row is cut to its column here (``fit_usage_row``), so caller- or upstream-supplied text
cannot make it unwritable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ai_gateway.metering.pricing import compute_cost, to_brl
from ai_gateway.metering.usage_writer import UsageWriter
from ai_gateway.metrics import GatewayMetrics
from ai_gateway.pipeline.budget import BudgetGuard, Reservation, UsageChange
from ai_gateway.pipeline.estimate import price_of
from ai_gateway.pipeline.outcome import FallbackInfo
from ai_gateway.providers.base import Telemetry, Usage
from ai_gateway.storage.models_registry import ModelInfo
from ai_gateway.storage.tables import new_id
from ai_gateway.storage.usage import UsageRecord, fit_usage_row
from ai_gateway.tracing import span

__all__ = ["CallFacts", "Meter", "Metered"]

UsageListener = Callable[[UsageChange, str], None]
UnpricedListener = Callable[[str], None]


@dataclass(slots=True)
class CallFacts:
    """Everything known about a call when it ends."""

    client_id: str
    request_id: str
    conversation_id: str | None
    model_requested: str
    route: str
    status: str
    endpoint: str = "chat.completions"
    is_stream: bool = False
    model: ModelInfo | None = None
    provider: str | None = None
    usage: Usage | None = None
    telemetry: Telemetry | None = None
    latency_ms: int = 0
    ttft_ms: int | None = None
    cache_hit: bool = False
    #: The hit was the semantic cache's (``cache_hit`` is set too).
    cache_semantic: bool = False
    cache_lookup: bool = False
    saved_usd: Decimal = Decimal(0)
    fallback: FallbackInfo | None = None
    attempts: list[dict[str, Any]] | None = None
    error_code: str | None = None
    error_message: str | None = None
    #: Seconds of audio, read from the file by the gateway (transcriptions).
    audio_seconds: Decimal = Decimal(0)
    #: Seconds of a successful call spent in the gateway, outside the provider's call.
    overhead_seconds: float | None = None
    #: The prompt and answer, only for a client that opted in to keeping them (LGPD),
    #: with how many days to keep them; None for everyone else.
    bodies: dict[str, Any] | None = None


def _prompt_cache_counts(usage: Usage) -> tuple[int, int]:
    """``(cached, written)`` bounded by the prompt: an upstream that reports more cache
    tokens than prompt tokens is billed for at most its prompt (reads first), never for
    a negative number of normal input tokens."""
    cached = min(usage.cached_tokens, usage.input_tokens)
    return cached, min(usage.cache_write_tokens, usage.input_tokens - cached)


@dataclass(frozen=True, slots=True)
class Metered:
    cost_usd: Decimal
    cost_brl: Decimal
    rate: Decimal


class Meter:
    def __init__(
        self,
        *,
        writer: UsageWriter,
        budgets: BudgetGuard,
        rate: Callable[[], Decimal],
        count_cached_tokens: Callable[[], bool],
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._writer = writer
        self._budgets = budgets
        self._rate = rate
        self._count_cached_tokens = count_cached_tokens
        self.usage_listeners: list[UsageListener] = []
        self.unpriced_listeners: list[UnpricedListener] = []

    def record(self, facts: CallFacts, reservation: Reservation | None) -> Metered:
        with span("gateway.meter") as current:
            metered = self._record(facts, reservation)
            if current is not None:
                current.set_attribute("ai_gateway.status", facts.status)
                current.set_attribute("ai_gateway.cost_usd", str(metered.cost_usd))
            return metered

    def _record(self, facts: CallFacts, reservation: Reservation | None) -> Metered:
        rate = self._rate()
        usage = facts.usage or Usage()
        model = facts.model
        price = price_of(model) if model is not None else None
        prompt_saved = Decimal(0)
        if facts.cache_hit:
            cost_usd, priced = Decimal(0), True
        else:
            cached, written = _prompt_cache_counts(usage)
            cost = compute_cost(
                price,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cached_tokens=cached,
                cache_write_tokens=written,
                audio_seconds=facts.audio_seconds,
            )
            cost_usd, priced = cost.usd, cost.priced
            prompt_saved = cost.prompt_cache_saved_usd
        has_tokens = usage.input_tokens or usage.output_tokens or facts.audio_seconds
        unpriced = bool(model is not None and has_tokens and not priced)
        cost_brl = to_brl(cost_usd, rate)
        saved_brl = to_brl(facts.saved_usd, rate)
        prompt_saved_brl = to_brl(prompt_saved, rate)

        budget_amount = Decimal(0)
        if reservation is not None:
            budget_amount = self._budget_amount(
                reservation.budget_type, facts, usage, cost_usd, cost_brl
            )
            change = self._budgets.settle(reservation, budget_amount)
            for listener in self.usage_listeners:
                listener(change, facts.client_id)
        if unpriced and model is not None:
            for on_unpriced in self.unpriced_listeners:
                on_unpriced(model.id)

        if self._metrics is not None:
            self._metrics.record_request(
                provider=facts.provider,
                model_id=model.id if model else facts.model_requested,
                status=facts.status,
                cache_hit=facts.cache_hit,
                seconds=facts.latency_ms / 1000,
            )
            if facts.overhead_seconds is not None:
                self._metrics.record_overhead(facts.overhead_seconds, cache_hit=facts.cache_hit)
        self._writer.submit(
            UsageRecord(
                row=self._row(facts, usage, cost_usd, cost_brl, rate, saved_brl, unpriced)
                | {
                    "prompt_cache_saved_usd": prompt_saved,
                    "prompt_cache_saved_brl": prompt_saved_brl,
                },
                budget_amount=budget_amount,
                cache_lookup=facts.cache_lookup,
                body=facts.bodies,
            )
        )
        return Metered(cost_usd, cost_brl, rate)

    def _budget_amount(
        self, unit: str, facts: CallFacts, usage: Usage, usd: Decimal, brl: Decimal
    ) -> Decimal:
        if unit == "tokens":
            if facts.cache_hit and not self._count_cached_tokens():
                return Decimal(0)
            return Decimal(usage.input_tokens + usage.output_tokens)
        return usd if unit == "usd" else brl

    def _row(
        self,
        facts: CallFacts,
        usage: Usage,
        usd: Decimal,
        brl: Decimal,
        rate: Decimal,
        saved_brl: Decimal,
        unpriced: bool,
    ) -> dict[str, Any]:
        model, telemetry = facts.model, facts.telemetry or Telemetry()
        extra: dict[str, Any] = {}
        if telemetry.generation_id:
            extra["generation_id"] = telemetry.generation_id
        if telemetry.routing_attempts:
            extra["upstream_attempts"] = telemetry.routing_attempts
        if telemetry.upstream_cost:
            extra["upstream_cost"] = telemetry.upstream_cost
        if facts.attempts:
            extra["attempts"] = facts.attempts
        if telemetry.usage_estimated:
            extra["usage_estimated"] = True
        if facts.audio_seconds:
            extra["audio_seconds"] = str(facts.audio_seconds)
            if model is not None and model.price_per_minute is not None:
                extra["price_per_minute"] = str(model.price_per_minute)
        fallback = facts.fallback
        return fit_usage_row(
            {
                "id": new_id(),
                "client_id": facts.client_id,
                "conversation_id": facts.conversation_id,
                "request_id": facts.request_id,
                "model_requested": facts.model_requested,
                "model_used": model.id if model else None,
                "provider": facts.provider,
                "route": facts.route,
                "endpoint": facts.endpoint,
                "is_stream": facts.is_stream,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cached_tokens": usage.cached_tokens,
                "cache_write_tokens": usage.cache_write_tokens,
                "cost_usd": usd,
                "cost_brl": brl,
                "exchange_rate": rate,
                "input_price_per_1m": model.input_price_per_1m if model else None,
                "output_price_per_1m": model.output_price_per_1m if model else None,
                "cached_input_price_per_1m": model.cached_input_price_per_1m if model else None,
                "cache_write_price_per_1m": model.cache_write_price_per_1m if model else None,
                "unpriced": unpriced,
                "latency_ms": facts.latency_ms,
                "ttft_ms": facts.ttft_ms,
                "cache_hit": facts.cache_hit,
                "cache_semantic": facts.cache_semantic,
                "saved_usd": facts.saved_usd,
                "saved_brl": saved_brl,
                "fallback_from": fallback.from_model if fallback else None,
                "fallback_attempts": fallback.attempts if fallback else 0,
                "fallback_reason": fallback.reason if fallback else None,
                "status": facts.status,
                "error_code": facts.error_code,
                "error_message": (facts.error_message or "")[:2000] or None,
                "upstream_request_id": telemetry.upstream_request_id,
                "upstream_provider": telemetry.upstream_provider,
                "upstream_cache": telemetry.upstream_cache,
                "telemetry": extra or None,
                "created_at": datetime.now(UTC),
            }
        )
