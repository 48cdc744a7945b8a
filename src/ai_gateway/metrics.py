"""Prometheus metrics, one registry per gateway instance (no global collectors, so
tests and several apps in one process never collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["GatewayMetrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class GatewayMetrics:
    def __init__(self) -> None:
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
        self.fallbacks = Counter(
            "ai_gateway_fallbacks",
            "Moves to the next model of a chain.",
            ["reason"],
            registry=self.registry,
        )
        self.usage_queue = Gauge(
            "ai_gateway_usage_queue",
            "Usage rows waiting to be written.",
            registry=self.registry,
            multiprocess_mode="livesum",  # across `serve --workers N`: the total backlog
        )
        self.usage_written = Counter(
            "ai_gateway_usage_rows_written",
            "Usage rows written to the database.",
            registry=self.registry,
        )
        self.breaker_open = Gauge(
            "ai_gateway_circuit_open",
            "1 while a provider's circuit breaker is open.",
            ["provider"],
            registry=self.registry,
            multiprocess_mode="livemax",  # open in any live worker
        )
