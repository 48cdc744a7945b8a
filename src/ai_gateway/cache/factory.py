"""Build the configured backend: Redis when a URL is given (shared by every replica),
otherwise the bounded in-process cache (one replica, zero set-up)."""

from __future__ import annotations

from ai_gateway.cache.base import CacheBackend
from ai_gateway.cache.memory import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, MemoryCacheBackend
from ai_gateway.cache.redis import DEFAULT_KEY_PREFIX, RedisCacheBackend

__all__ = ["create_cache_backend"]


def create_cache_backend(
    redis_url: str | None,
    *,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_bytes: int = DEFAULT_MAX_BYTES,
    key_prefix: str = DEFAULT_KEY_PREFIX,
) -> CacheBackend:
    """``max_entries``/``max_bytes`` bound the in-process backend only; Redis is bounded
    by its own ``maxmemory`` policy. Connecting is lazy: a bad URL shows up as
    :class:`~ai_gateway.cache.base.CacheUnavailable` on first use, served as misses."""
    if redis_url:
        return RedisCacheBackend.from_url(redis_url, key_prefix=key_prefix)
    return MemoryCacheBackend(max_entries=max_entries, max_bytes=max_bytes)
