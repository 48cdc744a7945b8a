"""Walk the attempt chain: call, classify the failure, fall back or stop.

Retryable failures (timeout, connection error, 429, 5xx) move on to the next model;
non-retryable ones (a 400 from the provider, a rejected shared key) stop the chain.
Providers whose circuit breaker is open are skipped without a call. A stream falls back
only while opening (before its first byte); once open it is the caller's.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ai_gateway.errors import (
    GatewayError,
    InternalError,
    InvalidRequest,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from ai_gateway.metrics import GatewayMetrics
from ai_gateway.pipeline.breaker import BreakerBoard
from ai_gateway.pipeline.outcome import FallbackInfo
from ai_gateway.pipeline.routing import Attempt
from ai_gateway.providers.base import ChatRequest, Provider, ProviderError
from ai_gateway.tracing import record_error, span

__all__ = ["ChainFailed", "Dispatched", "Dispatcher"]

T = TypeVar("T")


@dataclass(slots=True)
class Dispatched(Generic[T]):
    value: T
    attempt: Attempt
    fallback: FallbackInfo | None
    attempts: list[dict[str, Any]] = field(default_factory=list)


class ChainFailed(InternalError):
    """Every attempt failed; ``error`` is what the caller sees, ``attempts`` what was tried."""

    def __init__(self, error: GatewayError, attempts: list[dict[str, Any]]) -> None:
        super().__init__(error.message)
        self.error = error
        self.attempts = attempts


def _caller_error(exc: ProviderError, attempt: Attempt) -> GatewayError:
    """A non-retryable provider failure in the caller's terms."""
    if exc.reason in ("bad_request", "not_found"):
        return InvalidRequest(
            f"{attempt.model.id} rejected the request: {exc.message}", code="upstream_bad_request"
        )
    return UpstreamError(
        f"{attempt.provider} refused the call ({exc.reason}): {exc.message}",
        code=f"upstream_{exc.reason}",
    )


class Dispatcher:
    def __init__(
        self,
        providers: dict[str, Provider],
        breakers: BreakerBoard,
        metrics: GatewayMetrics,
        *,
        max_retries: Callable[[], int],
    ) -> None:
        self._providers = providers
        self._breakers = breakers
        self._metrics = metrics
        self._max_retries = max_retries

    async def complete(self, request: ChatRequest, chain: Sequence[Attempt]) -> Dispatched[Any]:
        return await self._walk(chain, lambda p, a: p.call(request, a.target, a.upstream))

    async def open_stream(self, request: ChatRequest, chain: Sequence[Attempt]) -> Dispatched[Any]:
        return await self._walk(chain, lambda p, a: p.stream(request, a.target, a.upstream))

    async def _walk(
        self, chain: Sequence[Attempt], call: Callable[[Provider, Attempt], Awaitable[T]]
    ) -> Dispatched[T]:
        tried: list[dict[str, Any]] = []
        failures: list[ProviderError] = []
        for attempt in chain:
            provider = self._providers.get(attempt.provider)
            if provider is None:
                tried.append(
                    {"model": attempt.model.id, "provider": attempt.provider, "error": "no_adapter"}
                )
                continue
            for _ in range(1 + max(0, self._max_retries())):
                if not self._breakers.allow(attempt.provider):
                    tried.append(
                        {
                            "model": attempt.model.id,
                            "provider": attempt.provider,
                            "error": "circuit_open",
                        }
                    )
                    break
                try:
                    with span("gateway.upstream") as current:
                        if current is not None:
                            current.set_attribute("ai_gateway.provider", attempt.provider)
                            current.set_attribute("ai_gateway.model", attempt.model.id)
                        try:
                            value = await call(provider, attempt)
                        except ProviderError as exc:
                            record_error(current, exc, **{"ai_gateway.reason": exc.reason})
                            raise
                except ProviderError as exc:
                    tried.append(
                        {
                            "model": attempt.model.id,
                            "provider": attempt.provider,
                            "error": exc.reason,
                            "status": exc.status,
                        }
                    )
                    if not exc.retryable:
                        raise ChainFailed(_caller_error(exc, attempt), tried) from exc
                    self._breakers.failure(attempt.provider)
                    self._metrics.record_fallback(exc.reason)
                    failures.append(exc)
                    continue
                self._breakers.success(attempt.provider)
                return Dispatched(value, attempt, _fallback(chain[0], attempt, tried), tried)
        raise ChainFailed(_chain_error(failures, tried), tried)


def _fallback(first: Attempt, used: Attempt, tried: list[dict[str, Any]]) -> FallbackInfo | None:
    if not tried:
        return None
    return FallbackInfo(
        from_model=first.model.id,
        to_model=used.model.id,
        attempts=len(tried),
        reason=str(tried[0]["error"]),
    )


def _chain_error(failures: list[ProviderError], tried: list[dict[str, Any]]) -> GatewayError:
    summary = "; ".join(f"{t['model']}: {t['error']}" for t in tried) or "no model to try"
    if failures and all(f.reason == "timeout" for f in failures):
        return UpstreamTimeout(f"every provider timed out ({summary})")
    if failures and all(t["error"] == "rate_limited" for t in tried):
        # Every model refused with 429: the caller should back off, not see a 502; the
        # soonest any of them said it would take a call again is when to retry.
        waits = [f.retry_after for f in failures if f.retry_after is not None]
        # Whole seconds, rounded up: a client that waits exactly this long is not early.
        return RateLimited(
            f"every provider in the fallback chain is rate limiting ({summary})",
            code="upstream_rate_limited",
            headers={"Retry-After": str(math.ceil(min(waits)))} if waits else None,
        )
    return UpstreamError(f"every provider in the fallback chain failed ({summary})")
