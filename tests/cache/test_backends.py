"""One suite, every backend: memory and Redis must behave the same to the service."""

from __future__ import annotations

from decimal import Decimal

from ai_gateway.cache.base import EntryQuery
from ai_gateway.providers.base import Usage
from tests.cache._helpers import completion, entry
from tests.cache.conftest import Harness


async def test_get_missing_is_none(harness: Harness) -> None:
    assert await harness.backend.get("client:acme:nope") is None


async def test_set_then_get_round_trips_the_entry(harness: Harness) -> None:
    stored = entry(cost="0.000123456789")
    await harness.backend.set("client:acme:k1", stored, 60)

    got = await harness.backend.get("client:acme:k1")

    assert got is not None
    assert got.body == completion()
    assert got.model_id == "openai/gpt-4o-mini"
    assert got.client_id == "acme"
    assert got.usage == Usage(10, 5, 2)
    assert got.cost_usd == Decimal("0.000123456789")
    assert isinstance(got.cost_usd, Decimal)
    assert got.created_at == stored.created_at


async def test_get_returns_a_private_copy(harness: Harness) -> None:
    await harness.backend.set("client:acme:k1", entry(), 60)
    first = await harness.backend.get("client:acme:k1")
    assert first is not None
    first.body["choices"][0]["message"]["content"] = "tampered"

    second = await harness.backend.get("client:acme:k1")

    assert second is not None
    assert second.body["choices"][0]["message"]["content"] == "Hello there!"


async def test_entries_expire_after_their_ttl(harness: Harness) -> None:
    await harness.backend.set("client:acme:short", entry(), 1)
    await harness.backend.set("client:acme:long", entry(), 60)
    assert await harness.backend.get("client:acme:short") is not None

    await harness.advance(1.1)

    assert await harness.backend.get("client:acme:short") is None
    assert await harness.backend.get("client:acme:long") is not None
    assert [i.key for i in await harness.backend.list_entries()] == ["client:acme:long"]


async def test_hits_are_counted_and_saving_reported(harness: Harness) -> None:
    stored = entry(cost="0.01")
    await harness.backend.set("client:acme:k1", stored, 60)
    for _ in range(3):
        await harness.backend.get("client:acme:k1")

    [info] = await harness.backend.list_entries()

    assert info.hits == 3
    assert info.saved_usd == Decimal("0.03")
    assert info.size_bytes == len(stored.to_bytes())
    assert info.model_id == "openai/gpt-4o-mini"
    assert info.client_id == "acme"
    assert info.age_seconds() >= 0


async def test_overwrite_resets_hits(harness: Harness) -> None:
    await harness.backend.set("k", entry(), 60)
    await harness.backend.get("k")
    await harness.backend.set("k", entry(content="new"), 60)

    [info] = await harness.backend.list_entries()
    got = await harness.backend.get("k")

    assert info.hits == 0
    assert got is not None
    assert got.body["choices"][0]["message"]["content"] == "new"


async def test_delete(harness: Harness) -> None:
    await harness.backend.set("k", entry(), 60)

    assert await harness.backend.delete("k") is True
    assert await harness.backend.delete("k") is False
    assert await harness.backend.get("k") is None
    assert await harness.backend.list_entries() == []


async def _populate(harness: Harness) -> None:
    await harness.backend.set("client:a:1", entry(client_id="a", model_id="m1"), 60)
    await harness.backend.set("client:a:2", entry(client_id="a", model_id="m2"), 61)
    await harness.backend.set("client:b:1", entry(client_id="b", model_id="m1"), 62)
    await harness.backend.set("global:1", entry(client_id=None, model_id="m2"), 63)


async def test_list_filters_by_client_and_model(harness: Harness) -> None:
    await _populate(harness)

    def keys(infos: list) -> list[str]:
        return [i.key for i in infos]

    # Newest expiry first.
    assert keys(await harness.backend.list_entries()) == [
        "global:1",
        "client:b:1",
        "client:a:2",
        "client:a:1",
    ]
    assert keys(await harness.backend.list_entries(EntryQuery(client_id="a"))) == [
        "client:a:2",
        "client:a:1",
    ]
    assert keys(await harness.backend.list_entries(EntryQuery(model="m1"))) == [
        "client:b:1",
        "client:a:1",
    ]
    assert keys(await harness.backend.list_entries(EntryQuery(client_id="a", model="m1"))) == [
        "client:a:1"
    ]
    assert keys(await harness.backend.list_entries(EntryQuery(client_id="zzz"))) == []


async def test_list_paginates(harness: Harness) -> None:
    await _populate(harness)

    page1 = await harness.backend.list_entries(EntryQuery(limit=2, offset=0))
    page2 = await harness.backend.list_entries(EntryQuery(limit=2, offset=2))
    page3 = await harness.backend.list_entries(EntryQuery(limit=2, offset=4))

    assert [i.key for i in page1 + page2] == ["global:1", "client:b:1", "client:a:2", "client:a:1"]
    assert page3 == []


async def test_invalidate_by_client(harness: Harness) -> None:
    await _populate(harness)

    assert await harness.backend.invalidate(client_id="a") == 2

    assert await harness.backend.get("client:a:1") is None
    assert await harness.backend.get("client:a:2") is None
    assert {i.key for i in await harness.backend.list_entries()} == {"client:b:1", "global:1"}
    assert await harness.backend.list_entries(EntryQuery(model="m2")) != []


async def test_invalidate_by_model(harness: Harness) -> None:
    await _populate(harness)

    assert await harness.backend.invalidate(model="m1") == 2

    assert {i.key for i in await harness.backend.list_entries()} == {"client:a:2", "global:1"}
    assert await harness.backend.list_entries(EntryQuery(client_id="b")) == []


async def test_invalidate_by_client_and_model(harness: Harness) -> None:
    await _populate(harness)

    assert await harness.backend.invalidate(client_id="a", model="m2") == 1

    assert await harness.backend.get("client:a:1") is not None
    assert await harness.backend.get("client:a:2") is None


async def test_invalidate_all(harness: Harness) -> None:
    await _populate(harness)

    assert await harness.backend.invalidate() == 4

    assert await harness.backend.list_entries() == []
    assert await harness.backend.get("global:1") is None


async def test_invalidate_nothing_matching(harness: Harness) -> None:
    assert await harness.backend.invalidate(client_id="nobody") == 0
    assert await harness.backend.invalidate() == 0


async def test_overwrite_by_another_model_moves_the_entry(harness: Harness) -> None:
    await harness.backend.set("k", entry(model_id="m1"), 60)
    await harness.backend.set("k", entry(model_id="m2"), 60)

    assert await harness.backend.list_entries(EntryQuery(model="m1")) == []
    assert [i.key for i in await harness.backend.list_entries(EntryQuery(model="m2"))] == ["k"]
    assert await harness.backend.invalidate(model="m1") == 0
    assert await harness.backend.get("k") is not None


async def test_close_twice_is_safe(harness: Harness) -> None:
    await harness.backend.close()
    await harness.backend.close()


async def test_stream_boundaries_round_trip(harness: Harness) -> None:
    stored = entry()
    stored.pieces = {0: [5, 1, 6]}
    await harness.backend.set("client:acme:k2", stored, 60)
    got = await harness.backend.get("client:acme:k2")
    assert got is not None and got.pieces == {0: [5, 1, 6]}
