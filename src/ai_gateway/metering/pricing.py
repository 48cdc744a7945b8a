"""What one call cost, in exact decimals.

Prices are USD per 1M tokens (the unit every provider publishes). Token counts follow the
OpenAI convention: ``input_tokens`` *includes* ``cached_tokens`` (prompt-cache reads) and
``cache_write_tokens`` (prompt-cache writes). The three parts of a prompt are billed
apart, each exactly once::

    (input - cached - written) x input price
    + cached  x cached-input price   (the input price when the model has none)
    + written x cache-write price    (the input price when the model has none: OpenAI,
                                      Gemini and Groq charge nothing extra for writes)
    + output  x output price

Provider adapters normalise other conventions (Anthropic reports reads and writes apart
from ``input_tokens``) before their usage reaches this module. What prompt caching saved
is the same call priced with every prompt token at the input price, minus its cost: a
call that only wrote to the cache (Anthropic: 1.25x the input price) saved a negative
amount, and reporting it so keeps the savings honest.

Every amount is quantized to :data:`~ai_gateway.storage.types.MONEY_SCALE` places with the
same rounding the ``Money`` column applies, so the value computed here is exactly the value
read back from the database: sums over the usage log match sums of what callers saw.

Transcription models are priced per minute of audio (``per_minute``); the seconds come
from the gateway's own reading of the file, never from the caller.

A model without a price is never silently free: :func:`compute_cost` says ``priced=False``
and the caller flags the usage row (``unpriced``) so an operator can fix the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from ai_gateway.storage.types import MONEY_SCALE

__all__ = [
    "MONEY_QUANTUM",
    "Cost",
    "ModelPrice",
    "compute_cost",
    "dearest_cost_usd",
    "quantize_money",
    "to_brl",
]

#: The smallest amount stored (1e-10); every computed amount is a multiple of it.
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)

# Wide enough that token counts x prices never round before the final quantize, and fixed
# here so a caller changing the thread's decimal context cannot change a bill.
_EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)
_TOKENS_PER_PRICE_UNIT = 6  # prices are per 10**6 tokens


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """A model's list price in USD per 1M tokens; ``None`` means "not known"."""

    input_per_1m: Decimal | None
    output_per_1m: Decimal | None
    cached_input_per_1m: Decimal | None = None
    cache_write_per_1m: Decimal | None = None
    #: USD per minute of audio (transcription models).
    per_minute: Decimal | None = None

    @property
    def has_token_prices(self) -> bool:
        return self.input_per_1m is not None and self.output_per_1m is not None

    @property
    def is_priced(self) -> bool:
        return self.has_token_prices or self.per_minute is not None


@dataclass(frozen=True, slots=True)
class Cost:
    """The USD cost of a call. ``priced`` is False when the model had no price; ``usd`` is
    then zero and must not be read as "free". ``prompt_cache_saved_usd`` is the cost
    without the provider's prompt cache minus ``usd`` (negative after a dear write)."""

    usd: Decimal
    priced: bool
    prompt_cache_saved_usd: Decimal = Decimal(0)


def quantize_money(amount: Decimal) -> Decimal:
    """Round to the storage scale exactly as the ``Money`` column does (half-even)."""
    return amount.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN, context=_EXACT)


def compute_cost(
    price: ModelPrice | None,
    *,
    input_tokens: int,
    output_tokens: int,
    cached_tokens: int = 0,
    cache_write_tokens: int = 0,
    audio_seconds: Decimal = Decimal(0),
) -> Cost:
    """Price one call. Raises ``ValueError`` for impossible counts (negative, or more cached
    and written tokens than input tokens, or negative audio): that is an adapter bug, and
    billing it would hide it."""
    _check_counts(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached=cached_tokens,
        written=cache_write_tokens,
    )
    if audio_seconds < 0:
        raise ValueError("audio seconds cannot be negative")
    if price is None or not price.is_priced:
        return Cost(usd=Decimal(0).quantize(MONEY_QUANTUM), priced=False)
    if audio_seconds and price.per_minute is None:
        return Cost(usd=Decimal(0).quantize(MONEY_QUANTUM), priced=False)
    with localcontext(_EXACT):
        total = Decimal(0)
        full = Decimal(0)
        if price.input_per_1m is not None and price.output_per_1m is not None:
            input_rate = price.input_per_1m
            cached_rate = (
                input_rate if price.cached_input_per_1m is None else price.cached_input_per_1m
            )
            write_rate = (
                input_rate if price.cache_write_per_1m is None else price.cache_write_per_1m
            )
            output = output_tokens * price.output_per_1m
            total = (
                (input_tokens - cached_tokens - cache_write_tokens) * input_rate
                + cached_tokens * cached_rate
                + cache_write_tokens * write_rate
                + output
            ).scaleb(-_TOKENS_PER_PRICE_UNIT)
            full = (input_tokens * input_rate + output).scaleb(-_TOKENS_PER_PRICE_UNIT)
        if price.per_minute is not None:
            audio = audio_seconds * price.per_minute / 60
            total += audio
            full += audio
        usd = quantize_money(total)
        full_usd = quantize_money(full)
    # Both sides are on the money quantum, so the difference is exact.
    return Cost(usd=usd, priced=True, prompt_cache_saved_usd=full_usd - usd)


def dearest_cost_usd(
    prices: Iterable[ModelPrice],
    *,
    input_tokens: int,
    output_tokens: int,
    audio_seconds: Decimal = Decimal(0),
) -> Decimal:
    """The highest :func:`compute_cost` of one call over several models, with no prompt
    caching (a budget reservation's worst case); an unpriced model counts as 0. The same
    arithmetic, rounded once at the end (rounding keeps the order, so the maximum of the
    rounded costs is the rounded maximum), without the per-model checks and results the
    bill needs: it runs on every call."""
    dearest = Decimal(0)
    with localcontext(_EXACT):
        for price in prices:
            has_tokens = price.input_per_1m is not None and price.output_per_1m is not None
            if not has_tokens and price.per_minute is None:
                continue
            if audio_seconds and price.per_minute is None:
                continue
            total = Decimal(0)
            if price.input_per_1m is not None and price.output_per_1m is not None:
                total = (
                    input_tokens * price.input_per_1m + output_tokens * price.output_per_1m
                ).scaleb(-_TOKENS_PER_PRICE_UNIT)
            if price.per_minute is not None:
                total += audio_seconds * price.per_minute / 60
            dearest = max(dearest, total)
        return quantize_money(dearest)


def to_brl(usd: Decimal, rate: Decimal) -> Decimal:
    """Convert a USD amount with a USD->BRL rate, at the storage scale."""
    if rate <= 0:
        raise ValueError("an exchange rate must be positive")
    with localcontext(_EXACT):
        return quantize_money(usd * rate)


def _check_counts(*, input_tokens: int, output_tokens: int, cached: int, written: int) -> None:
    if min(input_tokens, output_tokens, cached, written) < 0:
        raise ValueError("token counts cannot be negative")
    if cached + written > input_tokens:
        raise ValueError(
            f"cached_tokens ({cached}) + cache_write_tokens ({written}) exceeds input_tokens "
            f"({input_tokens}); input_tokens must include cached and written tokens"
        )
