"""Builders shared by the cache tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ai_gateway.cache.base import CachedEntry
from ai_gateway.providers.base import ChatRequest, Usage


class FakeClock:
    """A settable ``time.time`` for the memory backend: expiry without sleeping."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def completion(content: str | None = "Hello there!", **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    message.update(extra)
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if extra.get("tool_calls") else "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def entry(
    *,
    client_id: str | None = "acme",
    model_id: str = "openai/gpt-4o-mini",
    cost: str = "0.0015",
    content: str = "Hello there!",
) -> CachedEntry:
    return CachedEntry(
        body=completion(content),
        model_id=model_id,
        client_id=client_id,
        usage=Usage(input_tokens=10, output_tokens=5, cached_tokens=2),
        cost_usd=Decimal(cost),
    )


def request(**params: Any) -> ChatRequest:
    return ChatRequest(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "Say hello"}],
        params=params,
    )
