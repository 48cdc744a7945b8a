"""The small contract every response-cache backend implements, and the values it stores.

A backend is a dumb key/value store with TTLs, hit counts and two secondary indexes
(client, model) for the admin pages. Everything about *what* is cacheable and *how* keys
are built lives in :mod:`ai_gateway.cache.keys` and :mod:`ai_gateway.cache.service`, so
the in-process and Redis backends stay small and interchangeable.

Entries cross the backend boundary as orjson bytes even in memory: every ``get`` hands out
a fresh copy (no caller can mutate a cached body for the next one), and the stored size
is the size that counts against ``max_bytes``. Money is a ``Decimal`` serialised as a
string, never a float.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal

import orjson

from ai_gateway.errors import InternalError
from ai_gateway.providers.base import Usage
from ai_gateway.types import JSON

__all__ = [
    "ALL_ENTRIES",
    "CacheBackend",
    "CacheUnavailable",
    "CachedEntry",
    "EntryInfo",
    "EntryQuery",
]


class CacheUnavailable(InternalError):
    """The backend could not be reached or answered garbage. Never shown to a caller:
    the service logs it and treats the request as a miss, since a cache outage must not
    turn into a gateway outage."""


@dataclass(slots=True)
class CachedEntry:
    """One stored answer. ``body`` is the OpenAI ``chat.completion`` object; ``cost_usd`` is
    what producing it upstream cost, so every hit can report what it saved. ``client_id``
    is ``None`` for entries in global scope. ``pieces`` are the content delta lengths of
    a streamed original (per choice index), so a replay is cut where the upstream cut it;
    ``None`` for an answer that was not streamed."""

    body: JSON
    model_id: str
    client_id: str | None
    usage: Usage = field(default_factory=Usage)
    cost_usd: Decimal = Decimal("0")
    created_at: float = field(default_factory=time.time)
    pieces: dict[int, list[int]] | None = None

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "body": self.body,
                "model_id": self.model_id,
                "client_id": self.client_id,
                "usage": [
                    self.usage.input_tokens,
                    self.usage.output_tokens,
                    self.usage.cached_tokens,
                    self.usage.cache_write_tokens,
                ],
                "cost_usd": str(self.cost_usd),
                "created_at": self.created_at,
                "pieces": (
                    None
                    if self.pieces is None
                    else {str(index): lengths for index, lengths in self.pieces.items()}
                ),
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> CachedEntry:
        try:
            raw = orjson.loads(data)
            input_tokens, output_tokens, cached_tokens, *rest = raw["usage"]
            written = int(rest[0]) if rest else 0  # absent in older entries
            pieces = raw.get("pieces")  # absent in entries written before it existed
            return cls(
                body=raw["body"],
                model_id=raw["model_id"],
                client_id=raw["client_id"],
                usage=Usage(int(input_tokens), int(output_tokens), int(cached_tokens), written),
                cost_usd=Decimal(raw["cost_usd"]),
                created_at=float(raw["created_at"]),
                pieces=(
                    None
                    if pieces is None
                    else {int(index): [int(n) for n in ns] for index, ns in pieces.items()}
                ),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise CacheUnavailable(f"corrupt cache entry: {exc}") from exc


@dataclass(slots=True, frozen=True)
class EntryQuery:
    """Which live entries a listing wants: the filters (``None``: any) and one page."""

    client_id: str | None = None
    model: str | None = None
    limit: int = 50
    offset: int = 0


ALL_ENTRIES = EntryQuery()


@dataclass(slots=True, frozen=True)
class EntryInfo:
    """What the admin listing shows about one entry, without its body."""

    key: str
    model_id: str
    client_id: str | None
    size_bytes: int
    hits: int
    created_at: float
    expires_at: float
    cost_usd: Decimal

    @property
    def saved_usd(self) -> Decimal:
        """Every hit is one upstream call not paid for."""
        return self.cost_usd * self.hits

    def age_seconds(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.created_at)


class CacheBackend(ABC):
    """Storage for :class:`CachedEntry` values. Implementations translate their own
    failures into :class:`CacheUnavailable` and nothing else.

    Listing order is newest expiry first; ``client_id=None`` / ``model=None`` mean "any".
    """

    @abstractmethod
    async def get(self, key: str) -> CachedEntry | None:
        """The live entry under ``key`` (counting one hit on it), or ``None``."""

    @abstractmethod
    async def set(self, key: str, entry: CachedEntry, ttl_seconds: int) -> None:
        """Store ``entry`` for ``ttl_seconds`` (replacing any entry and its hit count)."""

    @abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove one entry; ``True`` if it existed."""

    @abstractmethod
    async def list_entries(self, query: EntryQuery = ALL_ENTRIES) -> list[EntryInfo]:
        """Live entries matching the filters, one page of them."""

    @abstractmethod
    async def invalidate(self, *, client_id: str | None = None, model: str | None = None) -> int:
        """Remove every entry matching the filters (both ``None``: all); returns how many."""

    async def close(self) -> None:
        """Release connections; safe to call twice."""
        return None
