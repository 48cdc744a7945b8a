"""What only the Redis backend does: shared state, lazy index cleanup, error translation."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from ai_gateway.cache.base import CacheUnavailable, EntryQuery
from ai_gateway.cache.redis import RedisCacheBackend
from tests.cache._helpers import entry


async def test_two_replicas_share_entries_and_hits(redis_backend: RedisCacheBackend) -> None:
    replica = RedisCacheBackend(redis_backend._redis, key_prefix=redis_backend._prefix)
    await redis_backend.set("k", entry(), 60)

    assert await replica.get("k") is not None
    assert (await redis_backend.list_entries())[0].hits == 1


async def test_entry_key_carries_the_ttl(redis_backend: RedisCacheBackend) -> None:
    await redis_backend.set("k", entry(), 60)
    ttl = await redis_backend._redis.ttl(redis_backend._entry_key("k"))
    assert 0 < ttl <= 60


async def test_stale_index_members_are_dropped_lazily(redis_backend: RedisCacheBackend) -> None:
    await redis_backend.set("a", entry(), 60)
    await redis_backend.set("b", entry(), 61)
    # Simulate maxmemory eviction: the entry vanishes, its index members stay.
    await redis_backend._redis.delete(redis_backend._entry_key("b"))

    listed = await redis_backend.list_entries(EntryQuery(limit=1))

    assert [i.key for i in listed] == ["a"]
    all_index, model_index, client_index = redis_backend._indexes("acme", "openai/gpt-4o-mini")
    assert await redis_backend._redis.zrange(all_index, 0, -1) == [b"a"]
    # The entry is gone, so its owner is unknown: other indexes clean up when read.
    assert await redis_backend._redis.zrange(client_index, 0, -1) == [b"a", b"b"]

    assert [i.key for i in await redis_backend.list_entries(EntryQuery(client_id="acme"))] == ["a"]
    assert [
        i.key for i in await redis_backend.list_entries(EntryQuery(model="openai/gpt-4o-mini"))
    ] == ["a"]
    for index in (client_index, model_index):
        assert await redis_backend._redis.zrange(index, 0, -1) == [b"a"]


async def test_prefixes_isolate_deployments(redis_backend: RedisCacheBackend) -> None:
    other = RedisCacheBackend(redis_backend._redis, key_prefix=redis_backend._prefix + "other:")
    try:
        await other.set("k", entry(), 60)
        assert await redis_backend.get("k") is None
        assert await redis_backend.invalidate() == 0
        assert await other.get("k") is not None
    finally:
        await other.invalidate()


async def test_glob_characters_in_the_prefix_are_literal(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        odd = RedisCacheBackend(client, key_prefix="aigw:test:[odd]*:")
        await odd.set("k", entry(), 60)
        assert await odd.invalidate() == 1
        assert await client.keys("aigw:test:\\[odd\\]\\*:*") == []
    finally:
        await client.aclose()


async def test_unreachable_redis_raises_cache_unavailable() -> None:
    backend = RedisCacheBackend.from_url("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(CacheUnavailable):
            await backend.get("k")
        with pytest.raises(CacheUnavailable):
            await backend.set("k", entry(), 60)
    finally:
        await backend.close()


async def test_corrupt_value_raises_cache_unavailable(redis_backend: RedisCacheBackend) -> None:
    await redis_backend._redis.hset(redis_backend._entry_key("k"), "data", b"{not json")
    with pytest.raises(CacheUnavailable):
        await redis_backend.get("k")
