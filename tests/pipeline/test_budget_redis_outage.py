"""Redis away, two replicas on one PostgreSQL: the budget stays within its limit (plus
one call's estimate per replica), because each replica admits only its share of what the
database says is left; when Redis answers again admissions go through it and its usage
is the database's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from redis.asyncio import Redis

from ai_gateway.errors import BudgetExceeded
from ai_gateway.pipeline.budget import BudgetGuard
from ai_gateway.pipeline.replicas import ReplicaRegistry
from ai_gateway.pipeline.shared_budget import RedisBudgetCounters
from ai_gateway.storage.budgets import increment_budget_usage
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from tests.conftest import REDIS_URL, require_service
from tests.fakes.tcp_proxy import TcpProxy
from tests.pipeline.test_budget_concurrency import set_budget_row

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LIMIT = Decimal(20)
ONE_CALL = Decimal(1)  # each call reserves 1 and spends 1
SETTLING = 0.3  # after Redis is back, how long the share still applies (10 s in production)


@dataclass
class Replica:
    """One gateway process as far as budgets go: its guard and its usage writer."""

    db: Database
    guard: BudgetGuard
    client_id: str
    unflushed: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)
    admitted: int = 0
    refused: int = 0
    shared_admissions: int = 0
    flushing: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def call(self) -> None:
        try:
            reservation = await self.guard.reserve(self.client_id, lambda _unit: ONE_CALL)
        except BudgetExceeded:
            self.refused += 1
            return
        self.admitted += 1
        self.shared_admissions += reservation.shared_id is not None
        await asyncio.sleep(0.01)  # the upstream call
        self.guard.settle(reservation, ONE_CALL)
        self.spent += ONE_CALL
        self.unflushed += ONE_CALL

    async def flush(self) -> None:
        """What the usage writer does: add the settled amount to the stored usage and
        report the new total back to the guard."""
        async with self.flushing:
            amount, self.unflushed = self.unflushed, Decimal(0)
            if amount:
                total = await self.db.run(self._increment, amount)
                self.guard.flushed(self.client_id, amount, total)

    def _increment(self, amount: Decimal) -> Decimal:
        with self.db.write() as s:
            return increment_budget_usage(s, client_id=self.client_id, amount=amount)


async def _wave(replicas: list[Replica], calls_each: int) -> None:
    """Concurrent calls spread over every replica, then each writer flushes."""
    await asyncio.gather(*(r.call() for r in replicas for _ in range(calls_each)))
    await asyncio.gather(*(r.flush() for r in replicas))


def _stored_usage(db: Database, client_id: str) -> Decimal:
    with db.write() as s:
        return increment_budget_usage(s, client_id=client_id, amount=Decimal(0))


def _client(db: Database, limit: Decimal = LIMIT) -> str:
    with db.write() as s:
        client = create_client(s, name=f"outage-{uuid.uuid4().hex[:6]}", plan="pro")
    set_budget_row(db, client.id, limit, kind="tokens")
    return client.id


@pytest.fixture
async def unreachable() -> AsyncIterator[Redis]:
    # Port 9 on loopback refuses at once: the shared counters are unreachable.
    client = Redis.from_url("redis://127.0.0.1:9/0")
    yield client
    await client.aclose()


def _replicas(db: Database, shared: list[RedisBudgetCounters], client_id: str) -> list[Replica]:
    """One guard per "process", each with its heartbeat row in the same database."""
    return [
        Replica(
            db,
            BudgetGuard(
                db,
                shared=counters,
                state_ttl=0.05,
                replicas=ReplicaRegistry(db),
                settling_seconds=SETTLING,
            ),
            client_id,
        )
        for counters in shared
    ]


async def _beat(replicas: list[Replica]) -> None:
    for _ in range(2):  # the second round sees every row
        for r in replicas:
            assert r.guard.replicas is not None
            await r.guard.replicas.beat()


async def test_two_replicas_without_redis_spend_at_most_the_limit(
    pg_db: Database, unreachable: Redis
) -> None:
    client_id = _client(pg_db)
    replicas = _replicas(pg_db, [RedisBudgetCounters(unreachable) for _ in range(2)], client_id)
    await _beat(replicas)
    for _ in range(4):  # bursts of 30 calls per replica, flushed between them
        await _wave(replicas, 30)
        await asyncio.sleep(0.06)  # past the state TTL: each replica re-reads the usage
    spent = sum(r.spent for r in replicas)
    assert spent == _stored_usage(pg_db, client_id)  # every settled unit is stored
    assert spent >= LIMIT - len(replicas) * ONE_CALL  # the shares were used, not refused
    assert spent <= LIMIT + len(replicas) * ONE_CALL, [(r.admitted, r.refused) for r in replicas]


@pytest.fixture
async def behind_proxy() -> AsyncIterator[tuple[TcpProxy, str, Redis]]:
    """The test Redis reached through a proxy the test cuts, with a key prefix of its own
    (its keys are deleted after)."""
    require_service("Redis", "127.0.0.1", 6379)
    proxy = TcpProxy("127.0.0.1", 6379)
    await proxy.start()
    prefix = f"aigw:test:{uuid.uuid4().hex}:"
    direct = Redis.from_url(REDIS_URL)
    try:
        yield proxy, prefix, direct
    finally:
        proxy.restore()
        await proxy.close()
        keys = [k async for k in direct.scan_iter(match=prefix + "*")]
        if keys:
            await direct.delete(*keys)
        await direct.aclose()


async def test_when_redis_is_back_it_decides_again_and_holds_the_stored_usage(
    pg_db: Database, behind_proxy: tuple[TcpProxy, str, Redis]
) -> None:
    proxy, prefix, direct = behind_proxy
    client_id = _client(pg_db, limit=Decimal(40))
    through_proxy = REDIS_URL.replace("127.0.0.1:6379", f"127.0.0.1:{proxy.port}")
    assert through_proxy != REDIS_URL
    links = [Redis.from_url(through_proxy) for _ in range(2)]
    counters = [RedisBudgetCounters(link, prefix=prefix) for link in links]
    a, b = replicas = _replicas(pg_db, counters, client_id)
    await _beat(replicas)
    in_flight = f"{prefix}{client_id}:amt"
    try:
        await _wave(replicas, 5)  # through Redis
        assert [r.shared_admissions for r in replicas] == [5, 5]
        early = await b.guard.reserve(client_id, lambda _unit: ONE_CALL)  # in Redis
        assert early.shared_id is not None

        proxy.cut()
        b.guard.settle(early, ONE_CALL)  # Redis never hears of it (yet)
        b.spent += ONE_CALL
        b.unflushed += ONE_CALL
        await _wave(replicas, 4)
        slow = await a.guard.reserve(client_id, lambda _unit: ONE_CALL)  # still in flight
        assert slow.shared_id is None and [r.shared_admissions for r in replicas] == [5, 5]
        await asyncio.sleep(0.06)

        proxy.restore()
        await asyncio.sleep(1.1)  # past the retry pause: the next admission tries Redis
        for r in replicas:  # one call each: Redis answers, the share still applies
            await r.call()
        await asyncio.sleep(0.05)  # the hand-over and the releases are sent off the path
        assert slow.shared_id is not None  # handed to Redis once it answered
        assert await direct.hkeys(in_flight) == [slow.shared_id.encode()]  # type: ignore[misc]
        assert [r.shared_admissions for r in replicas] == [6, 6]

        await asyncio.sleep(SETTLING)
        await _wave(replicas, 30)  # Redis alone decides again
        a.guard.settle(slow, ONE_CALL)
        a.spent += ONE_CALL
        a.unflushed += ONE_CALL
        await asyncio.gather(*(r.flush() for r in replicas))
        await asyncio.sleep(0.06)
        await _wave(replicas, 1)  # refused, but it floors the shared usage first
        await asyncio.sleep(0.05)
        shared_usage = await counters[0].usage(client_id)
    finally:
        for r in replicas:
            await r.guard.drain()
        for link in links:
            await link.aclose()
    spent = sum(r.spent for r in replicas)
    stored = _stored_usage(pg_db, client_id)
    assert spent == stored
    assert Decimal(40) - 2 * ONE_CALL <= spent <= Decimal(40) + 2 * ONE_CALL
    # Every admission of the waves but the eight of the outage went through Redis.
    assert sum(r.shared_admissions for r in replicas) == sum(r.admitted for r in replicas) - 8
    assert shared_usage == stored  # the shared usage is the stored one
    assert await direct.hlen(in_flight) == 0  # type: ignore[misc]


async def test_the_share_only_shrinks_during_an_outage(pg_db: Database, unreachable: Redis) -> None:
    client_id = _client(pg_db)
    registry = ReplicaRegistry(pg_db)
    replica = Replica(
        pg_db,
        BudgetGuard(pg_db, shared=RedisBudgetCounters(unreachable), replicas=registry),
        client_id,
    )
    await ReplicaRegistry(pg_db).beat()  # another replica
    await registry.beat()
    assert registry.live == 2
    for _ in range(4):
        await replica.call()
    assert replica.admitted == 4  # of a share of 10
    registry.live = 4  # two more replicas came up: the share is now 5
    for _ in range(4):
        await replica.call()
    assert (replica.admitted, replica.refused) == (5, 3)
    registry.live = 1  # three died: their shares are not handed over mid-outage
    await replica.call()
    assert (replica.admitted, replica.refused) == (5, 4)
