"""The heartbeat rows of the gateway processes: a beat counts the live ones (itself
included), a row not seen for three beats is neither counted nor kept, a clean stop
removes its row at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ai_gateway.pipeline.replicas import ReplicaRegistry
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import GatewayReplica


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_live_replicas_are_counted_and_dead_ones_dropped(db: Database) -> None:
    clock = _Clock()
    a, b, c = (ReplicaRegistry(db, interval=5.0, clock=clock) for _ in range(3))
    assert a.live == 1  # before its first beat it knows only itself
    for registry in (a, b, c):
        await registry.beat()
    assert (a.live, b.live, c.live) == (1, 2, 3)

    clock.now += timedelta(seconds=10)
    await a.beat()
    await b.beat()
    assert b.live == 3  # c was seen 10 s ago: still within three beats
    clock.now += timedelta(seconds=6)  # c last seen 16 s ago: dead
    await a.beat()
    assert a.live == 2
    with db.session() as s:
        assert set(s.scalars(select(GatewayReplica.id))) == {a.id, b.id}

    await b.leave()
    await a.beat()
    assert a.live == 1
    await c.beat()  # a replica that was only paused comes back with a new row
    assert c.live == 2
    await a.leave()
    await c.leave()
    with db.session() as s:
        assert s.scalars(select(GatewayReplica)).all() == []
