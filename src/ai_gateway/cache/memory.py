"""The in-process backend: one replica, no Redis, bounded by entry count *and* bytes.

An ``OrderedDict`` kept in recency order gives O(1) LRU: ``get`` moves a key to the end,
eviction pops from the front. Expiry is lazy (checked on ``get`` and while evicting or
listing), so no timer task is needed. Two bounds because either alone fails: a count
bound lets a few huge answers eat the heap, a byte bound lets millions of tiny entries
pile up per-key overhead.

Safe under asyncio without a lock: no method awaits between reading and writing the
dict, so coroutines cannot interleave inside one operation. It is not thread-safe, and
need not be — each event loop owns its backend.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ai_gateway.cache.base import ALL_ENTRIES, CacheBackend, CachedEntry, EntryInfo, EntryQuery

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_ENTRIES", "MemoryCacheBackend"]

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class _Slot:
    data: bytes
    model_id: str
    client_id: str | None
    cost_usd: Decimal
    created_at: float
    expires_at: float
    hits: int = 0


class MemoryCacheBackend(CacheBackend):
    """LRU + TTL in a dict. ``clock`` is injectable so tests can expire entries without
    sleeping; it must tick in seconds like :func:`time.time`."""

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_entries <= 0 or max_bytes <= 0:
            raise ValueError("max_entries and max_bytes must be positive")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._slots)

    async def get(self, key: str) -> CachedEntry | None:
        slot = self._slots.get(key)
        if slot is None:
            return None
        if slot.expires_at <= self._clock():
            self._drop(key)
            return None
        self._slots.move_to_end(key)
        slot.hits += 1
        return CachedEntry.from_bytes(slot.data)

    async def set(self, key: str, entry: CachedEntry, ttl_seconds: int) -> None:
        data = entry.to_bytes()
        if key in self._slots:
            self._drop(key)
        if ttl_seconds <= 0 or len(data) > self.max_bytes:
            # Larger than the whole budget: storing it would evict everything and still
            # not fit. Refusing keeps the cache useful for everyone else.
            return
        self._slots[key] = _Slot(
            data=data,
            model_id=entry.model_id,
            client_id=entry.client_id,
            cost_usd=entry.cost_usd,
            created_at=entry.created_at,
            expires_at=self._clock() + ttl_seconds,
        )
        self._bytes += len(data)
        self._evict()

    async def delete(self, key: str) -> bool:
        if key not in self._slots:
            return False
        expired = self._slots[key].expires_at <= self._clock()
        self._drop(key)
        return not expired

    async def list_entries(self, query: EntryQuery = ALL_ENTRIES) -> list[EntryInfo]:
        self._purge_expired()
        matching = [
            (key, slot)
            for key, slot in self._slots.items()
            if _matches(slot, client_id=query.client_id, model=query.model)
        ]
        matching.sort(key=lambda item: item[1].expires_at, reverse=True)
        page = matching[query.offset : query.offset + query.limit]
        return [_info(key, slot) for key, slot in page]

    async def invalidate(self, *, client_id: str | None = None, model: str | None = None) -> int:
        self._purge_expired()
        doomed = [
            key
            for key, slot in self._slots.items()
            if _matches(slot, client_id=client_id, model=model)
        ]
        for key in doomed:
            self._drop(key)
        return len(doomed)

    def _drop(self, key: str) -> None:
        slot = self._slots.pop(key)
        self._bytes -= len(slot.data)

    def _evict(self) -> None:
        while len(self._slots) > self.max_entries or self._bytes > self.max_bytes:
            key = next(iter(self._slots))
            self._drop(key)

    def _purge_expired(self) -> None:
        now = self._clock()
        for key in [k for k, s in self._slots.items() if s.expires_at <= now]:
            self._drop(key)


def _matches(slot: _Slot, *, client_id: str | None, model: str | None) -> bool:
    if client_id is not None and slot.client_id != client_id:
        return False
    return model is None or slot.model_id == model


def _info(key: str, slot: _Slot) -> EntryInfo:
    return EntryInfo(
        key=key,
        model_id=slot.model_id,
        client_id=slot.client_id,
        size_bytes=len(slot.data),
        hits=slot.hits,
        created_at=slot.created_at,
        expires_at=slot.expires_at,
        cost_usd=slot.cost_usd,
    )
