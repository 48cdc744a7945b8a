"""Shared budget calls issued in one event-loop turn share one pipelined round trip, and
each caller still gets its own answer: admission stays atomic per call (the last unit of
a budget goes to exactly one of many racing calls), a script Redis forgot is loaded again
without running any call twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ai_gateway.pipeline.shared_budget import RedisBudgetCounters
from tests.conftest import REDIS_URL, require_service

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Redis, str]]:
    require_service("Redis", "127.0.0.1", 6379)
    prefix = f"aigw:test:{uuid.uuid4().hex}:"
    client = Redis.from_url(REDIS_URL)
    yield client, prefix
    keys = [k async for k in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def _reserve(c: RedisBudgetCounters, rid: str) -> asyncio.Future[bool]:
    return asyncio.ensure_future(
        c.reserve(
            client_id="acme",
            reservation_id=rid,
            amount=Decimal(1),
            limit=Decimal(10),
            period="p1",
            floor=Decimal(0),
        )
    )


async def test_racing_admissions_share_a_round_trip_and_stay_exact(
    redis: tuple[Redis, str],
) -> None:
    client, prefix = redis
    counters = RedisBudgetCounters(client, prefix=prefix)
    for script in (counters._reserve, counters._settle):  # loaded: no NOSCRIPT round trip
        await client.script_load(script.script)
    executed: list[int] = []
    original = client.pipeline

    def counting_pipeline(*args: object, **kwargs: object) -> object:
        pipe = original(*args, **kwargs)  # type: ignore[arg-type]
        execute = pipe.execute

        async def counted(*a: object, **k: object) -> object:
            executed.append(len(pipe.command_stack))
            return await execute(*a, **k)  # type: ignore[arg-type]

        pipe.execute = counted  # type: ignore[method-assign]
        return pipe

    client.pipeline = counting_pipeline  # type: ignore[method-assign]
    answers = await asyncio.gather(*(_reserve(counters, f"r{i}") for i in range(25)))
    assert answers.count(True) == 10  # usage 0 + reserved < 10: exactly ten units admitted
    assert executed == [25]  # one round trip for the 25 calls of this turn
    await asyncio.gather(
        *(
            counters.settle(
                client_id="acme", reservation_id=f"r{i}", actual=Decimal(1), period="p1"
            )
            for i in range(10)
        )
    )
    assert executed == [25, 10]
    assert await counters.usage("acme") == 10


async def test_a_forgotten_script_is_loaded_again_and_no_call_runs_twice(
    redis: tuple[Redis, str],
) -> None:
    client, prefix = redis
    counters = RedisBudgetCounters(client, prefix=prefix)
    assert await _reserve(counters, "a")
    # What a Redis restart does to the script cache, without flushing the server's.
    counters._settle.sha = "0" * 40
    await counters.settle(client_id="acme", reservation_id="a", actual=Decimal(3), period="p1")
    assert await counters.usage("acme") == 3


async def test_an_unreachable_redis_fails_every_caller_of_the_batch() -> None:
    # Port 9 on loopback refuses at once: each caller gets the error (its guard then
    # enforces locally) and nothing waits forever.
    client = Redis.from_url("redis://127.0.0.1:9/0")
    counters = RedisBudgetCounters(client, prefix="aigw:test:unreachable:")
    try:
        answers = await asyncio.gather(
            *(_reserve(counters, f"r{i}") for i in range(3)), return_exceptions=True
        )
        assert all(isinstance(a, RedisError) for a in answers)
        await counters.settle(client_id="acme", reservation_id="r0", actual=Decimal(1), period="p1")
    finally:
        await client.aclose()
