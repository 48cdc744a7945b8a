"""What a call returns to its caller (HTTP layer or ``call_ai``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ai_gateway.providers.base import Telemetry, Usage

__all__ = ["CallMeta", "CallResult", "FallbackInfo", "response_headers"]


@dataclass(frozen=True, slots=True)
class CallMeta:
    """Per-call facts from outside the body (headers, or ``call_ai``'s arguments)."""

    request_id: str
    conversation_id: str | None = None
    cache_control: str | None = None
    cache_ttl: int | None = None
    #: The wire format the call came in on (the usage row's ``endpoint``).
    endpoint: str = "chat.completions"
    #: ``time.perf_counter()`` when the HTTP layer got the request, so the overhead
    #: histogram counts auth and body parsing too (None: from the pipeline's start).
    received: float | None = None


@dataclass(frozen=True, slots=True)
class FallbackInfo:
    from_model: str
    to_model: str
    attempts: int
    reason: str

    @property
    def header(self) -> str:
        return f"{self.from_model}->{self.to_model}; reason={self.reason}; attempts={self.attempts}"


@dataclass(slots=True)
class CallResult:
    """A finished call: the OpenAI body and the facts metering recorded."""

    body: dict[str, Any]
    request_id: str
    model: str
    provider: str
    route: str
    cache_hit: bool
    usage: Usage
    cost_usd: Decimal
    cost_brl: Decimal
    exchange_rate: Decimal
    latency_ms: int
    fallback: FallbackInfo | None = None
    telemetry: Telemetry = field(default_factory=Telemetry)
    #: OpenAI's ``x-ratelimit-*`` headers when the client has limits.
    rate_limit_headers: dict[str, str] = field(default_factory=dict)
    #: The hit came from the semantic cache (a question of the same meaning).
    cache_semantic: bool = False

    @property
    def content(self) -> str | None:
        """The first choice's text (what a chatbot sends back)."""
        choices = self.body.get("choices") or []
        if not choices:
            return None
        content = choices[0].get("message", {}).get("content")
        return content if isinstance(content, str) else None

    def headers(self) -> dict[str, str]:
        return response_headers(
            request_id=self.request_id,
            cache_hit=self.cache_hit,
            semantic=self.cache_semantic,
            provider=self.provider,
            model=self.model,
            fallback=self.fallback,
            rate_limits=self.rate_limit_headers,
        )


def response_headers(
    *,
    request_id: str,
    cache_hit: bool,
    semantic: bool,
    provider: str,
    model: str,
    fallback: FallbackInfo | None,
    rate_limits: dict[str, str],
) -> dict[str, str]:
    """The gateway's answer headers, plain or streamed: one writer for both."""
    headers = {
        "x-request-id": request_id,
        "x-ai-gateway-cache": "HIT" if cache_hit else "MISS",
        "x-ai-gateway-provider": provider,
        "x-ai-gateway-model": model,
    }
    if semantic:
        headers["x-ai-gateway-cache-match"] = "semantic"
    if fallback is not None:
        headers["x-ai-gateway-fallback"] = fallback.header
    headers.update(rate_limits)
    return headers
