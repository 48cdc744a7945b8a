"""Prometheus metrics, one registry per gateway instance (no global collectors, so
tests and several apps in one process never collide).

Every label value comes from a bounded set: registry models, provider names, call
statuses, fallback reasons; anything else is ``other``. A label is a time series, and
``/metrics`` once grew from 26 KB to 4.3 MB (raw control characters included) because
each unknown model name a client sent became one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Container
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["OTHER", "GatewayMetrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
#: The gateway's own share is a few ms; the target is under 5 ms, so the buckets are fine there.
_OVERHEAD_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
)  # fmt: skip
#: The label value of everything outside a bounded set.
OTHER: Final = "other"
_STATUSES = frozenset({"success", "error", "rejected", "cut", "abandoned"})
_FALLBACK_REASONS = frozenset(
    {
        "timeout",
        "connection_error",
        "rate_limited",
        "server_error",
        "bad_request",
        "auth",
        "not_found",
        "stream_cut",
    }
)
_NO_PROVIDER = "none"


class GatewayMetrics:
    def __init__(
        self,
        *,
        known_models: Callable[[], Container[str]] = frozenset,
        providers: Collection[str] = (),
    ) -> None:
        self._known_models = known_models
        self._providers = frozenset(providers) | {_NO_PROVIDER}
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "ai_gateway_requests",
            "Chat requests by outcome.",
            ["provider", "model", "status", "cache"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ai_gateway_request_seconds",
            "Whole request latency.",
            ["provider"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.overhead = Histogram(
            "ai_gateway_overhead_seconds",
            "Time a successful call spent in the gateway outside the provider's call "
            "(auth, parsing, budget, cache, metering, streaming the answer out).",
            ["cache"],
            buckets=_OVERHEAD_BUCKETS,
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "ai_gateway_fallbacks",
            "Moves to the next model of a chain.",
            ["reason"],
            registry=self.registry,
        )
        self.usage_queue = Gauge(
            "ai_gateway_usage_queue",
            "Usage rows waiting in memory to be written.",
            registry=self.registry,
        )
        self.usage_spooled = Gauge(
            "ai_gateway_usage_spooled",
            "Usage rows waiting in the spool file to be replayed.",
            registry=self.registry,
            multiprocess_mode="livesum",  # across `serve --workers N`: the total backlog
        )
        self.usage_written = Counter(
            "ai_gateway_usage_rows_written",
            "Usage rows written to the database.",
            registry=self.registry,
        )
        self.usage_quarantined = Counter(
            "ai_gateway_usage_quarantined",
            "Usage rows the database refused, kept in gateway_usage_quarantine.",
            registry=self.registry,
        )
        self.breaker_open = Gauge(
            "ai_gateway_circuit_open",
            "1 while a provider's circuit breaker is open.",
            ["provider"],
            registry=self.registry,
            multiprocess_mode="livemax",  # open in any live worker
        )

    def watch_usage(self, *, backlog: Callable[[], int], spooled: Callable[[], int]) -> None:
        """Read the writer's queue sizes at scrape time, so the gauges cannot go stale
        while flushes fail."""
        self.usage_queue.set_function(backlog)
        self.usage_spooled.set_function(spooled)

    def model_label(self, model_id: str | None) -> str:
        return model_id if model_id is not None and model_id in self._known_models() else OTHER

    def provider_label(self, provider: str | None) -> str:
        name = provider or _NO_PROVIDER
        return name if name in self._providers else OTHER

    def record_request(
        self,
        *,
        provider: str | None,
        model_id: str | None,
        status: str,
        cache_hit: bool,
        seconds: float,
    ) -> None:
        provider_label = self.provider_label(provider)
        self.requests.labels(
            provider_label,
            self.model_label(model_id),
            status if status in _STATUSES else OTHER,
            "hit" if cache_hit else "miss",
        ).inc()
        self.latency.labels(provider_label).observe(seconds)

    def record_overhead(self, seconds: float, *, cache_hit: bool) -> None:
        self.overhead.labels("hit" if cache_hit else "miss").observe(max(0.0, seconds))

    def record_fallback(self, reason: str) -> None:
        self.fallbacks.labels(reason if reason in _FALLBACK_REASONS else OTHER).inc()

    def set_breaker(self, provider: str, is_open: bool) -> None:
        self.breaker_open.labels(self.provider_label(provider)).set(1 if is_open else 0)
