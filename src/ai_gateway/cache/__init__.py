"""The response cache: identical requests answered once, then served from storage.

The pipeline uses :class:`ResponseCache` (``key_for`` -> ``coalesce`` -> ``fill``) over a
backend from :func:`create_cache_backend`; :mod:`.stream` converts between stored bodies
and streamed chunks.
"""

from __future__ import annotations

from ai_gateway.cache.base import (
    CacheBackend,
    CachedEntry,
    CacheUnavailable,
    EntryInfo,
    EntryQuery,
)
from ai_gateway.cache.factory import create_cache_backend
from ai_gateway.cache.keys import CachePolicy, cache_key, not_cacheable_reason
from ai_gateway.cache.memory import MemoryCacheBackend
from ai_gateway.cache.redis import RedisCacheBackend
from ai_gateway.cache.service import CacheDecision, CacheSettings, CoalesceSlot, ResponseCache
from ai_gateway.cache.stream import StreamAccumulator, completion_to_chunks

__all__ = [
    "CacheBackend",
    "CacheDecision",
    "CachePolicy",
    "CacheSettings",
    "CacheUnavailable",
    "CachedEntry",
    "CoalesceSlot",
    "EntryInfo",
    "EntryQuery",
    "MemoryCacheBackend",
    "RedisCacheBackend",
    "ResponseCache",
    "StreamAccumulator",
    "cache_key",
    "completion_to_chunks",
    "create_cache_backend",
    "not_cacheable_reason",
]
