"""What only the in-process backend promises: its two bounds and LRU order."""

from __future__ import annotations

import pytest

from ai_gateway.cache.memory import MemoryCacheBackend
from tests.cache._helpers import FakeClock, entry


async def test_entry_bound_evicts_least_recently_used() -> None:
    backend = MemoryCacheBackend(max_entries=3, max_bytes=10_000_000)
    for key in "abc":
        await backend.set(key, entry(), 60)
    await backend.get("a")  # a is now the most recent; b is the oldest

    await backend.set("d", entry(), 60)

    assert len(backend) == 3
    assert await backend.get("b") is None
    for key in "acd":
        assert await backend.get(key) is not None


async def test_byte_bound_evicts_until_it_fits() -> None:
    size = len(entry().to_bytes())
    backend = MemoryCacheBackend(max_entries=1000, max_bytes=size * 2 + size // 2)
    for key in "abc":
        await backend.set(key, entry(), 60)

    assert len(backend) == 2
    assert backend.size_bytes <= backend.max_bytes
    assert await backend.get("a") is None


async def test_entry_larger_than_the_budget_is_not_stored() -> None:
    backend = MemoryCacheBackend(max_entries=10, max_bytes=1000)
    await backend.set("small", entry(), 60)

    await backend.set("huge", entry(content="x" * 5000), 60)

    assert await backend.get("huge") is None
    assert await backend.get("small") is not None


async def test_byte_accounting_follows_overwrite_and_delete() -> None:
    backend = MemoryCacheBackend()
    await backend.set("k", entry(content="short"), 60)
    await backend.set("k", entry(content="a much longer answer than before"), 60)
    [info] = await backend.list_entries()
    assert backend.size_bytes == info.size_bytes

    await backend.delete("k")

    assert backend.size_bytes == 0
    assert len(backend) == 0


async def test_expired_entries_free_their_bytes() -> None:
    clock = FakeClock()
    backend = MemoryCacheBackend(clock=clock)
    await backend.set("k", entry(), 10)
    clock.advance(10)

    assert await backend.get("k") is None
    assert backend.size_bytes == 0
    assert await backend.delete("k") is False


async def test_zero_ttl_is_not_stored() -> None:
    backend = MemoryCacheBackend()
    await backend.set("k", entry(), 0)
    assert await backend.get("k") is None


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        MemoryCacheBackend(max_entries=0)
    with pytest.raises(ValueError):
        MemoryCacheBackend(max_bytes=0)
