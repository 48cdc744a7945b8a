"""Three replicas behind nginx on PostgreSQL + Redis (the short variant of the cluster
test; figures in docs/PERFORMANCE.md):

- a budget holds globally under 200 concurrent calls spread over the replicas;
- ``kill -9`` of a replica under load loses no usage row of an answered request (its
  journal is replayed when it restarts);
- Redis stopped under load: calls keep being answered, nothing is lost when it returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import UsageLog
from tests.cluster.cluster import Cluster, PrivateRedis
from tests.fakes.fake_providers import FakeProviders
from tests.harness import harness_settings, seed
from tests.pipeline.test_budget_concurrency import BODY, set_budget_row

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest_asyncio.fixture
async def redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest_asyncio.fixture
async def cluster(
    pg_db: Database, fake_providers: FakeProviders, redis: PrivateRedis, tmp_path: Path
) -> AsyncIterator[tuple[Cluster, Database, str]]:
    settings = harness_settings(
        pg_db.url.render_as_string(hide_password=False),
        tmp_path / "data",
        fake_providers,
        redis_url=redis.url,
    )
    _, key, _ = seed(pg_db, settings)
    # The production flush interval: what a kill -9 can catch in memory.
    node = Cluster(settings, tmp_path, env_extra={"AI_GATEWAY_USAGE_FLUSH_INTERVAL": "0.5"})
    try:
        await node.start()
        yield node, pg_db, key
    finally:
        await node.stop()


async def _post(http: aiohttp.ClientSession, url: str, key: str) -> tuple[int, str | None]:
    try:
        async with http.post(
            url + "/v1/chat/completions",
            json=BODY,
            headers={"Authorization": f"Bearer {key}", "Cache-Control": "no-store"},
        ) as resp:
            body = await resp.read()
            if resp.status != 200:  # shown with a failing test's output: who answered what
                print(f"{resp.status} {dict(resp.headers)} {body[:300]!r}")
            return resp.status, resp.headers.get("x-request-id")
    except aiohttp.ClientError as exc:
        print(f"no answer: {exc!r}")
        return 0, None


async def _rows(db: Database, request_ids: set[str]) -> set[str]:
    found: set[str] = set()
    ids = sorted(request_ids)
    with db.session() as s:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found.update(
                s.scalars(select(UsageLog.request_id).where(UsageLog.request_id.in_(chunk)))
            )
    return found


async def _wait_rows(db: Database, request_ids: set[str], timeout: float = 60.0) -> set[str]:
    deadline = time.monotonic() + timeout
    while True:
        found = await _rows(db, request_ids)
        if found >= request_ids or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)


async def test_budget_holds_across_three_replicas(
    cluster: tuple[Cluster, Database, str],
) -> None:
    node, db, _ = cluster
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
    limit = per_call * 50
    set_budget_row(db, crowd.id, limit)

    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as http:
        results = await asyncio.gather(*[_post(http, node.url, crowd_key) for _ in range(200)])
    statuses = [s for s, _ in results]
    ok = statuses.count(200)
    assert statuses.count(402) + ok == 200 and ok >= 10
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
    assert usage == logged == per_call * ok
    assert usage <= limit + per_call * 3, (usage, limit)


async def _load(
    url: str, key: str, *, seconds: float, concurrency: int
) -> list[tuple[int, str | None]]:
    results: list[tuple[int, str | None]] = []
    deadline = time.monotonic() + seconds

    async def user(http: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            results.append(await _post(http, url, key))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        await asyncio.gather(*[user(http) for _ in range(concurrency)])
    return results


async def test_kill_9_under_load_loses_no_answered_row(
    cluster: tuple[Cluster, Database, str],
) -> None:
    node, db, key = cluster
    load = asyncio.create_task(_load(node.url, key, seconds=4.0, concurrency=30))
    await asyncio.sleep(2.0)
    node.kill9(0)
    results = await load
    answered = {rid for s, rid in results if s == 200 and rid}
    failed = sum(1 for s, _ in results if s != 200)
    found_before_restart = await _wait_rows(db, answered, timeout=5.0)
    await node.restart(0)  # replays the journal the killed process left
    found = await _wait_rows(db, answered)
    missing = len(answered - found)
    print(
        f"kill -9: {len(results)} calls, {len(answered)} answered, {failed} not answered; "
        f"rows missing before restart: {len(answered - found_before_restart)}, after: {missing}"
    )
    assert len(answered) > 100
    assert missing == 0
    with db.session() as s:
        duplicates = s.scalar(
            select(func.count()).select_from(UsageLog).where(UsageLog.request_id.in_(answered))
        )
    assert duplicates == len(answered)  # replayed rows were not written twice


async def test_redis_stopped_under_load_calls_are_still_answered(
    cluster: tuple[Cluster, Database, str], redis: PrivateRedis
) -> None:
    node, db, key = cluster
    load = asyncio.create_task(_load(node.url, key, seconds=6.0, concurrency=20))
    await asyncio.sleep(1.0)
    await redis.stop()
    outage_started = time.monotonic()
    await asyncio.sleep(3.0)
    await redis.start()  # same port: the replicas reconnect
    outage = time.monotonic() - outage_started
    results = await load
    statuses = [s for s, _ in results]
    answered = {rid for s, rid in results if s == 200 and rid}
    assert statuses.count(200) == len(results), {s: statuses.count(s) for s in set(statuses)}
    started = time.monotonic()
    found = await _wait_rows(db, answered)
    print(
        f"redis down {outage:.1f} s: {len(results)} calls, {statuses.count(200)} answered, "
        f"{len(answered - found)} rows missing after {time.monotonic() - started:.1f} s"
    )
    assert found == answered
