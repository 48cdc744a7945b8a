"""``ResponseCache``: per-request decisions, coalescing, scope isolation, management."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from ai_gateway.cache.base import CacheBackend, CachedEntry, CacheUnavailable, EntryInfo, EntryQuery
from ai_gateway.cache.memory import MemoryCacheBackend
from ai_gateway.cache.service import CacheSettings, ResponseCache, parse_cache_control
from ai_gateway.errors import StorageError
from ai_gateway.providers.base import ChatRequest, Usage
from tests.cache._helpers import completion, entry, request
from tests.cache.conftest import Harness


class FakeUpstream:
    """A slow upstream that counts its calls; ``fail_first`` makes the first N fail."""

    def __init__(self, *, delay: float = 0.05, fail_first: int = 0) -> None:
        self.delay = delay
        self.fail_first = fail_first
        self.calls = 0
        self.release = asyncio.Event()
        self.hang = False

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        call = self.calls
        if self.hang and call == 1:
            await self.release.wait()
        await asyncio.sleep(self.delay)
        if call <= self.fail_first:
            raise RuntimeError("upstream exploded")
        return completion(f"answer #{call}")


async def serve(
    cache: ResponseCache,
    upstream: FakeUpstream,
    *,
    req: ChatRequest | None = None,
    client_id: str = "acme",
    cache_control: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """What the pipeline does around the upstream call."""
    req = req or request(temperature=0)
    decision = cache.key_for(req, client_id, cache_control=cache_control)
    if decision.key is None:
        return "BYPASS", await upstream()
    async with cache.coalesce(decision) as slot:
        if slot.entry is not None:
            return "HIT", slot.entry.body
        body = await upstream()
        usage = Usage(10, 5, 0)
        await slot.fill(
            cache.build_entry(
                decision, body, model_id=req.model, usage=usage, cost_usd=Decimal("0.002")
            )
        )
        return "MISS", body


@pytest.fixture
def cache() -> ResponseCache:
    return ResponseCache(MemoryCacheBackend())


# -- decisions -----------------------------------------------------------------------------


def test_default_decision(cache: ResponseCache) -> None:
    decision = cache.key_for(request(), "acme")
    assert decision.key is not None and decision.key.startswith("client:acme:")
    assert decision.lookup and decision.store
    assert decision.ttl_seconds == 3600
    assert decision.owner == "acme"
    assert decision.reason is None


def test_disabled_cache_bypasses() -> None:
    cache = ResponseCache(MemoryCacheBackend(), CacheSettings(enabled=False))
    decision = cache.key_for(request(), "acme")
    assert decision.key is None
    assert decision.reason == "cache disabled"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"temperature": 1.5}, "temperature 1.5 above 1.0"),
        ({"n": 2}, "n > 1"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools present"),
    ],
)
def test_nondeterministic_requests_are_not_cached(
    cache: ResponseCache, params: dict, reason: str
) -> None:
    decision = cache.key_for(request(**params), "acme")
    assert decision.key is None
    assert decision.reason == reason


def test_admin_flag_caches_nondeterministic_requests() -> None:
    cache = ResponseCache(MemoryCacheBackend(), CacheSettings(allow_nondeterministic=True))
    assert cache.key_for(request(temperature=1.5, n=2), "acme").key is not None


def test_configured_threshold() -> None:
    cache = ResponseCache(MemoryCacheBackend(), CacheSettings(temperature_threshold=0.2))
    assert cache.key_for(request(temperature=0.2), "acme").key is not None
    assert cache.key_for(request(temperature=0.7), "acme").key is None


@pytest.mark.parametrize("header", ["no-store", "No-Store", "private, no-store"])
def test_no_store_bypasses(cache: ResponseCache, header: str) -> None:
    decision = cache.key_for(request(), "acme", cache_control=header)
    assert decision.key is None
    assert decision.reason == "no-store"


def test_no_cache_skips_lookup_but_refreshes(cache: ResponseCache) -> None:
    decision = cache.key_for(request(), "acme", cache_control="no-cache")
    assert decision.key is not None
    assert not decision.lookup
    assert decision.store
    assert decision.reason == "no-cache"


def test_request_ttl(cache: ResponseCache) -> None:
    assert cache.key_for(request(), "a", cache_control="max-age=60").ttl_seconds == 60
    assert cache.key_for(request(), "a", ttl_seconds=120).ttl_seconds == 120
    assert (
        cache.key_for(request(), "a", cache_control="max-age=30", ttl_seconds=120).ttl_seconds == 30
    )
    capped = cache.key_for(request(), "a", cache_control="max-age=99999999")
    assert capped.ttl_seconds == CacheSettings().max_ttl_seconds
    zero = cache.key_for(request(), "a", cache_control="max-age=0")
    assert zero.key is None
    assert zero.reason == "ttl 0"


def test_parse_cache_control_ignores_unknown_directives() -> None:
    parsed = parse_cache_control('public, max-age="15", must-revalidate, max-age=bogus')
    assert parsed.max_age == 15
    assert not parsed.no_cache and not parsed.no_store
    assert parse_cache_control(None) == parse_cache_control("")


def test_global_scope_entries_have_no_owner() -> None:
    cache = ResponseCache(MemoryCacheBackend(), CacheSettings(scope="global"))
    decision = cache.key_for(request(), "acme")
    assert decision.owner is None
    assert decision.key is not None and decision.key.startswith("global:")


# -- serving -------------------------------------------------------------------------------


async def test_second_identical_request_is_a_hit(cache: ResponseCache) -> None:
    upstream = FakeUpstream(delay=0)
    first = await serve(cache, upstream)
    second = await serve(cache, upstream)
    assert first == ("MISS", completion("answer #1"))
    assert second == ("HIT", completion("answer #1"))
    assert upstream.calls == 1


async def test_client_scope_never_crosses_clients(harness: Harness) -> None:
    cache = ResponseCache(harness.backend)
    upstream = FakeUpstream(delay=0)

    assert (await serve(cache, upstream, client_id="client-a"))[0] == "MISS"
    status, body = await serve(cache, upstream, client_id="client-b")

    assert status == "MISS"
    assert body == completion("answer #2")
    assert upstream.calls == 2
    entries = await cache.list_entries()
    assert {e.client_id for e in entries} == {"client-a", "client-b"}


async def test_global_scope_is_shared_between_clients(harness: Harness) -> None:
    cache = ResponseCache(harness.backend, CacheSettings(scope="global"))
    upstream = FakeUpstream(delay=0)

    await serve(cache, upstream, client_id="client-a")
    status, body = await serve(cache, upstream, client_id="client-b")

    assert (status, body) == ("HIT", completion("answer #1"))
    [info] = await cache.list_entries()
    assert info.client_id is None


async def test_no_cache_goes_upstream_and_refreshes_the_entry(cache: ResponseCache) -> None:
    upstream = FakeUpstream(delay=0)
    await serve(cache, upstream)

    assert (await serve(cache, upstream, cache_control="no-cache"))[0] == "MISS"
    assert await serve(cache, upstream) == ("HIT", completion("answer #2"))


async def test_no_store_neither_reads_nor_writes(cache: ResponseCache) -> None:
    upstream = FakeUpstream(delay=0)
    await serve(cache, upstream, cache_control="no-store")
    assert await cache.list_entries() == []
    await serve(cache, upstream)
    assert (await serve(cache, upstream, cache_control="no-store"))[0] == "BYPASS"


async def test_uncacheable_request_goes_upstream_every_time(cache: ResponseCache) -> None:
    upstream = FakeUpstream(delay=0)
    for _ in range(3):
        assert (await serve(cache, upstream, req=request(temperature=2)))[0] == "BYPASS"
    assert upstream.calls == 3


# -- coalescing ----------------------------------------------------------------------------


async def test_fifty_identical_requests_make_one_upstream_call(harness: Harness) -> None:
    cache = ResponseCache(harness.backend)
    upstream = FakeUpstream(delay=0.2)

    results = await asyncio.wait_for(
        asyncio.gather(*(serve(cache, upstream) for _ in range(50))), timeout=5
    )

    assert upstream.calls == 1
    statuses = [status for status, _ in results]
    assert statuses.count("MISS") == 1
    assert statuses.count("HIT") == 49
    assert all(body == completion("answer #1") for _, body in results)
    [info] = await cache.list_entries()
    assert info.hits == 49
    assert info.saved_usd == Decimal("0.002") * 49


async def test_coalesced_hits_get_private_copies(cache: ResponseCache) -> None:
    upstream = FakeUpstream(delay=0.05)
    results = await asyncio.gather(*(serve(cache, upstream) for _ in range(3)))
    bodies = [body for _, body in results]
    bodies[1]["choices"][0]["message"]["content"] = "mutated"
    assert bodies[2]["choices"][0]["message"]["content"] == "answer #1"


async def test_leader_failure_releases_waiters(harness: Harness) -> None:
    cache = ResponseCache(harness.backend)
    upstream = FakeUpstream(delay=0.1, fail_first=1)

    results = await asyncio.wait_for(
        asyncio.gather(*(serve(cache, upstream) for _ in range(50)), return_exceptions=True),
        timeout=5,
    )

    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    # Every waiter went upstream on its own: no hang, no error inherited from the leader.
    assert upstream.calls == 50
    assert all(r[0] == "MISS" for r in results if not isinstance(r, BaseException))
    assert not cache._inflight


async def test_leader_cancellation_releases_waiters(cache: ResponseCache) -> None:
    upstream = FakeUpstream(delay=0.05)
    upstream.hang = True
    leader = asyncio.create_task(serve(cache, upstream))
    await asyncio.sleep(0.01)
    waiters = [asyncio.create_task(serve(cache, upstream)) for _ in range(5)]
    await asyncio.sleep(0.01)

    leader.cancel()
    results = await asyncio.wait_for(asyncio.gather(*waiters), timeout=5)

    assert [status for status, _ in results] == ["MISS"] * 5
    assert leader.cancelled()


async def test_cancelled_waiter_does_not_disturb_the_others(cache: ResponseCache) -> None:
    upstream = FakeUpstream(delay=0.1)
    tasks = [asyncio.create_task(serve(cache, upstream)) for _ in range(4)]
    await asyncio.sleep(0.02)

    tasks[1].cancel()
    done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=5)

    assert isinstance(done[1], asyncio.CancelledError)
    assert [done[i][0] for i in (0, 2, 3)] == ["MISS", "HIT", "HIT"]
    assert upstream.calls == 1


async def test_hung_leader_does_not_hang_waiters() -> None:
    cache = ResponseCache(MemoryCacheBackend(), CacheSettings(coalesce_timeout_seconds=0.2))
    upstream = FakeUpstream(delay=0)
    upstream.hang = True
    leader = asyncio.create_task(serve(cache, upstream))
    await asyncio.sleep(0.01)

    status, body = await asyncio.wait_for(serve(cache, upstream), timeout=2)

    assert (status, body) == ("MISS", completion("answer #2"))
    upstream.release.set()
    assert (await leader)[0] == "MISS"


async def test_leader_that_does_not_fill_releases_waiters(cache: ResponseCache) -> None:
    """A cut stream: the leader returns without calling ``fill``."""
    decision = cache.key_for(request(), "acme")
    upstream = FakeUpstream(delay=0)

    async def cut_leader() -> None:
        async with cache.coalesce(decision) as slot:
            assert slot.leader
            await asyncio.sleep(0.05)

    leader = asyncio.create_task(cut_leader())
    await asyncio.sleep(0.01)
    status, _ = await asyncio.wait_for(serve(cache, upstream), timeout=2)
    await leader

    assert status == "MISS"
    assert upstream.calls == 1


async def test_no_cache_requests_are_not_coalesced(cache: ResponseCache) -> None:
    upstream = FakeUpstream(delay=0.05)
    results = await asyncio.gather(
        *(serve(cache, upstream, cache_control="no-cache") for _ in range(3))
    )
    assert [s for s, _ in results] == ["MISS"] * 3
    assert upstream.calls == 3


async def test_coalesce_refuses_a_bypass_decision(cache: ResponseCache) -> None:
    decision = cache.key_for(request(), "acme", cache_control="no-store")
    with pytest.raises(ValueError):
        async with cache.coalesce(decision):
            pass


# -- backend failure -----------------------------------------------------------------------


class BrokenBackend(CacheBackend):
    """Every call fails the way an unreachable Redis does."""

    async def get(self, key: str) -> CachedEntry | None:
        raise CacheUnavailable("down")

    async def set(self, key: str, entry: CachedEntry, ttl_seconds: int) -> None:
        raise CacheUnavailable("down")

    async def delete(self, key: str) -> bool:
        raise CacheUnavailable("down")

    async def list_entries(self, query: EntryQuery = EntryQuery()) -> list[EntryInfo]:
        raise CacheUnavailable("down")

    async def invalidate(self, *, client_id: str | None = None, model: str | None = None) -> int:
        raise CacheUnavailable("down")


async def test_backend_outage_is_served_as_misses(caplog: pytest.LogCaptureFixture) -> None:
    cache = ResponseCache(BrokenBackend())
    upstream = FakeUpstream(delay=0)

    assert (await serve(cache, upstream))[0] == "MISS"
    assert (await serve(cache, upstream))[0] == "MISS"
    assert upstream.calls == 2
    assert "cache lookup failed" in caplog.text
    assert "cache store failed" in caplog.text


# -- management ----------------------------------------------------------------------------


async def test_management(harness: Harness) -> None:
    cache = ResponseCache(harness.backend)
    await harness.backend.set("client:a:1", entry(client_id="a", model_id="m1"), 60)
    await harness.backend.set("client:a:2", entry(client_id="a", model_id="m2"), 60)
    await harness.backend.set("client:b:1", entry(client_id="b", model_id="m1"), 60)
    await harness.backend.set("client:c:1", entry(client_id="c", model_id="m3"), 60)

    assert len(await cache.list_entries()) == 4
    assert len(await cache.list_entries(EntryQuery(client_id="a"))) == 2
    assert await cache.invalidate_entry("client:a:1") is True
    assert await cache.invalidate_entry("client:a:1") is False
    assert await cache.invalidate(model="m1") == 1
    assert await cache.invalidate(client_id="a") == 1
    with pytest.raises(ValueError):
        await cache.invalidate()
    assert await cache.invalidate_all() == 1
    assert await cache.list_entries() == []


async def test_management_on_a_broken_backend_is_a_storage_error() -> None:
    cache = ResponseCache(BrokenBackend())
    for call in (
        cache.list_entries(),
        cache.invalidate_entry("k"),
        cache.invalidate(client_id="a"),
        cache.invalidate_all(),
    ):
        with pytest.raises(StorageError):
            await call
