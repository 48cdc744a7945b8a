"""The shared (Redis) counters after an owner rewrote the stored usage (a reset): the
shared usage drops, and the database's figure (``floor``) still raises it back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from redis.asyncio import Redis

from ai_gateway.pipeline.shared_budget import RedisBudgetCounters
from tests.conftest import REDIS_URL, require_service

pytestmark = pytest.mark.redis


@pytest.fixture
async def counters() -> AsyncIterator[RedisBudgetCounters]:
    require_service("Redis", "127.0.0.1", 6379)
    prefix = f"aigw:test:{uuid.uuid4().hex}:"
    redis = Redis.from_url(REDIS_URL)
    yield RedisBudgetCounters(redis, prefix=prefix)
    keys = [k async for k in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def _reserve(c: RedisBudgetCounters, floor: Decimal) -> bool:
    return await c.reserve(
        client_id="acme",
        reservation_id=uuid.uuid4().hex,
        amount=Decimal(1),
        limit=Decimal(100),
        period="p1",
        floor=floor,
    )


async def test_a_restart_lets_the_database_figure_through(counters: RedisBudgetCounters) -> None:
    assert await _reserve(counters, Decimal(0))
    await counters.settle(client_id="acme", reservation_id="x", actual=Decimal(100), period="p1")
    assert await counters.usage("acme") == 100
    assert not await _reserve(counters, Decimal(0))  # the shared usage is at the limit

    await counters.restart("acme")  # the owner reset the period: the database says 0
    assert await counters.usage("acme") == 0
    assert await _reserve(counters, Decimal(0))
    # A restart never goes below what the database holds: the floor raises it again.
    await counters.restart("acme")
    assert not await _reserve(counters, Decimal(100))
