"""The factory picks the backend; the package exports exactly its public surface."""

from __future__ import annotations

import ai_gateway.cache as cache_pkg
from ai_gateway.cache import create_cache_backend
from ai_gateway.cache.memory import MemoryCacheBackend
from ai_gateway.cache.redis import RedisCacheBackend
from tests.cache._helpers import entry


async def test_no_url_gives_a_bounded_memory_backend() -> None:
    backend = create_cache_backend(None, max_entries=7, max_bytes=1234)
    assert isinstance(backend, MemoryCacheBackend)
    assert (backend.max_entries, backend.max_bytes) == (7, 1234)
    assert isinstance(create_cache_backend("", max_entries=1, max_bytes=1), MemoryCacheBackend)


async def test_url_gives_a_working_redis_backend(redis_url: str) -> None:
    backend = create_cache_backend(
        redis_url, max_entries=1, max_bytes=1, key_prefix="aigw:test:factory:"
    )
    try:
        assert isinstance(backend, RedisCacheBackend)
        await backend.set("k", entry(), 60)
        assert await backend.get("k") is not None
    finally:
        await backend.invalidate()
        await backend.close()
        await backend.close()


def test_exported_members() -> None:
    exported = {name for name in dir(cache_pkg) if not name.startswith("_")}
    modules = {"base", "factory", "keys", "memory", "redis", "service", "stream"}
    modules |= {"semantic", "semantic_index", "semantic_rules"}  # imported by their users
    assert exported - modules - {"annotations"} == set(cache_pkg.__all__)
