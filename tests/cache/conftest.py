"""Backends for the cache tests: the same suite runs on memory and on a real Redis.

Redis comes from ``AI_GATEWAY_TEST_REDIS_URL`` (default DB 15 on localhost) with a unique
key prefix per test, wiped afterwards. Unreachable Redis skips those tests locally and
fails them when ``CI=true``, so CI can never go green without having run them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
import redis
import redis.asyncio as aioredis

from ai_gateway.cache.base import CacheBackend
from ai_gateway.cache.memory import MemoryCacheBackend
from ai_gateway.cache.redis import RedisCacheBackend
from tests.cache._helpers import FakeClock
from tests.conftest import REDIS_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis not reachable at {url}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        client.close()
    return url


@asynccontextmanager
async def open_redis_backend(url: str) -> AsyncIterator[RedisCacheBackend]:
    """A backend on its own client and a unique prefix; every key it made is removed."""
    client = aioredis.Redis.from_url(url)
    prefix = f"aigw:test:{uuid.uuid4().hex}:"
    try:
        yield RedisCacheBackend(client, key_prefix=prefix)
    finally:
        async for name in client.scan_iter(match=f"{prefix}*"):
            await client.delete(name)
        await client.aclose()


@pytest.fixture
async def redis_backend(redis_url: str) -> AsyncIterator[RedisCacheBackend]:
    async with open_redis_backend(redis_url) as backend:
        yield backend


@dataclass
class Harness:
    """A backend plus a way to let time pass for it (fake clock or a real sleep)."""

    backend: CacheBackend
    advance: Callable[[float], Awaitable[None]]
    name: str


@pytest.fixture(params=["memory", "redis"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "memory":
        clock = FakeClock()

        async def tick(seconds: float) -> None:
            clock.advance(seconds)

        backend = MemoryCacheBackend(max_entries=100, max_bytes=1_000_000, clock=clock)
        yield Harness(backend, tick, "memory")
        await backend.close()
    else:
        url = request.getfixturevalue("redis_url")
        async with open_redis_backend(url) as backend:
            yield Harness(backend, asyncio.sleep, "redis")
