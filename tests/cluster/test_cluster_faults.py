"""The rest of the cluster test: three replicas behind nginx on PostgreSQL + Redis.

- a client's rate limit holds globally under 200 concurrent calls spread over the
  replicas (admission is one Lua script on the shared Redis);
- Redis stopped under load: calls keep being answered, each replica limits on its own
  (the configured limit per replica: the documented degradation), nothing is lost;
- Redis stopped: a budget still holds across the replicas (each admits its share of
  what the database says is left, the replicas counted by their heartbeat rows);
- ``kill -9`` of a replica with calls in flight leaks no budget reservation past its
  expiry;
- PostgreSQL cut under load (through a TCP proxy the test controls): calls keep being
  answered from the caches, every answered call's usage row arrives once the database
  is back, none twice.

``AI_GATEWAY_TEST_OUTAGE_SECONDS`` sets how long each outage lasts (default 5 s, so the
suite stays short; the figures in docs/PERFORMANCE.md come from a 30 s run).
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from sqlalchemy import func, select

from ai_gateway.pipeline.shared_budget import RESERVATION_TTL_SECONDS
from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import GatewayReplica, UsageLog
from tests.cluster.cluster import Cluster, PrivateRedis
from tests.cluster.test_cluster import _load, _post, _wait_rows, cluster, redis
from tests.fakes.fake_providers import FakeProviders
from tests.fakes.tcp_proxy import TcpProxy
from tests.harness import harness_settings, seed
from tests.pipeline.test_budget_concurrency import _call, set_budget_row
from tests.pipeline.test_rate_limit_multiprocess import _limited_clients

__all__ = ["cluster", "redis"]

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

OUTAGE_SECONDS = float(os.environ.get("AI_GATEWAY_TEST_OUTAGE_SECONDS", "5"))


async def _crowd(url: str, key: str, n: int = 200) -> tuple[list[int], float]:
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=n)) as http:
        statuses = await asyncio.gather(*[_call(http, url, key) for _ in range(n)])
    return list(statuses), time.monotonic() - started


async def test_rate_limit_holds_across_three_replicas(
    cluster: tuple[Cluster, Database, str],
) -> None:
    node, db, _ = cluster
    rpm = 60
    key, _probe = await _limited_clients(db, node.replica_urls, rpm=rpm)
    statuses, elapsed = await _crowd(node.url, key)
    allowed, refused = statuses.count(200), statuses.count(429)
    refill = math.ceil(elapsed * rpm / 60)  # the bucket refills while the calls run
    print(f"\nrpm={rpm} over 3 replicas: allowed={allowed} refused={refused} in {elapsed:.2f}s")
    assert allowed + refused == 200
    assert rpm <= allowed <= rpm + refill


async def test_redis_outage_calls_answered_limits_per_replica_nothing_lost(
    cluster: tuple[Cluster, Database, str], redis: PrivateRedis
) -> None:
    node, db, key = cluster
    rpm = 30
    limited, _probe = await _limited_clients(db, node.replica_urls, rpm=rpm)
    load = asyncio.create_task(_load(node.url, key, seconds=OUTAGE_SECONDS + 3, concurrency=20))
    await asyncio.sleep(1.0)
    await redis.stop()
    outage_started = time.monotonic()
    # A fresh client's budget of calls, spent while Redis is away: each replica limits
    # it on its own, so the whole cluster admits at most the limit once per replica.
    statuses, elapsed = await _crowd(node.url, limited, n=150)
    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))
    await redis.start()  # same port: the replicas reconnect
    outage = time.monotonic() - outage_started
    results = await load
    answered = {rid for s, rid in results if s == 200 and rid}
    codes = [s for s, _ in results]
    found = await _wait_rows(db, answered)
    allowed = statuses.count(200)
    refill = math.ceil(elapsed * rpm / 60)
    print(
        f"\nredis down {outage:.1f} s: {len(results)} calls, {codes.count(200)} answered "
        f"{ {c: codes.count(c) for c in set(codes)} }, "
        f"{len(answered - found)} rows missing; rpm={rpm} client: {allowed} of 150 admitted "
        f"(limit per replica, 3 replicas)"
    )
    assert codes.count(200) == len(results), {c: codes.count(c) for c in set(codes)}
    assert found == answered
    assert allowed + statuses.count(429) == 150
    assert rpm <= allowed <= 3 * (rpm + refill)


async def test_redis_outage_budget_holds_across_the_replicas(
    cluster: tuple[Cluster, Database, str], redis: PrivateRedis
) -> None:
    node, db, _ = cluster
    with db.session() as s:  # each replica beats its row from its start
        assert s.scalar(select(func.count()).select_from(GatewayReplica)) == node.replicas
    with db.write() as s:
        probe = create_client(s, name="probe", plan="pro")
        probe_key = issue_key(s, role="client", client_id=probe.id).plain
        crowd = create_client(s, name="crowd", plan="pro")
        crowd_key = issue_key(s, role="client", client_id=crowd.id).plain
    async with aiohttp.ClientSession() as http:
        status, rid = await _post(http, node.url, probe_key)
        assert status == 200 and rid is not None
    assert await _wait_rows(db, {rid}) == {rid}
    with db.session() as s:
        per_call = s.scalars(select(UsageLog.cost_brl).where(UsageLog.client_id == probe.id)).one()
    limit = per_call * 30
    set_budget_row(db, crowd.id, limit)

    await redis.stop()
    connector = aiohttp.TCPConnector(limit=150)
    async with aiohttp.ClientSession(connector=connector) as http:
        results = await asyncio.gather(*[_post(http, node.url, crowd_key) for _ in range(150)])
    await redis.start()
    statuses = [s for s, _ in results]
    ok = statuses.count(200)
    answered = {rid for s, rid in results if s == 200 and rid}
    assert await _wait_rows(db, answered) == answered
    for _ in range(100):
        with db.session() as s:
            logged = s.scalar(
                select(func.sum(UsageLog.cost_brl)).where(UsageLog.client_id == crowd.id)
            ) or Decimal(0)
            usage = effective_budget(s, client_id=crowd.id).current_usage
        if usage == logged:
            break
        await asyncio.sleep(0.05)
    print(f"\nredis down: budget of 30 calls over 3 replicas: {ok} of 150 admitted")
    assert statuses.count(402) + ok == 150 and ok >= 10
    assert usage == logged == per_call * ok
    # Each replica its share: the cluster within the limit, plus one call per replica.
    assert usage <= limit + per_call * node.replicas, (usage, limit)


@pytest_asyncio.fixture
async def cluster_behind_proxy(
    pg_db: Database, fake_providers: FakeProviders, redis: PrivateRedis, tmp_path: Path
) -> AsyncIterator[tuple[Cluster, Database, str, TcpProxy]]:
    """The cluster with every database connection going through a proxy the test cuts."""
    proxy = TcpProxy("127.0.0.1", 5432)
    await proxy.start()
    url = pg_db.url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = harness_settings(url, tmp_path / "data", fake_providers, redis_url=redis.url)
    _, key, _ = seed(pg_db, settings)
    node = Cluster(settings, tmp_path, env_extra={"AI_GATEWAY_USAGE_FLUSH_INTERVAL": "0.5"})
    try:
        await node.start()
        yield node, pg_db, key, proxy
    finally:
        proxy.restore()
        await node.stop()
        await proxy.close()


async def test_postgres_cut_under_load_nothing_lost_nothing_duplicated(
    cluster_behind_proxy: tuple[Cluster, Database, str, TcpProxy],
) -> None:
    node, db, key, proxy = cluster_behind_proxy
    load = asyncio.create_task(_load(node.url, key, seconds=OUTAGE_SECONDS + 3, concurrency=20))
    await asyncio.sleep(1.0)
    proxy.cut()
    cut_at = time.monotonic()
    await asyncio.sleep(OUTAGE_SECONDS)
    proxy.restore()
    outage = time.monotonic() - cut_at
    results = await load
    answered = {rid for s, rid in results if s == 200 and rid}
    codes = [s for s, _ in results]
    started = time.monotonic()
    found = await _wait_rows(db, answered, timeout=90.0)
    with db.session() as s:
        rows = s.scalar(
            select(func.count()).select_from(UsageLog).where(UsageLog.request_id.in_(answered))
        )
    print(
        f"\npostgres cut {outage:.1f} s: {len(results)} calls, {len(answered)} answered, "
        f"{ {c: codes.count(c) for c in set(codes)} }; {len(answered - found)} rows missing "
        f"after {time.monotonic() - started:.1f} s, {rows} rows for {len(answered)} answers"
    )
    assert len(answered) > 50
    assert found == answered  # nothing lost
    assert rows == len(answered)  # nothing duplicated


async def test_kill_9_leaks_no_reservation_past_its_expiry(
    cluster: tuple[Cluster, Database, str], redis: PrivateRedis, fake_providers: FakeProviders
) -> None:
    """Calls in flight on a killed replica leave their budget reservations in Redis; each
    carries its expiry, and once past it the next admission drops it (the clock cannot be
    moved forward here, so the test moves the expiries back)."""
    node, db, _ = cluster
    with db.write() as s:
        leaky = create_client(s, name="leaky", plan="pro")
        leaky_key = issue_key(s, role="client", client_id=leaky.id).plain
    set_budget_row(db, leaky.id, Decimal("1000"))
    base = f"aigw:budget:{leaky.id}"
    store = aioredis.Redis.from_url(redis.url)
    in_flight = 8
    for _ in range(in_flight):
        fake_providers.enqueue("openai", delay=30.0)
    try:
        async with aiohttp.ClientSession() as http:
            calls = [
                asyncio.create_task(_call(http, node.replica_urls[0], leaky_key))
                for _ in range(in_flight)
            ]
            deadline = time.monotonic() + 20
            while await store.hlen(base + ":amt") < in_flight:
                assert time.monotonic() < deadline, "the calls did not reserve"
                await asyncio.sleep(0.05)
            node.kill9(0)
            await asyncio.gather(*calls, return_exceptions=True)
        fake_providers.reset()
        leaked = await store.zrange(base + ":res", 0, -1, withscores=True)
        now = time.time()
        assert len(leaked) == in_flight
        assert all(now < expiry <= now + RESERVATION_TTL_SECONDS + 1 for _, expiry in leaked)
        await store.zadd(base + ":res", {rid: now - 1 for rid, _ in leaked})
        async with aiohttp.ClientSession() as http:
            assert await _call(http, node.replica_urls[1], leaky_key) == 200
        for _ in range(100):  # the call's own reservation settles in the background
            if await store.hlen(base + ":amt") == 0:
                break
            await asyncio.sleep(0.05)
        assert await store.hlen(base + ":amt") == 0
        assert await store.zcard(base + ":res") == 0
        print(
            f"\nkill -9 with {in_flight} calls in flight: {len(leaked)} reservations left, "
            f"each expiring within {RESERVATION_TTL_SECONDS} s, dropped once expired"
        )
    finally:
        fake_providers.reset()
        await store.aclose()
        await node.restart(0)
