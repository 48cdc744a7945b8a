"""A call's worst case before it runs, for the budget reservation.

Prompt tokens are estimated from the characters of the messages (generously: three per token,
plus a little per message), and output from the request's max tokens, or a default when
it sets none. The money estimate prices that at the dearest model the chain may use, so a
fallback to a pricier model is still covered by the reservation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ai_gateway.metering.pricing import ModelPrice, dearest_cost_usd, to_brl
from ai_gateway.providers.base import ChatRequest
from ai_gateway.storage.models_registry import ModelInfo

__all__ = ["DEFAULT_OUTPUT_ESTIMATE", "estimate_prompt_tokens", "reservation_estimator"]

#: Output tokens assumed when a request sets no max: a long answer, not a pathological one.
DEFAULT_OUTPUT_ESTIMATE = 4096
_PER_MESSAGE = 4


def _text_length(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(len(p.get("text", "")) if isinstance(p, dict) else 0 for p in content) + 256
    return 0


def estimate_prompt_tokens(request: ChatRequest) -> int:
    if request.kind == "transcription":
        return 0  # billed by the minute, measured before the call
    if request.kind == "embedding":
        texts = request.params.get("input") or []
        return sum(len(t) for t in texts) // 3 + len(texts) + 1
    chars = sum(_text_length(m.get("content")) for m in request.messages)
    tools = request.params.get("tools")
    if tools:
        chars += len(str(tools))
    # A third of a token per character errs high (Portuguese and code run denser than
    # English): the reservation must not fall short of the real prompt.
    return chars // 3 + _PER_MESSAGE * len(request.messages) + 1


def max_output_tokens(request: ChatRequest) -> int:
    if request.kind != "chat":
        return 0
    params = request.params
    value = params.get("max_completion_tokens") or params.get("max_tokens")
    n = params.get("n") or 1
    return int(value or DEFAULT_OUTPUT_ESTIMATE) * int(n)


def price_of(model: ModelInfo) -> ModelPrice:
    return ModelPrice(
        model.input_price_per_1m,
        model.output_price_per_1m,
        model.cached_input_price_per_1m,
        model.cache_write_price_per_1m,
        model.price_per_minute,
    )


def reservation_estimator(
    request: ChatRequest, chain: Sequence[ModelInfo], rate: Decimal
) -> Callable[[str], Decimal]:
    prompt = estimate_prompt_tokens(request)
    output = max_output_tokens(request)
    seconds = request.audio_seconds

    def estimate(unit: str) -> Decimal:
        if unit == "tokens":
            return Decimal(prompt + output)
        usd = dearest_cost_usd(
            (price_of(m) for m in chain),
            input_tokens=prompt,
            output_tokens=output,
            audio_seconds=seconds,
        )
        return usd if unit == "usd" else to_brl(usd, rate)

    return estimate
