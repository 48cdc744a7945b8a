"""The limiter's rules on a fake clock, for both implementations: the in-process one and
the Redis Lua script (driven with the same ``now``, so both must agree exactly)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from ai_gateway.ratelimit.limiter import (
    Limiter,
    LimitRequest,
    LocalLimiter,
    Ticket,
    Verdict,
    rate_headers,
    window_of,
)
from ai_gateway.ratelimit.rules import Limits, ProviderCeiling
from ai_gateway.ratelimit.shared import RedisLimiter
from tests.conftest import REDIS_URL, require_service

T0 = 1_800_000_000.0  # on a minute boundary


@pytest_asyncio.fixture(params=["local", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[Limiter]:
    if request.param == "local":
        yield LocalLimiter()
        return
    require_service("Redis", "127.0.0.1", 6379)
    client = aioredis.Redis.from_url(REDIS_URL)
    prefix = f"test:rl:{uuid.uuid4().hex}:"
    shared = RedisLimiter(client, prefix=prefix)
    try:
        yield shared
    finally:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await shared.close()


def _request(
    client: str = "acme",
    *,
    rpm: int | None = None,
    tpm: int | None = None,
    concurrency: int | None = None,
    cost: int = 10,
    provider: str = "openai",
    ceiling: ProviderCeiling | None = None,
    lease: float = 300.0,
) -> LimitRequest:
    return LimitRequest(
        client, Limits(rpm, tpm, concurrency), provider, ceiling or ProviderCeiling(), cost, lease
    )


async def _take(limiter: Limiter, request: LimitRequest, now: float) -> tuple[Verdict, Ticket]:
    ticket_id = uuid.uuid4().hex
    verdict = await limiter.acquire(request, ticket_id, now)
    return verdict, Ticket(ticket_id, request, window_of(now), verdict)


async def test_rpm_bucket_admits_the_minute_then_refills_one_per_interval(
    limiter: Limiter,
) -> None:
    request = _request(rpm=3)
    results = [(await _take(limiter, request, T0))[0] for _ in range(4)]
    assert [v.admitted for v in results] == [True, True, True, False]
    refused = results[-1]
    assert refused.reason == "requests"
    assert refused.retry_after == pytest.approx(20.0)  # 60 s / 3 requests
    assert rate_headers(request.limits, results[0]) == {
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "2",
        "x-ratelimit-reset-requests": "20s",
    }
    assert (await _take(limiter, request, T0 + 19.9))[0].admitted is False
    again = (await _take(limiter, request, T0 + 20.0))[0]
    assert again.admitted and rate_headers(request.limits, again)["x-ratelimit-reset-requests"] == (
        "1m0s"
    )


async def test_tpm_admits_on_the_estimate_and_finish_corrects_it(limiter: Limiter) -> None:
    request = _request(tpm=1000, cost=600)
    first, ticket = await _take(limiter, request, T0)
    assert first.admitted and first.tokens_left == pytest.approx(400)
    refused = (await _take(limiter, request, T0))[0]
    assert (refused.admitted, refused.reason) == (False, "tokens")
    assert refused.retry_after == pytest.approx(12.0)  # 200 tokens at 1000/min
    # The call really used 100 tokens: 500 come back, and the next call fits.
    await limiter.finish(ticket, tokens=100, served_by="openai", now=T0)
    assert (await _take(limiter, request, T0))[0].admitted


async def test_an_estimate_above_the_whole_tpm_needs_a_full_bucket(limiter: Limiter) -> None:
    request = _request(tpm=1000, cost=5000)
    first = (await _take(limiter, request, T0))[0]
    assert first.admitted and first.tokens_left == pytest.approx(-4000)
    # In debt: the bucket is full again only after 5 minutes.
    assert rate_headers(request.limits, first)["x-ratelimit-reset-tokens"] == "5m0s"
    assert not (await _take(limiter, request, T0 + 239))[0].admitted
    assert (await _take(limiter, request, T0 + 300))[0].admitted


async def test_concurrency_slots_are_freed_by_finish_or_by_their_lease(limiter: Limiter) -> None:
    request = _request(concurrency=2, lease=30)
    (v1, t1), (v2, _t2) = await _take(limiter, request, T0), await _take(limiter, request, T0)
    assert v1.admitted and v2.admitted
    third = (await _take(limiter, request, T0))[0]
    assert (third.admitted, third.reason) == (False, "concurrency")
    await limiter.finish(t1, tokens=0, served_by=None, now=T0 + 1)
    assert (await _take(limiter, request, T0 + 1))[0].admitted
    assert not (await _take(limiter, request, T0 + 2))[0].admitted
    # A replica died holding both slots: they expire with their lease.
    assert (await _take(limiter, request, T0 + 31))[0].admitted


async def test_a_refused_call_takes_nothing(limiter: Limiter) -> None:
    request = _request(rpm=10, tpm=100, concurrency=1, cost=50)
    assert (await _take(limiter, request, T0))[0].admitted
    # Refused on concurrency: its request and tokens must not be taken.
    refused = (await _take(limiter, request, T0))[0]
    assert refused.reason == "concurrency"
    assert refused.requests_left == pytest.approx(9) and refused.tokens_left == pytest.approx(50)


async def test_clients_do_not_share_buckets(limiter: Limiter) -> None:
    assert (await _take(limiter, _request("a", rpm=1), T0))[0].admitted
    assert not (await _take(limiter, _request("a", rpm=1), T0))[0].admitted
    assert (await _take(limiter, _request("b", rpm=1), T0))[0].admitted


async def test_provider_ceiling_is_shared_fairly_when_contended(limiter: Limiter) -> None:
    ceiling = ProviderCeiling(rpm=10)
    heavy, light = _request("heavy", ceiling=ceiling), _request("light", ceiling=ceiling)
    # Alone on the key, a tenant's equal share is the whole key: it gets all 10.
    heavy_alone = [(await _take(limiter, heavy, T0))[0].admitted for _ in range(11)]
    assert heavy_alone.count(True) == 10 and heavy_alone[-1] is False
    # Two minutes on (nothing left in the sliding window): heavy takes 8 (up to 80 %),
    # then light arrives. Above 80 % each is held to 10 / 2 = 5: heavy (8) is refused,
    # light gets the rest of the key.
    t1 = T0 + 120
    assert all([(await _take(limiter, heavy, t1))[0].admitted for _ in range(8)])
    light_calls = [(await _take(limiter, light, t1))[0] for _ in range(3)]
    assert [v.admitted for v in light_calls] == [True, True, False]  # the key is full at 10
    refused = (await _take(limiter, heavy, t1))[0]
    assert (refused.admitted, refused.reason) == (False, "provider_requests")
    assert refused.retry_after == pytest.approx(60.0)


async def test_provider_ceiling_slides_across_the_minute_boundary(limiter: Limiter) -> None:
    request = _request(ceiling=ProviderCeiling(rpm=10))
    # A burst at the end of a minute...
    assert all([(await _take(limiter, request, T0 + 55))[0].admitted for _ in range(10)])
    # ...still counts just after the boundary (a fixed window would allow 10 more).
    assert not (await _take(limiter, request, T0 + 61))[0].admitted
    # Half-way through the next minute half of it has slid out: 5 more calls fit.
    late = [(await _take(limiter, request, T0 + 90))[0].admitted for _ in range(6)]
    assert late == [True] * 5 + [False]


async def test_heavy_tenant_is_held_to_its_share_on_a_contended_key(limiter: Limiter) -> None:
    ceiling = ProviderCeiling(tpm=1000)
    a, b = _request("a", cost=100, ceiling=ceiling), _request("b", cost=100, ceiling=ceiling)
    assert (await _take(limiter, b, T0))[0].admitted  # b is active on the key
    admitted = [(await _take(limiter, a, T0))[0].admitted for _ in range(9)]
    # Up to 800 tokens (80 %) anyone is admitted; past it, a (already 700) is over
    # its share of 1000 / 2, so it stops at 7 while b still finds room.
    assert admitted.count(True) == 7
    assert (await _take(limiter, b, T0))[0].admitted
    refusal = (await _take(limiter, a, T0))[0]
    assert refusal.reason == "provider_tokens"


async def test_a_fallback_moves_the_charge_to_the_key_that_served(limiter: Limiter) -> None:
    openai = ProviderCeiling(rpm=1)
    request = _request(ceiling=openai)
    verdict, ticket = await _take(limiter, request, T0)
    assert verdict.admitted
    assert not (await _take(limiter, request, T0))[0].admitted
    await limiter.finish(ticket, tokens=5, served_by="groq", now=T0)
    # The call went to groq in the end: openai's window has room again.
    assert (await _take(limiter, request, T0))[0].admitted
