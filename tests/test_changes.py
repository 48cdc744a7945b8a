"""The change bus in one process: local dispatch by kind, messages from other processes,
and the full invalidation when a change was missed (a version gap or an unexplained poll)."""

from __future__ import annotations

from ai_gateway.changes import Change, ChangeBus, channel_for
from ai_gateway.storage.db import Database
from ai_gateway.storage.shared_config import bump_version


def _bus(db: Database) -> tuple[ChangeBus, list[tuple[str, str | None]]]:
    bus = ChangeBus(db)
    seen: list[tuple[str, str | None]] = []
    for kind in ("config", "models", "clients", "keys", "budgets", "limits"):
        bus.subscribe(kind, lambda cid, kind=kind: seen.append((kind, cid)))  # type: ignore[misc]
    return bus, seen


async def test_publish_runs_only_that_kind_and_bumps_the_version(db: Database) -> None:
    bus, seen = _bus(db)
    await bus.start()
    try:
        with db.session() as s:
            from ai_gateway.storage.shared_config import read_version

            before = read_version(s)
        await bus.publish("budgets", client_id="c1")
        assert seen == [("budgets", "c1")]
        with db.session() as s:
            assert read_version(s) == before + 1
        assert not await bus.check()  # its own bump is not news
    finally:
        await bus.stop()


async def test_an_unexplained_version_move_invalidates_everything(db: Database) -> None:
    bus, seen = _bus(db)
    await bus.start()
    try:
        with db.write() as s:
            bump_version(s)  # a change made by a process without a bus (a job, the CLI)
        assert await bus.check()
        assert {kind for kind, _ in seen} == {
            "config",
            "models",
            "clients",
            "keys",
            "budgets",
            "limits",
        }
        assert all(cid is None for _, cid in seen)
    finally:
        await bus.stop()


async def test_messages_from_others_and_gaps(db: Database) -> None:
    bus, seen = _bus(db)
    await bus.start()
    try:
        with db.write() as s:
            v1 = bump_version(s)
            v3 = bump_version(s) + 1
        await bus.receive(Change("keys", "k1", v1, origin="other"))
        assert seen == [("keys", "k1")]
        seen.clear()
        await bus.receive(Change("models", None, v3, origin="other"))  # v1 + 1 was missed
        assert len(seen) == 7 and seen[-1] == ("models", None)
        assert bus.full_invalidations == 1
    finally:
        await bus.stop()


def test_messages_round_trip_and_bad_ones_are_dropped() -> None:
    change = Change("limits", "c9", 12, origin="abc")
    assert Change.decode(change.encode()) == change
    assert Change.decode(b"{not json") is None
    assert Change.decode(b'{"kind": "everything", "version": 1, "origin": "x"}') is None


def test_one_channel_per_redis_database() -> None:
    assert channel_for("redis://h:6379/3") != channel_for("redis://h:6379/4")
    assert channel_for("redis://h:6379") == "ai_gateway:changes:0"
