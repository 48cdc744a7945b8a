"""Two ``serve`` processes on one PostgreSQL and one Redis: a client's rate limits hold
across them, because admission is one Lua script on the shared Redis (each process alone
would admit the whole limit)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from sqlalchemy import select

from ai_gateway.services.rate_limits import RateLimitService
from ai_gateway.settings import Settings
from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import Client
from tests.conftest import REDIS_URL
from tests.fakes.fake_providers import FakeProviders
from tests.pipeline.test_budget_concurrency import BODY, _call
from tests.pipeline.test_budget_multiprocess import two_gateways

__all__ = ["two_gateways"]

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest_asyncio.fixture(autouse=True)
async def _no_keys_left(pg_db: Database) -> AsyncIterator[None]:
    """Delete this test's limiter keys once the processes are gone (they would expire
    on their own within minutes)."""
    yield
    with pg_db.session() as session:
        ids = list(session.scalars(select(Client.id)))
    redis = aioredis.Redis.from_url(REDIS_URL)
    try:
        for client_id in ids:
            keys = [k async for k in redis.scan_iter(match=f"aigw:rl:c:{client_id}*")]
            if keys:
                await redis.delete(*keys)
    finally:
        await redis.aclose()


async def _limited_clients(db: Database, urls: list[str], **limits: int) -> tuple[str, str]:
    """A crowd client with ``limits`` and a probe client; returns their keys once both
    processes enforce the new limits (their config poll has run)."""
    service = RateLimitService(db)
    with db.write() as s:
        crowd = create_client(s, name="crowd", plan="pro")
        crowd_key = issue_key(s, role="client", client_id=crowd.id).plain
        probe = create_client(s, name="probe", plan="pro")
        probe_key = issue_key(s, role="client", client_id=probe.id).plain
        service.set_client(s, client=crowd.id, values=limits, actor="test")
        service.set_client(s, client=probe.id, values={"rpm": 1000}, actor="test")
    deadline = time.monotonic() + 10
    async with aiohttp.ClientSession() as session:
        for url in urls:
            while True:
                async with session.post(
                    url + "/v1/chat/completions",
                    json=BODY,
                    headers={"Authorization": f"Bearer {probe_key}"},
                ) as resp:
                    await resp.read()
                    if "x-ratelimit-limit-requests" in resp.headers:
                        break
                assert time.monotonic() < deadline, "the limits did not reach the processes"
                await asyncio.sleep(0.2)
    return crowd_key, probe_key


async def _crowd(urls: list[str], key: str, n: int = 200) -> tuple[list[int], float]:
    connector = aiohttp.TCPConnector(limit=n)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector) as session:
        statuses = await asyncio.gather(*[_call(session, urls[i % 2], key) for i in range(n)])
    return list(statuses), time.monotonic() - started


async def test_rpm_holds_across_two_processes(
    two_gateways: tuple[list[str], Database, Settings],
) -> None:
    urls, db, _settings = two_gateways
    rpm = 50
    key, _probe = await _limited_clients(db, urls, rpm=rpm)
    statuses, elapsed = await _crowd(urls, key)
    allowed, refused = statuses.count(200), statuses.count(429)
    # The bucket refills rpm/60 per second while the 200 calls are in progress.
    refill = math.ceil(elapsed * rpm / 60)
    print(f"\nrpm={rpm}: allowed={allowed} refused={refused} in {elapsed:.2f}s")
    assert allowed + refused == 200
    assert rpm <= allowed <= rpm + refill


async def test_concurrency_holds_across_two_processes(
    two_gateways: tuple[list[str], Database, Settings], fake_providers: FakeProviders
) -> None:
    urls, db, _settings = two_gateways
    limit, delay = 10, 3.0
    key, _probe = await _limited_clients(db, urls, concurrency=limit)
    for _ in range(200):
        fake_providers.enqueue("openai", delay=delay)
    try:
        statuses, elapsed = await _crowd(urls, key)
    finally:
        fake_providers.reset()
    allowed, refused = statuses.count(200), statuses.count(429)
    print(f"\nconcurrency={limit}: allowed={allowed} refused={refused} in {elapsed:.2f}s")
    assert allowed + refused == 200
    # Each admitted call holds its slot for `delay` seconds: at most `limit` per round.
    assert limit <= allowed <= limit * math.ceil(elapsed / delay)
