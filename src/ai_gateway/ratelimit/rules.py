"""The pure rules of rate limiting: what a limit is, how a client's limits follow its
plan's, what a value may be, and how OpenAI spells the answer's headers.

A client's limit, field by field, is its own value or else its plan's; ``None`` at both
levels means unlimited. A limit is a whole number from 1 to :data:`MAX_LIMIT` (what the
INTEGER column holds on both engines): blocking a client is what its status is for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ai_gateway.errors import InvalidRequest

__all__ = [
    "FIELDS",
    "MAX_LIMIT",
    "PROVIDER_FIELDS",
    "Limits",
    "ProviderCeiling",
    "RateLimitTable",
    "go_duration",
    "validate_limits",
]

#: The largest value an INTEGER column holds on SQLite and PostgreSQL alike.
MAX_LIMIT = 2_147_483_647
FIELDS = ("rpm", "tpm", "concurrency")
PROVIDER_FIELDS = ("rpm", "tpm")


@dataclass(frozen=True, slots=True)
class Limits:
    """Requests per minute, tokens per minute, calls in flight; ``None`` = no limit."""

    rpm: int | None = None
    tpm: int | None = None
    concurrency: int | None = None

    @property
    def empty(self) -> bool:
        return self.rpm is None and self.tpm is None and self.concurrency is None

    def over(self, defaults: Limits) -> Limits:
        """These limits where set, ``defaults`` elsewhere (a client over its plan)."""
        return Limits(
            rpm=self.rpm if self.rpm is not None else defaults.rpm,
            tpm=self.tpm if self.tpm is not None else defaults.tpm,
            concurrency=self.concurrency if self.concurrency is not None else defaults.concurrency,
        )

    def as_dict(self) -> dict[str, int | None]:
        return {"rpm": self.rpm, "tpm": self.tpm, "concurrency": self.concurrency}


@dataclass(frozen=True, slots=True)
class ProviderCeiling:
    """What a provider grants the one shared key, shared fairly between tenants."""

    rpm: int | None = None
    tpm: int | None = None

    @property
    def empty(self) -> bool:
        return self.rpm is None and self.tpm is None

    def as_dict(self) -> dict[str, int | None]:
        return {"rpm": self.rpm, "tpm": self.tpm}


_NO_LIMITS = Limits()
_NO_CEILING = ProviderCeiling()


@dataclass(frozen=True, slots=True)
class RateLimitTable:
    """Every limit setting, as the request path reads it (a frozen in-memory snapshot)."""

    plans: Mapping[str, Limits] = field(default_factory=lambda: MappingProxyType({}))
    clients: Mapping[str, Limits] = field(default_factory=lambda: MappingProxyType({}))
    providers: Mapping[str, ProviderCeiling] = field(default_factory=lambda: MappingProxyType({}))

    def for_client(self, client_id: str, plan: str) -> Limits:
        own = self.clients.get(client_id)
        inherited = self.plans.get(plan, _NO_LIMITS)
        return own.over(inherited) if own is not None else inherited

    def for_provider(self, provider: str) -> ProviderCeiling:
        return self.providers.get(provider, _NO_CEILING)


def _valid(name: str, value: Any) -> int | None:
    if value is None:
        return None
    # JSON has one number type: 1e9 is a whole number; bool is an int in Python, but
    # "true" is not a limit.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{name} must be a whole number or null", param=name)
    if value < 1:
        raise InvalidRequest(
            f"{name} must be at least 1 (null means no limit; to block a client, pause it)",
            param=name,
        )
    if value > MAX_LIMIT:
        raise InvalidRequest(f"{name} must be at most {MAX_LIMIT}", param=name)
    return int(value)


def validate_limits(
    values: Mapping[str, Any], *, fields: tuple[str, ...] = FIELDS
) -> dict[str, int | None]:
    """Check every field of ``values`` (400 naming the field and the bound); unknown
    fields are refused too, so a typo never silently leaves a tenant unlimited."""
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise InvalidRequest(
            f"unknown limit field '{unknown[0]}'; use {', '.join(fields)}", param=unknown[0]
        )
    return {name: _valid(name, values.get(name)) for name in fields if name in values}


def go_duration(seconds: float) -> str:
    """A duration as OpenAI's headers spell it (Go's ``time.Duration``): ``120ms``,
    ``1s``, ``6m0s``, ``4m12.172s``, ``1h2m3s``; millisecond precision, rounded up so a
    client that waits that long is never early."""
    ms = max(0, math.ceil(seconds * 1000 - 1e-6))
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    text = f"{secs}.{millis:03d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text
