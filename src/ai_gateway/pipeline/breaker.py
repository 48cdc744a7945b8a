"""Per-provider circuit breakers, so a dead provider stops costing every request a timeout.

closed --(``threshold`` consecutive retryable failures)--> open
open --(``cooldown`` elapsed)--> half-open: ONE probe request is let through
half-open --success--> closed;  --failure--> open again (a new cool-down)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BreakerBoard", "CircuitBreaker"]


@dataclass(slots=True)
class CircuitBreaker:
    threshold: int = 5
    cooldown: float = 30.0
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False

    def allow(self, now: float) -> bool:
        if self.opened_at is None:
            return True
        if now - self.opened_at < self.cooldown or self.probing:
            return False
        self.probing = True  # half-open: this caller is the probe
        return True

    def record_success(self) -> None:
        self.failures, self.opened_at, self.probing = 0, None, False

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self.probing or self.failures >= self.threshold:
            self.opened_at, self.probing = now, False

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None


class BreakerBoard:
    """One breaker per provider name, created on first use."""

    def __init__(
        self,
        *,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, bool], None] | None = None,
    ) -> None:
        self._threshold = threshold
        self._cooldown = cooldown
        self._clock = clock
        self._on_change = on_change
        self._breakers: dict[str, CircuitBreaker] = {}

    def _get(self, provider: str) -> CircuitBreaker:
        breaker = self._breakers.get(provider)
        if breaker is None:
            breaker = self._breakers[provider] = CircuitBreaker(self._threshold, self._cooldown)
        return breaker

    def allow(self, provider: str) -> bool:
        return self._get(provider).allow(self._clock())

    def success(self, provider: str) -> None:
        breaker = self._get(provider)
        was_open = breaker.is_open
        breaker.record_success()
        if was_open and self._on_change:
            self._on_change(provider, False)

    def failure(self, provider: str) -> None:
        breaker = self._get(provider)
        was_open = breaker.is_open
        breaker.record_failure(self._clock())
        if breaker.is_open and not was_open and self._on_change:
            self._on_change(provider, True)

    def is_open(self, provider: str) -> bool:
        return self._get(provider).is_open
